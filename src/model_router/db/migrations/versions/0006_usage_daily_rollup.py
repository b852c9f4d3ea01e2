"""usage_daily rollup

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26 22:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from model_router.db.rollup import rebuild_statement
from model_router.db.types import Money

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "usage_daily",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("model", sa.String(length=200), nullable=False),
        sa.Column("provider", sa.String(length=100), nullable=False),
        sa.Column("requests", sa.Integer(), nullable=False),
        sa.Column("successful", sa.Integer(), nullable=False),
        sa.Column("input_tokens", sa.BigInteger(), nullable=False),
        sa.Column("output_tokens", sa.BigInteger(), nullable=False),
        sa.Column("total_tokens", sa.BigInteger(), nullable=False),
        sa.Column("cached_input_tokens", sa.BigInteger(), nullable=False),
        sa.Column("reasoning_tokens", sa.BigInteger(), nullable=False),
        sa.Column("cost_usd", Money(), nullable=False),
        sa.Column("latency_sum", sa.BigInteger(), nullable=False),
        sa.Column("latency_count", sa.Integer(), nullable=False),
        sa.Column("unknown_cost", sa.Integer(), nullable=False),
        sa.Column("cache_lookups", sa.Integer(), nullable=False),
        sa.Column("cache_hits", sa.Integer(), nullable=False),
        sa.Column("cache_saved_usd", Money(), nullable=False),
        sa.Column("routed", sa.Integer(), nullable=False),
        sa.Column("routed_default_usd", Money(), nullable=False),
        sa.Column("routed_actual_usd", Money(), nullable=False),
        sa.PrimaryKeyConstraint("day", "user_id", "model", "provider"),
    )
    # Rows already in the request log are summed once, here.
    op.execute(rebuild_statement(op.get_bind().dialect.name))


def downgrade() -> None:
    op.drop_table("usage_daily")
