"""What the request log's search reads, and its indexes.

A search looks for its text, literally and case-insensitively, in the prompt's
first and last `EDGE_CHARS` characters (`search_text`): where a person or an
agent's system prompt starts and where the newest message is. A bound keeps
the index cheap to write: a trigram index of whole prompts made every insert
of a 50 KB agent prompt write thousands of index entries.

PostgreSQL: a `pg_trgm` GIN index of `request_search_text(prompt_text)`, an SQL
function (`PG_FUNCTION`, migration 0013) that the query calls too, so the
planner matches the index; `ILIKE` uses it by itself.

SQLite: an FTS5 trigram index of the same bounded text (`requests_fts`,
external content, migration 0014) narrows the rows a search reads; the
literal, case-insensitive `LIKE` beside it still decides, so results are
those of `LIKE` alone. New rows enter the index a batch at a time, not a row
at a time (migration 0015): the writer runs `SQLITE_INDEX_NEW` in each batch's
transaction, indexing every row past `search_progress.indexed_to` with one
`INSERT ... SELECT`. A trigger per row cost 169 us a row of the benchmark's
prompts, the batch 68 (docs/performance.md). A search also reads the rows past
that mark with `LIKE` alone (`fts_match`), so rows stored around the writer
(demo data, another tool) are found before they are indexed. Triggers keep the
index right when an indexed row is deleted or its prompt blanked, and lower
the mark when the newest rows are deleted (their rowids are then used again).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import DDL, Select, Text, event, func, literal_column, or_, select, table
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from model_router.db.models import Request

FTS_MIN_CHARS = 3  # a trigram index finds nothing shorter
EDGE_CHARS = 2000  # a search reads this many characters at each end of the prompt
PG_FUNCTION_NAME = "request_search_text"
_WHOLE = 2 * EDGE_CHARS
PG_FUNCTION = f"""CREATE OR REPLACE FUNCTION {PG_FUNCTION_NAME}(prompt text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT CASE WHEN length(prompt) <= {_WHOLE} THEN prompt
ELSE substr(prompt, 1, {EDGE_CHARS}) || E'\\n' || substr(prompt, length(prompt) - {EDGE_CHARS - 1})
END $$"""


def sqlite_search_text(prompt: str) -> str:
    """SQLite's `search_text` of the column (or trigger value) `prompt`."""
    return (
        f"CASE WHEN length({prompt}) <= {_WHOLE} THEN {prompt} "
        f"ELSE substr({prompt}, 1, {EDGE_CHARS}) || char(10) || "
        f"substr({prompt}, -{EDGE_CHARS}) END"
    )


_SQLITE_TEXT = sqlite_search_text("requests.prompt_text")

# SQLite: how far (rowid) the FTS index holds the request log; one row (migration 0015).
SQLITE_PROGRESS = "search_progress"
_INDEXED_TO = f"(SELECT indexed_to FROM {SQLITE_PROGRESS})"
_LAST_ROWID = "(SELECT coalesce(max(rowid), 0) FROM requests)"
# Run in the transaction that stored the rows (it holds SQLite's write lock, so
# no row can come between the two statements).
SQLITE_INDEX_NEW = (
    "INSERT INTO requests_fts (rowid, prompt_text) "
    f"SELECT rowid, {sqlite_search_text('prompt_text')} FROM requests "
    f"WHERE rowid > {_INDEXED_TO} AND prompt_text IS NOT NULL",
    f"UPDATE {SQLITE_PROGRESS} SET indexed_to = {_LAST_ROWID}",
)


def sqlite_triggers() -> list[str]:
    """The triggers that keep the index right when an indexed row is deleted or its
    prompt changes (text retention), and the mark below the newest row."""
    old, new = sqlite_search_text("old.prompt_text"), sqlite_search_text("new.prompt_text")
    remove = (
        "INSERT INTO requests_fts (requests_fts, rowid, prompt_text) "
        f"VALUES ('delete', old.rowid, {old});"
    )
    add = f"INSERT INTO requests_fts (rowid, prompt_text) VALUES (new.rowid, {new});"
    indexed = f"old.rowid <= {_INDEXED_TO}"
    return [
        "CREATE TRIGGER requests_fts_delete AFTER DELETE ON requests BEGIN "
        "INSERT INTO requests_fts (requests_fts, rowid, prompt_text) "
        f"SELECT 'delete', old.rowid, {old} WHERE {indexed}; "
        f"UPDATE {SQLITE_PROGRESS} SET indexed_to = {_LAST_ROWID} "
        f"WHERE indexed_to > {_LAST_ROWID}; END",
        "CREATE TRIGGER requests_fts_update AFTER UPDATE OF prompt_text ON requests "
        f"WHEN {indexed} BEGIN {remove} {add} END",
    ]


# Part of the schema: a schema made from the models (tests, `create_all`) has it too.
event.listen(
    Request.__table__,
    "before_create",
    DDL(PG_FUNCTION).execute_if(dialect="postgresql"),  # type: ignore[no-untyped-call]
)


def search_text(dialect: str) -> ColumnElement[str]:
    """The text a search reads: the prompt, or its first and last `EDGE_CHARS`
    characters (a newline between) when it is longer than both."""
    if dialect == "postgresql":
        return func.request_search_text(Request.prompt_text, type_=Text)
    return literal_column(_SQLITE_TEXT, Text)


def edges(prompt: str) -> str:
    """`search_text` in Python: what a search of `prompt` reads."""
    if len(prompt) <= _WHOLE:
        return prompt
    return prompt[:EDGE_CHARS] + "\n" + prompt[-EDGE_CHARS:]


async def has_fts(session: AsyncSession | AsyncConnection) -> bool:
    """SQLite with the FTS5 index of migrations 0011, 0014 and 0015 (a schema made
    otherwise has none)."""
    dialect = (
        session.dialect if isinstance(session, AsyncConnection) else session.get_bind().dialect
    )
    if dialect.name != "sqlite":
        return False
    found = await session.scalar(
        select(literal_column("1"))
        .select_from(table("sqlite_master"))
        .where(literal_column("name") == SQLITE_PROGRESS)
    )
    return found is not None


async def index_new_rows(conn: AsyncConnection) -> None:
    """SQLite: add the rows stored since the last call to the FTS index, in the
    connection's transaction."""
    for statement in SQLITE_INDEX_NEW:
        await conn.exec_driver_sql(statement)


def fts_match(search: str) -> ColumnElement[bool]:
    """SQLite: the rows whose search text the FTS5 trigram index (migration
    0014) says holds `search`, as one quoted phrase: taken literally, never as
    FTS syntax, and the rows not indexed yet. Trigram folding is at least as
    broad as LIKE's, so the LIKE beside it decides: the index only narrows the
    rows it reads."""
    phrase = '"' + search.replace('"', '""') + '"'
    matching: Select[Any] = (
        select(literal_column("rowid"))
        .select_from(table("requests_fts"))
        .where(literal_column("requests_fts").op("MATCH")(phrase))
    )
    rowid: ColumnElement[Any] = literal_column("requests.rowid")
    return or_(rowid.in_(matching), rowid > literal_column(_INDEXED_TO))
