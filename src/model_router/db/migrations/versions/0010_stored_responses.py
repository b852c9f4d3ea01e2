"""stored_responses: the Responses API's conversation state

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 21:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from model_router.db.types import UTCDateTime

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "stored_responses",
        sa.Column("id", sa.String(length=80), nullable=False),
        sa.Column("key_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("model", sa.String(length=200), nullable=False),
        sa.Column("response", sa.JSON(none_as_null=True), nullable=False),
        sa.Column("input_items", sa.JSON(none_as_null=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_stored_responses_created_at", "stored_responses", ["created_at"])
    op.create_index("ix_stored_responses_key_id", "stored_responses", ["key_id"])


def downgrade() -> None:
    op.drop_index("ix_stored_responses_key_id", table_name="stored_responses")
    op.drop_index("ix_stored_responses_created_at", table_name="stored_responses")
    op.drop_table("stored_responses")
