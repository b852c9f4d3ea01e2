"""SQLite's search index of the request log's prompts (migration 0011).

An FTS5 trigram index (`requests_fts`, external content, kept by triggers)
narrows the rows a search reads; the literal, case-insensitive `LIKE` beside it
(db/queries.py) still decides, so results are those of `LIKE` alone. PostgreSQL
has its `pg_trgm` GIN index instead, which `ILIKE` uses by itself.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, literal_column, select, table
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

FTS_MIN_CHARS = 3  # a trigram index finds nothing shorter


async def has_fts(session: AsyncSession) -> bool:
    """SQLite with the FTS5 index of migration 0011 (a schema made otherwise has none)."""
    if session.get_bind().dialect.name != "sqlite":
        return False
    found = await session.scalar(
        select(literal_column("1"))
        .select_from(table("sqlite_master"))
        .where(literal_column("name") == "requests_fts")
    )
    return found is not None


def fts_match(search: str) -> ColumnElement[bool]:
    """SQLite: the rows whose prompt the FTS5 trigram index (migration 0011) says
    holds `search`, as one quoted phrase: taken literally, never as FTS syntax.
    Trigram folding is at least as broad as LIKE's, so the LIKE beside it
    decides: the index only narrows the rows it reads."""
    phrase = '"' + search.replace('"', '""') + '"'
    matching: Select[Any] = (
        select(literal_column("rowid"))
        .select_from(table("requests_fts"))
        .where(literal_column("requests_fts").op("MATCH")(phrase))
    )
    return literal_column("requests.rowid").in_(matching)
