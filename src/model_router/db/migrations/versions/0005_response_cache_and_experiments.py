"""response cache and experiments

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26 22:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import model_router.db.types

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "experiments",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("target", sa.String(length=200), nullable=False),
        sa.Column("variants", sa.JSON(none_as_null=True), nullable=False),
        sa.Column("traffic_percent", sa.Float(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("start_at", model_router.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("stop_at", model_router.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", model_router.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", model_router.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    with op.batch_alter_table("experiments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_experiments_target"), ["target"], unique=False)

    op.create_table(
        "feedback",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("request_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("experiment_id", sa.Uuid(), nullable=True),
        sa.Column("variant", sa.String(length=100), nullable=True),
        sa.Column("created_at", model_router.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("request_id"),
    )
    with op.batch_alter_table("feedback", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_feedback_user_id"), ["user_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_feedback_experiment_id"), ["experiment_id"], unique=False
        )

    with op.batch_alter_table("requests", schema=None) as batch_op:
        batch_op.add_column(sa.Column("cache_status", sa.String(length=20), nullable=True))
        batch_op.add_column(
            sa.Column("saved_cost_usd", model_router.db.types.Money(), nullable=True)
        )
        batch_op.add_column(sa.Column("experiment_id", sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column("variant", sa.String(length=100), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_requests_experiment_id"), ["experiment_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_requests_experiment_id"))
        batch_op.drop_column("variant")
        batch_op.drop_column("experiment_id")
        batch_op.drop_column("saved_cost_usd")
        batch_op.drop_column("cache_status")
    with op.batch_alter_table("feedback", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_feedback_experiment_id"))
        batch_op.drop_index(batch_op.f("ix_feedback_user_id"))
    op.drop_table("feedback")
    with op.batch_alter_table("experiments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_experiments_target"))
    op.drop_table("experiments")
