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
external content, kept by triggers, migration 0014) narrows the rows a
search reads; the literal, case-insensitive `LIKE` beside it still decides,
so results are those of `LIKE` alone.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import DDL, Select, Text, event, func, literal_column, select, table
from sqlalchemy.ext.asyncio import AsyncSession
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


async def has_fts(session: AsyncSession) -> bool:
    """SQLite with the FTS5 index of migrations 0011 and 0014 (a schema made otherwise has none)."""
    if session.get_bind().dialect.name != "sqlite":
        return False
    found = await session.scalar(
        select(literal_column("1"))
        .select_from(table("sqlite_master"))
        .where(literal_column("name") == "requests_fts")
    )
    return found is not None


def fts_match(search: str) -> ColumnElement[bool]:
    """SQLite: the rows whose search text the FTS5 trigram index (migration
    0014) says holds `search`, as one quoted phrase: taken literally, never as
    FTS syntax. Trigram folding is at least as broad as LIKE's, so the LIKE
    beside it decides: the index only narrows the rows it reads."""
    phrase = '"' + search.replace('"', '""') + '"'
    matching: Select[Any] = (
        select(literal_column("rowid"))
        .select_from(table("requests_fts"))
        .where(literal_column("requests_fts").op("MATCH")(phrase))
    )
    return literal_column("requests.rowid").in_(matching)
