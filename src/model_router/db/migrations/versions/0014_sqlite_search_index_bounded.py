"""SQLite's search index bounded like PostgreSQL's

`requests_fts` (migration 0011) indexed every trigram of the whole prompt: a
50 KB agent prompt wrote some 50,000 entries on every insert, in the request
log's write transactions. It now indexes `search_text` (db/search.py: the
prompt's first and last 2,000 characters, what a search reads), made again
from the rows already there. (Without positions, `detail=none`, an insert
cost 12% less but a search for a common word at 1,000,000 rows took 179 ms
instead of 101: its `LIKE` reads every candidate's prompt. Not kept.)

PostgreSQL: nothing (migration 0013 bounded its index).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03 10:45:00
"""

from collections.abc import Sequence

from alembic import op
from sqlalchemy.engine import Connection

from model_router.db import search

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TRIGGERS = ("insert", "delete", "update")
BOUNDED_NEW = search.sqlite_search_text("new.prompt_text")
BOUNDED_OLD = search.sqlite_search_text("old.prompt_text")


def _triggers(new: str, old: str) -> list[str]:
    """The triggers that keep the index: `new` and `old` are what they index of a row."""
    remove = (
        "INSERT INTO requests_fts (requests_fts, rowid, prompt_text) "
        f"VALUES ('delete', old.rowid, {old});"
    )
    add = f"INSERT INTO requests_fts (rowid, prompt_text) VALUES (new.rowid, {new});"
    return [
        f"CREATE TRIGGER requests_fts_insert AFTER INSERT ON requests BEGIN {add} END",
        f"CREATE TRIGGER requests_fts_delete AFTER DELETE ON requests BEGIN {remove} END",
        "CREATE TRIGGER requests_fts_update AFTER UPDATE OF prompt_text ON requests "
        f"BEGIN {remove} {add} END",
    ]


def _drop(bind: Connection) -> None:
    for name in TRIGGERS:
        bind.exec_driver_sql(f"DROP TRIGGER IF EXISTS requests_fts_{name}")
    bind.exec_driver_sql("DROP TABLE IF EXISTS requests_fts")


def _make(bind: Connection, *, bounded: bool) -> None:
    """The index and its triggers: 0014's (`bounded`) or 0011's."""
    _drop(bind)
    bind.exec_driver_sql(
        "CREATE VIRTUAL TABLE requests_fts USING fts5(prompt_text, content='requests', "
        "content_rowid='rowid', tokenize='trigram')"
    )
    if bounded:
        bind.exec_driver_sql(
            "INSERT INTO requests_fts (rowid, prompt_text) SELECT rowid, "
            f"{search.sqlite_search_text('prompt_text')} FROM requests "
            "WHERE prompt_text IS NOT NULL"
        )
        triggers = _triggers(BOUNDED_NEW, BOUNDED_OLD)
    else:
        bind.exec_driver_sql("INSERT INTO requests_fts (requests_fts) VALUES ('rebuild')")
        triggers = _triggers("new.prompt_text", "old.prompt_text")
    for trigger in triggers:
        bind.exec_driver_sql(trigger)


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        _make(bind, bounded=True)


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        _make(bind, bounded=False)
