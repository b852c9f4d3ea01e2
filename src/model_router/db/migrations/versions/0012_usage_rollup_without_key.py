"""usage_daily_all: the usage rollup per (day, model, provider), every key summed

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 21:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from model_router.db.rollup import ALL_TABLE
from model_router.db.types import Money

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "usage_daily_all",
        sa.Column("day", sa.Date(), nullable=False),
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
        sa.PrimaryKeyConstraint("day", "model", "provider"),
    )
    # From usage_daily, not the request log: it also holds the days whose rows
    # retention removed, and it is a thousandth of the log's size.
    keyed = sa.table("usage_daily", *(sa.column(c.name) for c in ALL_TABLE.columns))
    columns = [c.name for c in ALL_TABLE.columns]
    sums = [sa.func.sum(keyed.c[name]).label(name) for name in columns[3:]]
    op.execute(
        ALL_TABLE.insert().from_select(
            columns,
            sa.select(keyed.c.day, keyed.c.model, keyed.c.provider, *sums).group_by(
                keyed.c.day, keyed.c.model, keyed.c.provider
            ),
        )
    )


def downgrade() -> None:
    op.drop_table("usage_daily_all")
