"""request log at scale: monthly partitions (PostgreSQL), FTS5 search (SQLite)

PostgreSQL: `requests` becomes a table partitioned by range of `created_at`,
monthly (db/partitions.py), with primary key (id, created_at). An existing
table is converted here: renamed aside, a partitioned table made like it (every
column it has, whatever earlier migrations added), its months and a default
partition made, the rows moved, the old table dropped, its indexes and foreign
keys made again on the new one. This holds the table locked for as long as the
copy takes (about a minute per few million rows).

SQLite: an FTS5 trigram index of `prompt_text` (`requests_fts`, external
content, kept by triggers), which the request log's search reads first.

Both: an index on (model, status, created_at) for the model and status
filters, and the sorts' indexes by cost and latency (`sort_indexes`).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 21:00:00
"""

from collections.abc import Sequence
from datetime import UTC, datetime

from alembic import op
from sqlalchemy import Connection

from model_router.db import partitions

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD = "requests_unpartitioned"
MODEL_STATUS = "ix_requests_model_status_created"
USAGE_BY_KEY = "ix_usage_daily_user_day"

FTS_TRIGGERS = (
    """CREATE TRIGGER requests_fts_insert AFTER INSERT ON requests BEGIN
        INSERT INTO requests_fts (rowid, prompt_text) VALUES (new.rowid, new.prompt_text);
    END""",
    """CREATE TRIGGER requests_fts_delete AFTER DELETE ON requests BEGIN
        INSERT INTO requests_fts (requests_fts, rowid, prompt_text)
        VALUES ('delete', old.rowid, old.prompt_text);
    END""",
    """CREATE TRIGGER requests_fts_update AFTER UPDATE OF prompt_text ON requests BEGIN
        INSERT INTO requests_fts (requests_fts, rowid, prompt_text)
        VALUES ('delete', old.rowid, old.prompt_text);
        INSERT INTO requests_fts (rowid, prompt_text) VALUES (new.rowid, new.prompt_text);
    END""",
)


def _rebuild(bind: Connection, *, partitioned: bool) -> None:
    """Make `requests` again, partitioned or plain, with the same columns, rows,
    indexes and foreign keys (renamed aside, made like it, rows moved, swapped)."""
    indexes = [
        str(definition)
        for (definition,) in bind.exec_driver_sql(
            "SELECT pg_get_indexdef(i.indexrelid) FROM pg_index i "
            "WHERE i.indrelid = 'requests'::regclass AND NOT i.indisprimary"
        )
    ]
    keys = list(
        bind.exec_driver_sql(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = 'requests'::regclass AND contype = 'f'"
        )
    )
    pkey = bind.exec_driver_sql(
        "SELECT conname FROM pg_constraint WHERE conrelid = 'requests'::regclass AND contype = 'p'"
    ).scalar()
    bind.exec_driver_sql(f"ALTER TABLE requests RENAME TO {OLD}")
    if pkey:
        bind.exec_driver_sql(f"ALTER TABLE {OLD} RENAME CONSTRAINT {pkey} TO {OLD}_pkey")
    by_time = " PARTITION BY RANGE (created_at)" if partitioned else ""
    bind.exec_driver_sql(
        f"CREATE TABLE requests (LIKE {OLD} INCLUDING DEFAULTS INCLUDING STORAGE){by_time}"
    )
    if partitioned:
        bind.exec_driver_sql("ALTER TABLE requests ALTER COLUMN created_at SET NOT NULL")
    key = "id, created_at" if partitioned else "id"
    bind.exec_driver_sql(f"ALTER TABLE requests ADD CONSTRAINT requests_pkey PRIMARY KEY ({key})")
    if partitioned:
        now = datetime.now(UTC)
        first, last = bind.exec_driver_sql(
            f"SELECT min(created_at), max(created_at) FROM {OLD}"
        ).one()
        partitions.ensure(bind, min(first or now, now), max(last or now, now))
        partitions.ensure_ahead(bind, now)
    bind.exec_driver_sql(f"INSERT INTO requests SELECT * FROM {OLD}")
    bind.exec_driver_sql(f"DROP TABLE {OLD} CASCADE")
    for definition in indexes:
        for on in (f" ON public.{OLD} ", f" ON ONLY public.{OLD} "):
            definition = definition.replace(on, " ON public.requests ")
        bind.exec_driver_sql(definition)
    for name, definition in keys:
        bind.exec_driver_sql(f"ALTER TABLE requests ADD CONSTRAINT {name} {definition}")
    bind.exec_driver_sql("ANALYZE requests")


def _fts(bind: Connection) -> None:
    bind.exec_driver_sql(
        "CREATE VIRTUAL TABLE requests_fts USING fts5("
        "prompt_text, content='requests', content_rowid='rowid', tokenize='trigram')"
    )
    for trigger in FTS_TRIGGERS:
        bind.exec_driver_sql(trigger)
    bind.exec_driver_sql("INSERT INTO requests_fts (requests_fts) VALUES ('rebuild')")


def sort_indexes(dialect: str) -> dict[str, str]:
    """name -> CREATE INDEX: the request list's sorts by cost and latency, in the
    list's exact order (rows without a value last, ties newest first), so a page
    reads 20 index entries instead of sorting the table. SQLite reads its DESC
    index backwards for the ascending sort; PostgreSQL needs one per direction."""
    statements = {}
    for column, short in (("total_cost_usd", "cost"), ("latency_ms", "latency")):
        directions = ("desc", "asc") if dialect == "postgresql" else ("desc",)
        for direction in directions:
            order = f"{column} {direction.upper()}"
            if dialect == "postgresql":
                order += " NULLS LAST"
            name = f"ix_requests_{short}_{direction}"
            statements[name] = (
                f"CREATE INDEX {name} ON requests ({order}, created_at DESC, id DESC)"
            )
    return statements


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        _rebuild(bind, partitioned=True)
    else:
        _fts(bind)
    op.create_index(MODEL_STATUS, "requests", ["model", "status", "created_at"])
    for statement in sort_indexes(bind.dialect.name).values():
        bind.exec_driver_sql(statement)
    # One key's usage: its days, not every key's (the primary key leads with the day).
    op.create_index(USAGE_BY_KEY, "usage_daily", ["user_id", "day"])


def downgrade() -> None:
    bind = op.get_bind()
    op.drop_index(USAGE_BY_KEY, table_name="usage_daily")
    op.drop_index(MODEL_STATUS, table_name="requests")
    for name in sort_indexes(bind.dialect.name):
        op.drop_index(name, table_name="requests")
    if bind.dialect.name == "postgresql":
        _rebuild(bind, partitioned=False)
        return
    for name in ("insert", "delete", "update"):
        bind.exec_driver_sql(f"DROP TRIGGER requests_fts_{name}")
    bind.exec_driver_sql("DROP TABLE requests_fts")
