"""Request-log rows into the database, fast: one statement per backend, whatever the batch.

The request-log writer inserts a batch every tick. Through SQLAlchemy's Core
`insert().returning()` every batch size made a statement of its own (a VALUES
list as long as the batch), which the driver prepared and cached: up to a
hundred prepared statements of thousands of parameters each, held by every
connection (on SQLite the cache grew a worker by more than 150 MB under load),
and the per-row parameter processing cost more CPU than the database.

Here each backend has fixed statements, prepared once per connection:

- SQLite: `INSERT ... VALUES (?, ...), ... ON CONFLICT (id) DO NOTHING` of 64,
  8 or 1 rows (`SQLITE_CHUNKS`) run with `executemany`; the driver's row count
  says whether every row went in. When
  some did not (a batch written twice: a replay cut short, a commit whose answer
  was lost), `Duplicates` is raised, the caller rolls back and inserts the batch
  again one row at a time (`one_by_one`), each row's count telling whether it
  is new. The new rows then enter the search index with one statement, in the
  same transaction (`search.index_new_rows`).
- PostgreSQL: the batch goes by binary COPY (asyncpg's `copy_records_to_table`)
  straight into `requests`, rows encoded as they are sent, so that the server
  stores the first rows while the writer still encodes the last. All of them
  are new, or the COPY fails on the primary key: a batch written before (a
  replay cut short, a commit whose answer was lost) raises `Duplicates`, and
  the caller rolls back and inserts it again `one_by_one`, which here means
  through a temporary staging table of the connection (`STAGING`, emptied at
  each commit): COPY into it, then one `INSERT INTO requests SELECT ... FROM
  staging ON CONFLICT (id, created_at) DO NOTHING RETURNING id` in the same
  transaction, which says which ids were actually inserted. COPY spares the
  server parsing and planning a statement of one array per column (about three
  times the rows per second of an `INSERT ... SELECT * FROM unnest(...)`), and
  the straight COPY spares it the staging table and the per-row conflict check
  (docs/performance.md).

Values are stored exactly as the ORM stores them (Money rounded half-even to
10^-12 USD, UTC times, SQLite's uuid hex and time text), by encoders written per
column type (`column_encoder`) rather than SQLAlchemy's bind processors, which cost a
request-log row more than the rest of its insert; JSON is encoded with orjson.
tests/unit/test_inserts.py holds them to the bind processors' output.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from itertools import chain
from operator import attrgetter
from typing import Any

import orjson
from sqlalchemy import JSON, Boolean, Column, Dialect, Table, Uuid
from sqlalchemy.ext.asyncio import AsyncConnection

from model_router.db import search
from model_router.db.records import RequestRecord
from model_router.db.types import SCALE, Money, UTCDateTime

Row = RequestRecord
Encode = Callable[[Any], Any]


# SQLite: rows per INSERT statement. sqlite3 takes the GIL back for every statement
# it steps; one row per statement let a busy event loop starve the writer thread
# (its queue grew by thousands of rows a second at 2,600 requests/s). A few fixed
# sizes keep the driver's statement cache to a few entries.
SQLITE_CHUNKS = (64, 8, 1)


# PostgreSQL's request log is partitioned by time (db/partitions.py): its primary
# key, the conflict target, holds the partition key too.
PG_CONFLICT = "id, created_at"

# The per-connection staging table of the exact COPY path: temporary (never written
# to the WAL, seen by its connection only) and emptied at every commit or rollback.
STAGING = "request_log_staging"
UNIQUE_VIOLATION = "23505"  # PostgreSQL's SQLSTATE for a key stored already


class Duplicates(Exception):
    """Some rows of a batch were already stored: insert it again `one_by_one`."""


def _json(value: Any) -> str | None:
    if value is None:
        return None
    try:
        return orjson.dumps(value).decode()
    except TypeError:  # integers past 64 bits in a client's messages, and the like
        return json.dumps(value, default=str)


_UNIT = Decimal(1).scaleb(-SCALE)


def _money(value: Any) -> Decimal:
    """Money as PostgreSQL stores it: rounded half-even to 10^-12 USD."""
    return (value if type(value) is Decimal else Decimal(value)).quantize(_UNIT)


def _money_units(value: Any) -> int:
    """Money as SQLite stores it: a count of 10^-12 USD."""
    return int((value if type(value) is Decimal else Decimal(value)).quantize(_UNIT).scaleb(SCALE))


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _sqlite_time(value: datetime) -> str:
    """SQLAlchemy's SQLite DATETIME text, in UTC: 'YYYY-MM-DD HH:MM:SS.ffffff'."""
    return _utc(value).replace(tzinfo=None).isoformat(" ", "microseconds")


def _uuid_hex(value: uuid.UUID) -> str:
    return f"{value.int:032x}"  # UUID.hex, without its property call


def column_encoder(column: Column[Any], dialect: Dialect) -> Encode | None:
    """How a non-null value of `column` goes to the driver (None: as it is)."""
    kind = column.type
    sqlite = dialect.name == "sqlite"
    if isinstance(kind, JSON):
        return _json
    if isinstance(kind, Money):
        return _money_units if sqlite else _money
    if isinstance(kind, UTCDateTime):
        return _sqlite_time if sqlite else _utc
    if isinstance(kind, Uuid):
        return _uuid_hex if sqlite else None
    if isinstance(kind, Boolean):
        return None  # both drivers take a bool
    processor: Encode | None = kind.dialect_impl(dialect).bind_processor(dialect)
    return processor


