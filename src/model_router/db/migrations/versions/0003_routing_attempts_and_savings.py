"""routing attempts and savings

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 22:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from model_router.db.types import Money

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("requests", schema=None) as batch_op:
        batch_op.add_column(sa.Column("requested_model", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("route_reason", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("attempts", sa.JSON(none_as_null=True), nullable=True))
        batch_op.add_column(sa.Column("estimated_cost_usd", Money(), nullable=True))
        batch_op.add_column(sa.Column("default_cost_usd", Money(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("requests", schema=None) as batch_op:
        batch_op.drop_column("default_cost_usd")
        batch_op.drop_column("estimated_cost_usd")
        batch_op.drop_column("attempts")
        batch_op.drop_column("route_reason")
        batch_op.drop_column("requested_model")
