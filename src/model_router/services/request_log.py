"""The request log: rows written in batches beside the response, never in its way.

`add()` only appends to memory. A background task writes what is pending
every `flush_interval` seconds (or as soon as a batch fills), a batch per
transaction (`db/inserts.py`); on PostgreSQL two batches at once, each in a
transaction of its own on its own connection, each of the two "lanes" taking
the next rows as soon as its batch is in, so that the server's work on one
batch overlaps its work on the other and this process's on both (two cores
instead of one; the usage rollup's rows are locked in one order, so neither
transaction waits for the other for long, and never both for each other).
Until its batch is written, a row can still be read through `pending()`, so
a request is visible to the analytics API the moment its response is sent.

When the database cannot take a write (down, unreachable, refusing writes,
or slower than `write_timeout`), the rows go to a spill file on local disk
(`services/spill.py`) at once and at every tick after, while the writer
retries with backoff; memory never holds more than `spill_threshold` rows
at a tick. Once a write succeeds again, the spill file is written to the
database and emptied. A row is stored once under its id: a batch holding a
row stored already (a replay cut short, a commit whose answer was lost) is
refused whole and written again "on conflict (id) do nothing".

Companions (`companions`): the stored responses of the Responses API are
written by this writer's task, between its batches, rather than by a writer
of their own, so that on SQLite a process holds one place in the queue for the
write lock, not two (with two, each waited seconds behind the other and the
other process's at a few thousand requests/s, and stored responses were
dropped at their cap; docs/performance.md).

A row the database refuses while it takes the rest of its batch (a value it
cannot store) is set aside in a `.rejected` file of the spill directory and
logged, rather than blocking every row after it.

What a kill -9 can lose: only the rows still in memory, that is the rows
accepted since the last tick (one `flush_interval`, 0.2 s by default) plus
the batches being written at that moment; spilled rows are in the file, and the
next writer of the same database adopts the file of a dead one. `stop()`
(run on SIGTERM by the lifespan) writes what is pending, or spills it when
the database is away, so a clean stop loses nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections import deque
from collections.abc import Awaitable, Callable
from itertools import islice
from operator import attrgetter
from pathlib import Path
from typing import Any

from sqlalchemy import JSON, String, Table
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from model_router.db import rollup
from model_router.db.inserts import Duplicates, RowInserter
from model_router.db.models import Request
from model_router.db.records import RequestRecord
from model_router.services.spill import (
    RowCodec,
    SpillFiles,
    default_spill_base,
    spill_directory,
)

log = logging.getLogger(__name__)

Row = RequestRecord
TABLE: Table = Request.metadata.tables[Request.__tablename__]
MAX_BACKOFF = 5.0
# PostgreSQL: batches written at once, each in a transaction of its own (SQLite has
# one writer at a time), and the fewest rows worth a second one.
PG_LANES = 2
MIN_LANE_ROWS = 500
LANE_BATCHES = 2  # batches a lane writes before the companions' turn (one lane: one)
ORPHAN_SCAN_EVERY = 10.0


def _unreachable(exc: BaseException) -> bool:
    """The database itself failed (not one of the rows)."""
    if isinstance(exc, OperationalError | InterfaceError | OSError | TimeoutError):
        return True
    return isinstance(exc, DBAPIError) and exc.connection_invalidated


# The fields that can hold a string (text columns, and JSON ones, which may be a bare string).
_TEXTS = attrgetter(*(c.name for c in TABLE.columns if isinstance(c.type, String | JSON)))


def _without_nul(row: Row) -> Row:
    for value in _TEXTS(row):
        if type(value) is str and "\x00" in value:
            break
    else:
        return row
    values: dict[str, Any] = {
        k: v.replace("\x00", "") if type(v) is str else v for k, v in row.as_dict().items()
    }
    return RequestRecord(**values)


class RequestLog:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        batch_size: int = 5000,
        flush_interval: float = 0.2,
        max_pending: int = 100_000,
        spill_dir: Path | None = None,
        spill_threshold: int = 10_000,
        write_timeout: float = 10.0,
    ) -> None:
        self._sessions = sessions
        bind = sessions.kw.get("bind")
        if not isinstance(bind, AsyncEngine):
            raise TypeError("RequestLog needs sessions bound to an AsyncEngine")
        self._engine: AsyncEngine = bind
        self._inserter = RowInserter(TABLE, bind.dialect)
        # PostgreSQL text cannot hold NUL: a client's "\u0000" must not block the log.
        self._strip_nul = bind.dialect.name == "postgresql"
        self._lanes = PG_LANES if bind.dialect.name == "postgresql" else 1
        self._lane_batches = LANE_BATCHES if self._lanes > 1 else 1
        self._batch_size = batch_size
        self._flush_interval = flush_interval
        self._max_pending = max_pending
        self._spill_threshold = spill_threshold
        self._write_timeout = write_timeout
        url = bind.url.render_as_string(hide_password=True)
        base = spill_dir if spill_dir is not None else default_spill_base(url)
        self._spill = SpillFiles(spill_directory(base, url), RowCodec(TABLE))
        self._queue: deque[Row] = deque()
        self._by_id: dict[uuid.UUID, Row] = {}
        self._wake = asyncio.Event()
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self._down = False  # the last write failed
        self._backoff = 0.0
        self._retry_at = 0.0
        self._next_orphan_scan = 0.0
        self.written = 0
        self.failures = 0
        self.spilled = 0
        self.replayed = 0
        self.rejected = 0
        # Called with each row as it is added (metrics, the per-request log line,
        # the request span); they must be quick and must not raise.
        self.listeners: list[Callable[[Row], None]] = []
        # Other tables' batch writers (the Responses API's stored responses), run
        # in this writer's task after each of its batches: a process has one
        # writer at a time, and on SQLite one contender for the write lock.
        self.companions: list[Callable[[], Awaitable[None]]] = []

    @property
    def depth(self) -> int:
        return len(self._queue)

    @property
    def spill_path(self) -> Path:
        """This writer's spill file (it exists only once rows were spilled)."""
        return self._spill.own_path

    @property
    def spilled_pending(self) -> int:
        """Rows in this writer's spill file, waiting for the database."""
        return self._spill.rows

    @property
    def database_down(self) -> bool:
        return self._down

    def add(self, row: Row) -> None:
        self._queue.append(row)
        self._by_id[row.id] = row
        if len(self._queue) >= self._batch_size:
            self._wake.set()
        if len(self._queue) == self._max_pending:
            log.warning("request log: %d rows pending; is the database down?", self._max_pending)
        for listener in self.listeners:
            try:
                listener(row)
            except Exception:  # observing a row never loses it
                log.exception("request log: listener %r failed", listener)

    def pending(self, request_id: uuid.UUID) -> Row | None:
        return self._by_id.get(request_id)

    def pending_rows(self) -> list[Row]:
        return list(self._queue)

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="request-log-writer")

    async def stop(self) -> None:
        """Write everything still pending (or spill it if the database is away), then stop."""
        self._closing = True
        self._wake.set()
        if self._task is not None:
            await self._task
        async with self._lock:
            try:
                await self._write_memory()
            except Exception as exc:
                log.error("request log: final write failed (%s); spilling", exc)
                await self._spill_rows(len(self._queue))
            await asyncio.to_thread(self._spill.close)

    async def flush(self) -> None:
        """Write every pending row now; raises if the database cannot take them."""
        async with self._lock:
            await self._write_memory()

    async def catch_up(self) -> None:
        """Flush before a read, so a caller sees its own requests; never raises."""
        if not self._queue or self._down:
            return
        try:
            await self.flush()
        except Exception as exc:  # the reader gets what is in the database
            log.warning("request log: flush before read failed (%s)", exc)

    async def _write(self, rows: list[Row]) -> None:
        if self._strip_nul:
            rows = [_without_nul(row) for row in rows]
        try:
            await self._insert(rows, one_by_one=False)
        except Duplicates:  # rolled back: again, telling the new rows from the stored
            await self._insert(rows, one_by_one=True)

    async def _insert(self, rows: list[Row], *, one_by_one: bool) -> None:
        async with asyncio.timeout(self._write_timeout), self._engine.begin() as conn:
            fresh = await self._inserter.insert(conn, rows, one_by_one=one_by_one)
            # The usage rollup counts each row once: only those inserted now.
            await rollup.add_rows(conn, fresh)

    async def _write_checked(self, rows: list[Row]) -> None:
        """Write rows; if the database refuses some while it takes others (a value
        it cannot store), set the refused ones aside in a `.rejected` file in the
        spill directory rather than let them block the log. If it takes none,
        the fault is the database's: raise, and the rows are kept."""
        try:
            await self._write(rows)
            return
        except Exception as exc:
            if _unreachable(exc) or len(rows) == 1:
                raise
            failure = exc
        refused = rows
        # Twice: a row refused in the first pass only because the database came
        # back during it goes in on the second.
        for _ in range(2):
            again: list[Row] = []
            for row in refused:
                try:
                    await self._write([row])
                except Exception as exc:
                    if _unreachable(exc):
                        raise
                    again.append(row)
            if len(again) == len(rows):
                raise failure
            refused = again
        if not refused:
            return
        await asyncio.to_thread(self._spill.reject, refused)
        self.rejected += len(refused)
        log.error(
            "request log: the database refused %d rows (%s); kept in %s",
            len(refused),
            failure,
            self._spill.directory,
        )

    async def _write_memory(self) -> None:
        while True:
            if self._queue:
                await self._write_lanes()
            await self._companions()
            if not self._queue:
                return

    async def _write_lanes(self) -> None:
        """Write the rows held (and those added meanwhile) in batches, `lanes` at a
        time, each in a transaction of its own: a lane takes the next rows as soon
        as its batch is in, so the database's work on one batch overlaps its work
        on the others and this process's. At most `LANE_BATCHES` batches a lane
        (one lane: one batch), then the companions get their turn."""
        base = next_at = 0  # positions (since this call) of the first row held, of the next to take
        written: dict[int, int] = {}  # batches in, not at the head yet: start -> end
        failures: list[Exception] = []

        async def lane() -> None:
            nonlocal base, next_at
            for _ in range(self._lane_batches):
                free = len(self._queue) - (next_at - base)
                if failures or free <= 0:
                    return
                size = min(self._batch_size, free, max(MIN_LANE_ROWS, -(-free // self._lanes)))
                start, next_at = next_at, next_at + size
                batch = list(islice(self._queue, start - base, start - base + size))
                try:
                    await self._write_checked(batch)
                except Exception as exc:
                    failures.append(exc)
                    return
                self.written += size
                written[start] = start + size
                while base in written:  # the oldest rows are in: out of memory
                    end = written.pop(base)
                    for _ in range(end - base):
                        self._by_id.pop(self._queue.popleft().id, None)
                    base = end

        await asyncio.gather(*(lane() for _ in range(self._lanes)))
        if written:  # in, behind a batch that failed
            kept: deque[Row] = deque()
            skip_to = base
            for at, row in enumerate(self._queue, base):
                skip_to = written.get(at, skip_to)
                if at < skip_to:
                    self._by_id.pop(row.id, None)
                else:
                    kept.append(row)
            self._queue = kept
        if failures:
            raise failures[0]

    async def _companions(self) -> None:
        """Let the companions write, between two batches of ours (they keep what
        they could not write and say why)."""
        for companion in self.companions:
            try:
                await companion()
            except Exception as exc:
                log.warning("request log: %r failed: %s", companion, exc)

    async def _spill_rows(self, count: int) -> None:
        """Move the oldest `count` rows from memory to the spill file."""
        rows = [self._queue[i] for i in range(min(count, len(self._queue)))]
        if not rows:
            return
        try:
            await asyncio.to_thread(self._spill.append, rows)
        except OSError as exc:  # the disk is full or read-only: keep them in memory
            log.critical("request log: cannot spill to %s (%s)", self._spill.own_path, exc)
            return
        for row in rows:
            self._queue.popleft()
            self._by_id.pop(row.id, None)
        self.spilled += len(rows)

    async def _replay_file(self, path: Path) -> int:
        offset, total = 0, 0
        while True:
            rows, offset = await asyncio.to_thread(
                self._spill.read_batch, path, offset, self._batch_size
            )
            if not rows:
                return total
            await self._write_checked(rows)
            total += len(rows)
            self.replayed += len(rows)

    async def _replay(self, now: float) -> None:
        """Write this writer's spill file, then any dead writer's, to the database."""
        if self._spill.rows:
            count = await self._replay_file(self._spill.own_path)
            await asyncio.to_thread(self._spill.clear_own)
            log.warning("request log: %d spilled rows written to the database", count)
        if now < self._next_orphan_scan:
            return
        self._next_orphan_scan = now + ORPHAN_SCAN_EVERY
        for path, fd in await asyncio.to_thread(self._spill.orphans):
            done = False
            try:
                count = await self._replay_file(path)
                done = True
                log.warning("request log: %d rows recovered from %s", count, path)
            finally:
                await asyncio.to_thread(self._spill.release, path, fd, done=done)

    async def _tick(self) -> None:
        async with self._lock:
            now = time.monotonic()
            if self._down and now < self._retry_at:
                await self._spill_rows(len(self._queue))
                return
            if len(self._queue) > self._spill_threshold:
                await self._spill_rows(len(self._queue) - self._spill_threshold)
            try:
                await self._write_memory()
                await self._replay(now)
            except Exception as exc:  # keep the rows, on disk; try again later
                self.failures += 1
                self._backoff = min(MAX_BACKOFF, max(self._flush_interval, self._backoff * 2))
                self._retry_at = time.monotonic() + self._backoff
                if not self._down:
                    log.error(
                        "request log: write failed (%s: %s); spilling to %s till it is back",
                        type(exc).__name__,
                        exc,
                        self._spill.directory,
                    )
                self._down = True
                await self._spill_rows(len(self._queue))
                return
            if self._down:
                log.warning("request log: the database is back")
                self._next_orphan_scan = 0.0
            self._down = False
            self._backoff = 0.0

    async def _run(self) -> None:
        while not self._closing:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self._flush_interval)
            self._wake.clear()
            try:
                await self._tick()
            except Exception:  # never let the writer die
                log.exception("request log: writer tick failed")
