"""routing pools: learned routing's arms and decisions

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 21:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from model_router.db.types import Money, UTCDateTime

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "routing_arms",
        sa.Column("pool", sa.String(length=200), nullable=False),
        sa.Column("task_class", sa.String(length=300), nullable=False),
        sa.Column("model", sa.String(length=200), nullable=False),
        sa.Column("alpha", sa.Float(), nullable=False),
        sa.Column("beta", sa.Float(), nullable=False),
        sa.Column("observations", sa.Integer(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("pool", "task_class", "model"),
    )
    op.create_table(
        "routing_decisions",
        sa.Column("request_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("pool", sa.String(length=200), nullable=False),
        sa.Column("task_class", sa.String(length=300), nullable=False),
        sa.Column("features", sa.JSON(none_as_null=True), nullable=True),
        sa.Column("chosen_model", sa.String(length=200), nullable=False),
        sa.Column("answered_by", sa.String(length=200), nullable=True),
        sa.Column("probability", sa.Float(), nullable=False),
        sa.Column("default_model", sa.String(length=200), nullable=False),
        sa.Column("default_probability", sa.Float(), nullable=False),
        sa.Column("explored", sa.Boolean(), nullable=False),
        sa.Column("candidates", sa.JSON(none_as_null=True), nullable=True),
        sa.Column("estimated_cost_usd", Money(), nullable=False),
        sa.Column("default_cost_usd", Money(), nullable=True),
        sa.Column("cost_usd", Money(), nullable=True),
        sa.Column("extra_spend_usd", Money(), nullable=False),
        sa.Column("quality", sa.Float(), nullable=True),
        sa.Column("quality_source", sa.String(length=20), nullable=False),
        sa.Column("key_id", sa.Uuid(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("request_id"),
    )
    op.create_index(
        "ix_routing_decisions_pool_created", "routing_decisions", ["pool", "created_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_routing_decisions_pool_created", table_name="routing_decisions")
    op.drop_table("routing_decisions")
    op.drop_table("routing_arms")