class RowInserter:
    """Inserts request-log records into `table`, skipping ids already stored.

    A record has an attribute per column (`db/records.py`), with the ORM's defaults."""

    def __init__(self, table: Table, dialect: Dialect) -> None:
        self._columns = [column.name for column in table.columns]
        self._values = attrgetter(*self._columns)
        self._table = table.name
        self._encoders = [
            (index, encode)
            for index, column in enumerate(table.columns)
            if (encode := column_encoder(column, dialect)) is not None
        ]
        self._postgres = dialect.name == "postgresql"
        self._indexed: bool | None = None  # SQLite: the schema has the search index (once known)
        names = ", ".join(self._columns)
        if self._postgres:
            self._staging_sql = (
                f"CREATE TEMPORARY TABLE IF NOT EXISTS {STAGING} "
                f"(LIKE {table.name} INCLUDING DEFAULTS) ON COMMIT DELETE ROWS"
            )
            self._sql = (
                f"INSERT INTO {table.name} ({names}) SELECT {names} FROM {STAGING} "
                f"ON CONFLICT ({PG_CONFLICT}) DO NOTHING RETURNING id"
            )
        else:
            marks = "(" + ", ".join("?" * len(self._columns)) + ")"
            self._sql = (
                f"INSERT INTO {table.name} ({names}) VALUES {marks} ON CONFLICT (id) DO NOTHING"
            )
            self._sql_of = {
                size: f"INSERT INTO {table.name} ({names}) VALUES {', '.join([marks] * size)} "
                "ON CONFLICT (id) DO NOTHING"
                for size in SQLITE_CHUNKS
            }

    async def _insert_sqlite(self, conn: AsyncConnection, encoded: list[list[Any]]) -> int:
        """Insert in statements of `SQLITE_CHUNKS` rows; the number of rows stored."""
        stored = done = 0
        for size in SQLITE_CHUNKS:
            count = (len(encoded) - done) // size
            if not count:
                continue
            flat = chain.from_iterable
            chunks = [
                tuple(flat(encoded[start : start + size]))
                for start in range(done, done + count * size, size)
            ]
            result = await conn.exec_driver_sql(self._sql_of[size], chunks)
            stored += result.rowcount
            done += count * size
        return stored

    async def _copy(self, conn: AsyncConnection, table: str, rows: Sequence[Row]) -> None:
        """COPY the rows into `table` in the connection's transaction, each encoded
        as it is sent."""
        # Through SQLAlchemy first: this opens the transaction the COPY then joins.
        await conn.exec_driver_sql(self._staging_sql if table == STAGING else "SELECT 1")
        driver = (await conn.get_raw_connection()).driver_connection
        if driver is None:
            raise RuntimeError("the request-log connection was closed")
        await driver.copy_records_to_table(
            table, records=map(self.encode, rows), columns=self._columns
        )

    async def _insert_postgres(
        self, conn: AsyncConnection, rows: Sequence[Row], *, exact: bool
    ) -> list[Row]:
        """COPY the rows into the log (`exact`: into the staging table, then move
        the new ones to the log); the rows stored now."""
        if not exact:
            try:
                await self._copy(conn, self._table, rows)
            except Exception as exc:
                if getattr(exc, "sqlstate", None) == UNIQUE_VIOLATION:
                    raise Duplicates(f"some of {len(rows)} rows are stored already") from exc
                raise
            return list(rows)
        await self._copy(conn, STAGING, rows)
        result = await conn.exec_driver_sql(self._sql)
        stored = {uuid.UUID(int=row_id.int) for (row_id,) in result}
        if len(stored) == len(rows):
            return list(rows)
        return [row for row in rows if row.id in stored]

    def encode(self, row: Row) -> list[Any]:
        """The record's values in column order, as the driver takes them."""
        values = list(self._values(row))
        for index, encode in self._encoders:
            value = values[index]
            if value is not None:
                values[index] = encode(value)
        return values

    async def insert(
        self, conn: AsyncConnection, rows: Sequence[Row], *, one_by_one: bool = False
    ) -> list[Row]:
        """Insert the rows in the connection's transaction; return those stored now.

        Raises `Duplicates` when some were stored already, unless `one_by_one`
        (slower, and exact: on SQLite a row at a time, on PostgreSQL through the
        staging table).
        """
        if not rows:
            return []
        if self._postgres:
            return await self._insert_postgres(conn, rows, exact=one_by_one)
        encoded = [self.encode(row) for row in rows]
        if not one_by_one:
            stored_now = await self._insert_sqlite(conn, encoded)
            if stored_now != len(rows):
                raise Duplicates(f"{len(rows) - stored_now} of {len(rows)} rows stored already")
            fresh = list(rows)
        else:
            fresh = []
            for row, values in zip(rows, encoded, strict=True):
                result = await conn.exec_driver_sql(self._sql, tuple(values))
                if result.rowcount == 1:
                    fresh.append(row)
        if self._indexed is None:
            self._indexed = await search.has_fts(conn)
        if self._indexed and fresh:
            await search.index_new_rows(conn)
        return fresh
