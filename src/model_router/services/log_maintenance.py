"""The request log's upkeep, in the background: partitions ahead, retention.

Started by the app's lifespan. At start (in the background, but for the
partitions) and every `interval` seconds:

1. PostgreSQL: this month's partition and the next ones exist (db/partitions.py);
2. rows older than `retention_days` go (`db.retention.expire_rows`);
3. prompt and response text older than `text_retention_days` is blanked.

Each step is skipped when its setting is unset, and a failure is logged and
tried again next time: the upkeep never takes the router down. With several
workers each runs it; the partition DDL is serialised by an advisory lock and
the batched deletes and updates are idempotent.
"""

from __future__ import annotations

import asyncio
import logging
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncEngine

from model_router.db import partitions, retention

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class UpkeepReport:
    partitions_made: tuple[str, ...] = ()
    partitions_dropped: tuple[str, ...] = ()
    rows_deleted: int = 0
    texts_blanked: int = 0


class LogMaintenance:
    def __init__(
        self,
        engine: AsyncEngine,
        *,
        retention_days: int | None,
        text_retention_days: int | None,
        interval: float,
        batch_rows: int = retention.BATCH_ROWS,
    ) -> None:
        self._engine = engine
        self._retention_days = retention_days
        self._text_days = text_retention_days
        self._interval = interval
        self._batch = batch_rows
        self._text_done: datetime | None = None  # text blanked up to here
        self._task: asyncio.Task[None] | None = None

    async def run_once(self, now: datetime | None = None) -> UpkeepReport:
        """One pass of every step, now."""
        now = now or datetime.now(UTC)
        async with self._engine.begin() as conn:
            made = await conn.run_sync(partitions.ensure_ahead, now)
        expired = retention.Expired()
        if self._retention_days is not None:
            cutoff = retention.cutoff_for(self._retention_days, now)
            expired = await retention.expire_rows(self._engine, cutoff, batch=self._batch)
        blanked = 0
        if self._text_days is not None:
            cutoff = retention.cutoff_for(self._text_days, now)
            blanked = await retention.expire_text(
                self._engine, cutoff, since=self._text_done, batch=self._batch
            )
            self._text_done = cutoff
        report = UpkeepReport(tuple(made), expired.partitions, expired.rows, blanked)
        if made or expired.partitions or expired.rows or blanked:
            log.info(
                "request log upkeep: partitions made %s, dropped %s; %d rows deleted, "
                "%d texts blanked",
                list(made),
                list(expired.partitions),
                expired.rows,
                blanked,
            )
        return report

    async def _pass(self) -> None:
        try:
            await self.run_once()
        except Exception as exc:  # logged and retried: upkeep never stops the router
            log.warning("request log upkeep failed (retried in %.0f s): %s", self._interval, exc)

    async def _loop(self) -> None:
        while True:
            await self._pass()
            await asyncio.sleep(self._interval)

    async def start(self) -> None:
        """This month's partitions now (they exist before the first row); every
        pass, the first included, in the background: a first retention pass
        over a large log must not hold up the start."""
        try:
            async with self._engine.begin() as conn:
                await conn.run_sync(partitions.ensure_ahead, datetime.now(UTC))
        except Exception as exc:  # the default partition takes the rows meanwhile
            log.warning("request log upkeep: partitions not made at start: %s", exc)
        self._task = asyncio.create_task(self._loop(), name="request-log-upkeep")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with suppress(asyncio.CancelledError):
                await self._task
            self._task = None
