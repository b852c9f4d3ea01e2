"""Writing the rows: a binary COPY into PostgreSQL, batched inserts into SQLite.

Rows are made in chunks, in a worker thread, while the previous chunk is
written (`_chunks`).

- PostgreSQL: binary COPY (asyncpg `copy_records_to_table`) in the session's
  transaction. With `PostgresBinaryCodec` the numeric, timestamptz and uuid
  values are already in PostgreSQL's binary format: pass-through codecs are set
  on the connection for the COPY and reset after it (asyncpg's own encoders for
  Decimal and datetime cost more than making the row). A large load into a small
  table drops the trigram index and the foreign keys of `requests` first and
  rebuilds them in the same transaction (`_BulkLoad`), which locks the table
  until the end.
- SQLite: `executemany` of each chunk, a commit every `SQLITE_COMMIT_ROWS`.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from model_router.services.demo_data.codecs import PASS_THROUGH
from model_router.services.demo_data.traffic import COLUMNS, Row, Traffic

SQLITE_COMMIT_ROWS = 500_000

# A large load into a small table runs without the trigram (GIN) index and the foreign
# keys of `requests`, which are then rebuilt and revalidated in the same transaction:
# keeping them up to date row by row costs more than making the rows. "Large" is when
# the table holds fewer rows than this many per new row.
BULK_BELOW = 0.5
INDEX_BUILD_MEMORY = "512MB"

Note = Callable[[str], None]


async def _chunks(traffic: Traffic, size: int) -> AsyncIterator[list[Row]]:
    """The chunks of rows, each drawn in a worker thread while the previous one is written."""
    pending = asyncio.ensure_future(asyncio.to_thread(traffic.chunk, size))
    try:
        while True:
            rows = await pending
            if not rows:
                return
            pending = asyncio.ensure_future(asyncio.to_thread(traffic.chunk, size))
            yield rows
    finally:  # stopped early: let the chunk being drawn finish, and drop it
        if not pending.done():
            await asyncio.wait([pending])
        if not pending.cancelled():
            pending.exception()


_TABLE = """
    SELECT oid::regclass::text, pg_has_role(relowner, 'USAGE')
    FROM pg_class WHERE oid = 'requests'::regclass
"""

_GIN_INDEXES = """
    SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname), pg_get_indexdef(c.oid)
    FROM pg_index i
    JOIN pg_class c ON c.oid = i.indexrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
    JOIN pg_am a ON a.oid = c.relam
    WHERE i.indrelid = 'requests'::regclass AND a.amname = 'gin' AND i.indisvalid
    ORDER BY 1
"""
_FOREIGN_KEYS = """
    SELECT quote_ident(conname), pg_get_constraintdef(oid)
    FROM pg_constraint
    WHERE conrelid = 'requests'::regclass AND contype = 'f' AND convalidated
    ORDER BY 1
"""


class _BulkLoad:
    """Drops what slows a bulk COPY down, and puts it back, in the current transaction.

    Only for a load larger than the table (see `BULK_BELOW`), and only where the
    database user owns the table; otherwise the COPY keeps everything up to date.
    """

    def __init__(self, driver: Any, say: Note) -> None:
        self._driver = driver
        self._say = say
        self._indexes: list[tuple[str, str]] = []
        self._keys: list[tuple[str, str]] = []
        self._table = ""

    async def suspend(self, rows: int) -> None:
        driver = self._driver
        threshold = math.ceil(rows * BULK_BELOW)
        table, owned = await driver.fetchrow(_TABLE)
        if not owned:
            return
        held = await driver.fetchval(  # counted: statistics lag behind a DELETE
            "SELECT count(*) FROM (SELECT 1 FROM requests LIMIT $1) AS held", threshold
        )
        if held >= threshold:
            return
        self._table = str(table)
        # A partitioned table's index reads "ON ONLY requests": made so, it would
        # cover no partition. Made "ON requests", it is built on every one.
        self._indexes = [
            (str(n), str(d).replace(" ON ONLY ", " ON ", 1))
            for n, d in await driver.fetch(_GIN_INDEXES)
        ]
        self._keys = [(str(n), str(d)) for n, d in await driver.fetch(_FOREIGN_KEYS)]
        dropped = [f"index {name}" for name, _ in self._indexes]
        dropped += [f"foreign key {name}" for name, _ in self._keys]
        if dropped:
            self._say(
                f"bulk load: {', '.join(dropped)} of {table} rebuilt at the end; "
                "the table is locked until then"
            )
        for name, _ in self._indexes:
            await driver.execute(f"DROP INDEX {name}")
        for name, _ in self._keys:
            await driver.execute(f"ALTER TABLE {self._table} DROP CONSTRAINT {name}")

    async def restore(self) -> None:
        driver = self._driver
        if self._indexes:
            await driver.execute(f"SET LOCAL maintenance_work_mem = '{INDEX_BUILD_MEMORY}'")
        for name, definition in self._indexes:
            self._say(f"rebuilding index {name}")
            started = time.perf_counter()
            await driver.execute(definition)
            self._say(f"rebuilt index {name} in {time.perf_counter() - started:.1f} s")
        if self._keys:
            started = time.perf_counter()
            await driver.execute(
                f"ALTER TABLE {self._table} "
                + ", ".join(
                    f"ADD CONSTRAINT {name} {definition}" for name, definition in self._keys
                )
            )
            self._say(f"checked the foreign keys in {time.perf_counter() - started:.1f} s")


async def copy_postgres(
    conn: AsyncConnection,
    traffic: Traffic,
    size: int,
    report: Callable[[int], None],
    say: Note,
    *,
    binary: bool,
) -> None:
    """COPY the rows in the session's transaction (see `_BulkLoad` and `PASS_THROUGH`)."""
    await conn.execute(text("SELECT 1"))  # begins the transaction the COPYs run in
    raw = await conn.get_raw_connection()
    driver = raw.driver_connection
    if driver is None or not driver.is_in_transaction():  # pragma: no cover
        raise RuntimeError("demo data: expected an asyncpg connection in a transaction")
    bulk = _BulkLoad(driver, say)
    await bulk.suspend(traffic.rows)
    overridden: list[str] = []
    try:
        if binary:
            for name in PASS_THROUGH:
                await driver.set_type_codec(
                    name, schema="pg_catalog", encoder=bytes, decoder=bytes, format="binary"
                )
                overridden.append(name)
        done = 0
        async for rows in _chunks(traffic, size):
            await driver.copy_records_to_table("requests", records=rows, columns=COLUMNS)
            done += len(rows)
            report(done)
    except BaseException:
        if overridden:  # the transaction is lost: so is this connection, codecs and all
            await conn.invalidate()
        raise
    for name in overridden:
        await driver.reset_type_codec(name, schema="pg_catalog")
    await bulk.restore()


async def insert_sqlite(
    session: AsyncSession, traffic: Traffic, size: int, report: Callable[[int], None]
) -> None:
    """One `executemany` per chunk, a commit every `SQLITE_COMMIT_ROWS` rows."""
    statement = (
        f"INSERT INTO requests ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"
    )
    done = since_commit = 0
    async for rows in _chunks(traffic, size):
        conn = await session.connection()
        await conn.exec_driver_sql(statement, rows)
        done += len(rows)
        since_commit += len(rows)
        if since_commit >= SQLITE_COMMIT_ROWS:
            await session.commit()
            since_commit = 0
        report(done)
