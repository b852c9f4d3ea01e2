"""dropped_hints on requests; one-hour cache writes on requests and models

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 21:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from model_router.db.types import Money

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("requests", schema=None) as batch_op:
        batch_op.add_column(sa.Column("dropped_hints", sa.JSON(none_as_null=True), nullable=True))
        batch_op.add_column(
            sa.Column("cache_write_1h_tokens", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(
            sa.Column(
                "cache_write_1h_price_per_1m_tokens", Money(precision=24, scale=12), nullable=True
            )
        )
    with op.batch_alter_table("models", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "cache_write_1h_price_per_1m_tokens", Money(precision=24, scale=12), nullable=True
            )
        )
        batch_op.add_column(
            sa.Column(
                "tier_cache_write_1h_price_per_1m_tokens",
                Money(precision=24, scale=12),
                nullable=True,
            )
        )


def downgrade() -> None:
    # Plain ALTER TABLE ... DROP COLUMN (SQLite 3.35+, PostgreSQL): a batch
    # rebuild of `models` would drop a table that request rows refer to.
    for table, column in (
        ("models", "tier_cache_write_1h_price_per_1m_tokens"),
        ("models", "cache_write_1h_price_per_1m_tokens"),
        ("requests", "cache_write_1h_price_per_1m_tokens"),
        ("requests", "cache_write_1h_tokens"),
        ("requests", "dropped_hints"),
    ):
        op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
