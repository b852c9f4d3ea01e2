"""`model-router log export`: the request log's rows out, before retention takes them.

Rows created in [since, until) are read in keyset pages ordered by
(created_at, id), `page` rows at a time, and written as they come: JSON lines
or CSV, one row per line, every column. Memory stays at one page whatever the
window; each page is its own short read, so the writer is never held up.

Values are written as the API shows them: ids and times as text (ISO 8601,
UTC), money as exact decimal strings, JSON columns as JSON (in CSV, as JSON
text), null as null (in CSV, an empty field).
"""

from __future__ import annotations

import csv
import uuid
from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal, TextIO

import orjson
from sqlalchemy import Table, select, tuple_
from sqlalchemy.ext.asyncio import AsyncEngine

from model_router.db.models import Request

Format = Literal["jsonl", "csv"]
PAGE_ROWS = 1000
TABLE: Table = Request.__table__  # type: ignore[assignment]
COLUMNS = tuple(column.name for column in TABLE.columns)


async def pages(
    engine: AsyncEngine, since: datetime, until: datetime | None, *, page: int = PAGE_ROWS
) -> AsyncIterator[Sequence[Any]]:
    """The rows created in [since, until), oldest first, a page at a time."""
    created, id_ = TABLE.c.created_at, TABLE.c.id
    window = [created >= since]
    if until is not None:
        window.append(created < until)
    after: tuple[datetime, uuid.UUID] | None = None
    while True:
        query = select(TABLE).where(*window).order_by(created, id_).limit(page)
        if after is not None:
            query = query.where(tuple_(created, id_) > tuple_(*after))
        async with engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        if not rows:
            return
        yield rows
        if len(rows) < page:
            return
        last = rows[-1]
        after = (last.created_at, last.id)


def _plain(value: Any) -> Any:
    """A value as JSON and CSV show it."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (uuid.UUID, Decimal)):
        return str(value)
    return value


def _jsonl_line(row: Any) -> str:
    record = {name: _plain(value) for name, value in zip(COLUMNS, row, strict=True)}
    return orjson.dumps(record).decode() + "\n"


def _csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        return orjson.dumps(value).decode()
    return _plain(value)


async def export(
    engine: AsyncEngine,
    out: TextIO,
    fmt: Format,
    since: datetime,
    until: datetime | None = None,
    *,
    page: int = PAGE_ROWS,
) -> int:
    """Write the rows of [since, until) to `out` in `fmt`; the number written."""
    writer = csv.writer(out, lineterminator="\n") if fmt == "csv" else None
    if writer is not None:
        writer.writerow(COLUMNS)
    written = 0
    async for rows in pages(engine, since, until, page=page):
        if writer is not None:
            writer.writerows([_csv_cell(value) for value in row] for row in rows)
        else:
            out.writelines(_jsonl_line(row) for row in rows)
        written += len(rows)
    return written
