"""The request log: rows written in batches beside the response, never in its way.

`add()` only appends to memory. A background task writes what is pending
every `flush_interval` seconds (or as soon as a batch fills) in one
multi-row INSERT. If the database fails, the rows stay pending and the
writer retries with backoff; `stop()` (run on SIGTERM by the lifespan)
flushes everything before the process exits. Until its batch is written, a
row can still be read through `pending()`, so a request is visible to the
analytics API the moment its response is sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections import deque
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from model_router.db.models import Request

log = logging.getLogger(__name__)

Row = dict[str, Any]
_INSERT = insert(Request.metadata.tables[Request.__tablename__])


class RequestLog:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        batch_size: int = 500,
        flush_interval: float = 0.2,
        max_pending: int = 100_000,
    ) -> None:
        self._sessions = sessions
        bind = sessions.kw.get("bind")
        if not isinstance(bind, AsyncEngine):
            raise TypeError("RequestLog needs sessions bound to an AsyncEngine")
        self._engine: AsyncEngine = bind
        self._batch_size = batch_size
        self._flush_interval = flush_interval
        self._max_pending = max_pending
        self._queue: deque[Row] = deque()
        self._by_id: dict[uuid.UUID, Row] = {}
        self._wake = asyncio.Event()
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self.written = 0
        self.failures = 0

    @property
    def depth(self) -> int:
        return len(self._queue)

    def add(self, row: Row) -> None:
        self._queue.append(row)
        self._by_id[row["id"]] = row
        if len(self._queue) >= self._batch_size:
            self._wake.set()
        if len(self._queue) == self._max_pending:
            log.warning("request log: %d rows pending; is the database down?", self._max_pending)

    def pending(self, request_id: uuid.UUID) -> Row | None:
        return self._by_id.get(request_id)

    def pending_rows(self) -> list[Row]:
        return list(self._queue)

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="request-log-writer")

    async def stop(self) -> None:
        """Write everything still pending, then stop."""
        self._closing = True
        self._wake.set()
        if self._task is not None:
            await self._task
        await self.flush()

    async def flush(self) -> None:
        """Write every pending row now (the analytics API calls this before it reads)."""
        async with self._lock:
            await self._flush_locked()

    async def catch_up(self) -> None:
        """Flush before a read, so a caller sees its own requests; never raises."""
        if not self._queue:
            return
        try:
            await self.flush()
        except Exception as exc:  # the reader gets what is in the database
            log.warning("request log: flush before read failed (%s)", exc)

    async def _flush_locked(self) -> None:
        while self._queue:
            batch = [self._queue[i] for i in range(min(self._batch_size, len(self._queue)))]
            # Core, not ORM, insert: one executemany, no unit of work.
            async with self._engine.begin() as conn:
                await conn.execute(_INSERT, batch)
            for row in batch:
                self._queue.popleft()
                self._by_id.pop(row["id"], None)
            self.written += len(batch)

    async def _run(self) -> None:
        backoff = self._flush_interval
        while not self._closing:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=backoff)
            self._wake.clear()
            try:
                await self.flush()
                backoff = self._flush_interval
            except Exception as exc:  # keep the rows; try again later
                self.failures += 1
                backoff = min(30.0, max(1.0, backoff * 2))
                log.error("request log: write failed (%s); %d rows kept", exc, self.depth)
