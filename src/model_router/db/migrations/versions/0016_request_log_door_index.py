"""The request list's filter by front door, read by index

`requests?front_door=messages` read every row of the log to find and count
its rows (5 s at 10,000,000 rows on PostgreSQL). An index on (front_door,
created_at) finds them newest first; the list counts them up to 10,000
(db/queries.py). PostgreSQL builds it on every partition.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03 13:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX = "ix_requests_door_created"


def upgrade() -> None:
    op.create_index(INDEX, "requests", ["front_door", "created_at"])


def downgrade() -> None:
    op.drop_index(INDEX, table_name="requests")
