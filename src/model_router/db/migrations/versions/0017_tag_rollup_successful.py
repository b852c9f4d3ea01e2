"""The tag rollup counts successful rows too

`requests?tag=env=staging&status=error` counted its rows one by one, up to
10,000: 3.6 s at 10,000,000 rows, where errors are a twentieth of a tag's
rows. With `successful` beside `requests` in `usage_daily_tags` (as in
`usage_daily`), a tag with a status is counted from the rollup. The days from
the log's oldest row on are summed again; earlier days (rows retention
removed) keep 0, and no count reads them.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-03 13:10:00
"""

from collections.abc import Sequence
from datetime import UTC

import sqlalchemy as sa
from alembic import op

from model_router.db import tag_rollup
from model_router.db.models import Request

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "usage_daily_tags",
        sa.Column("successful", sa.Integer(), nullable=False, server_default="0"),
    )
    bind = op.get_bind()
    oldest = bind.execute(sa.select(sa.func.min(Request.created_at))).scalar()
    if oldest is None:
        return
    day = oldest.astimezone(UTC).date() if oldest.tzinfo else oldest.date()
    bind.execute(sa.delete(tag_rollup.TABLE).where(tag_rollup.TABLE.c.day >= day))
    dialect = bind.dialect.name
    bind.execute(sa.text(tag_rollup.rebuild_sql(dialect)), tag_rollup.since(dialect, day))


def downgrade() -> None:
    with op.batch_alter_table("usage_daily_tags") as table:
        table.drop_column("successful")
