"""request log at scale, part 3: a bounded search index, the tag rollup, and
the indexes of one key's filters and sorts

PostgreSQL: the trigram index of the whole prompt (`ix_requests_prompt_trgm`,
migration 0002) gives way to one of `request_search_text(prompt_text)`, its
first and last 2,000 characters (db/search.py): an insert no longer indexes
every trigram of a 50 KB agent prompt.

Both: `usage_daily_tags` (db/tag_rollup.py), filled from the rows already
there, and an index on (user_id, status, created_at) for one key's status
filter. SQLite also gets one key's sorts by cost and latency (PostgreSQL's
sort indexes serve one key well enough, filtered).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03 07:00:00
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from model_router.db import search, tag_rollup
from model_router.db.types import Money

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

USER_STATUS = "ix_requests_user_status_created"
OLD_TRGM = "ix_requests_prompt_trgm"
NEW_TRGM = "ix_requests_search_trgm"
# No index serves one key's sorts by cost or latency on SQLite: two such indexes
# cost the request log's writer a fifth of its rows per second (measured 7,400
# -> 5,500 rows/s), which every request pays, for a sort an admin runs now and then.


def _has_trigrams(bind: sa.Connection) -> bool:
    found = bind.exec_driver_sql("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")
    return found.scalar() is not None


def _tag_rollup(bind: sa.Connection) -> None:
    op.create_table(
        "usage_daily_tags",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("value", sa.String(length=200), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("requests", sa.Integer(), nullable=False),
        sa.Column("total_tokens", sa.BigInteger(), nullable=False),
        sa.Column("cost_usd", Money(), nullable=False),
        sa.Column("unknown_cost", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day", "name", "value", "user_id"),
    )
    since = datetime(1970, 1, 1, tzinfo=UTC)
    value = since if bind.dialect.name == "postgresql" else "1970-01-01 00:00:00"
    rebuild = tag_rollup.rebuild_sql(bind.dialect.name, successful=False)  # 0017 adds it
    bind.execute(sa.text(rebuild), {"since": value})


def upgrade() -> None:
    bind = op.get_bind()
    _tag_rollup(bind)
    op.create_index(USER_STATUS, "requests", ["user_id", "status", "created_at"])
    if bind.dialect.name != "postgresql":
        return
    bind.exec_driver_sql(search.PG_FUNCTION)
    if _has_trigrams(bind):
        bind.exec_driver_sql(
            f"CREATE INDEX IF NOT EXISTS {NEW_TRGM} ON requests "
            f"USING gin ({search.PG_FUNCTION_NAME}(prompt_text) gin_trgm_ops)"
        )
    bind.exec_driver_sql(f"DROP INDEX IF EXISTS {OLD_TRGM}")
    bind.exec_driver_sql("ANALYZE requests")


def downgrade() -> None:
    bind = op.get_bind()
    op.drop_index(USER_STATUS, table_name="requests")
    op.drop_table("usage_daily_tags")
    if bind.dialect.name != "postgresql":
        return
    if _has_trigrams(bind):
        bind.exec_driver_sql(
            f"CREATE INDEX IF NOT EXISTS {OLD_TRGM} ON requests "
            "USING gin (prompt_text gin_trgm_ops)"
        )
    bind.exec_driver_sql(f"DROP INDEX IF EXISTS {NEW_TRGM}")
    bind.exec_driver_sql(f"DROP FUNCTION IF EXISTS {search.PG_FUNCTION_NAME}(text)")
