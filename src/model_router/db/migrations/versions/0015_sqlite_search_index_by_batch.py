"""SQLite's search index filled a batch at a time

`requests_fts` was kept by a trigger per inserted row, in the request log's
write transactions: 169 us a row of the benchmark's prompts, against 68 for
one `INSERT ... SELECT` of the batch's rows (db/search.py). The insert trigger
gives way to `search_progress.indexed_to`, the last rowid the index holds,
which the writer moves on in each batch's transaction; the delete and update
triggers now act on indexed rows only, and lower the mark when the newest rows
are deleted. Every row there now is indexed already.

PostgreSQL: nothing.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03 12:00:00
"""

from collections.abc import Sequence

from alembic import op

from model_router.db import search

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TRIGGERS = ("insert", "delete", "update")


def _drop_triggers() -> None:
    for name in TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS requests_fts_{name}")


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        return
    _drop_triggers()
    op.execute(
        f"CREATE TABLE {search.SQLITE_PROGRESS} (id INTEGER PRIMARY KEY CHECK (id = 1), "
        "indexed_to INTEGER NOT NULL)"
    )
    op.execute(
        f"INSERT INTO {search.SQLITE_PROGRESS} (id, indexed_to) "
        "SELECT 1, coalesce(max(rowid), 0) FROM requests"
    )
    for trigger in search.sqlite_triggers():
        op.execute(trigger)


def downgrade() -> None:
    """0014's triggers, after indexing the rows past the mark."""
    if op.get_bind().dialect.name == "postgresql":
        return
    for statement in search.SQLITE_INDEX_NEW:
        op.execute(statement)
    _drop_triggers()
    op.execute(f"DROP TABLE {search.SQLITE_PROGRESS}")
    old = search.sqlite_search_text("old.prompt_text")
    new = search.sqlite_search_text("new.prompt_text")
    remove = (
        "INSERT INTO requests_fts (requests_fts, rowid, prompt_text) "
        f"VALUES ('delete', old.rowid, {old});"
    )
    add = f"INSERT INTO requests_fts (rowid, prompt_text) VALUES (new.rowid, {new});"
    op.execute(f"CREATE TRIGGER requests_fts_insert AFTER INSERT ON requests BEGIN {add} END")
    op.execute(f"CREATE TRIGGER requests_fts_delete AFTER DELETE ON requests BEGIN {remove} END")
    op.execute(
        "CREATE TRIGGER requests_fts_update AFTER UPDATE OF prompt_text ON requests "
        f"BEGIN {remove} {add} END"
    )
