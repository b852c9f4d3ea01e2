"""`LearnedRouting`: the learner kept in step with the database, off the request path.

A background task writes the queued decisions and revisions every
`flush_seconds` (one transaction, atomic increments of the arms) and reloads
the arms every `refresh_seconds` into a fresh snapshot, with the day's
exploration spend of every instance. The request path only touches memory
(`Learner`). When the database is away, the queue is kept (up to
`MAX_QUEUED` decisions) and written once it is back.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from datetime import time as day_time
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncEngine

from model_router.errors import RouterError
from model_router.routing.auto import AUTO
from model_router.routing.config import RoutingConfig
from model_router.routing.learned.learner import DecisionRecord, Learner, Revision
from model_router.routing.learned.pools import PoolSpec
from model_router.routing.learned.report import build_report
from model_router.routing.learned.store import SqlStore
from model_router.routing.table import RoutingTable
from model_router.schemas.learned_routing import PoolList, PoolReport, PoolSummary

log = logging.getLogger(__name__)

MAX_QUEUED = 100_000
REVISION_TRIES = 5  # flushes a revision waits for its decision to be written


def _is_model(table: RoutingTable, name: str) -> bool:
    try:
        table.get(name)
    except RouterError:
        return False
    return True


class LearnedRouting:
    def __init__(
        self,
        learner: Learner,
        store: SqlStore,
        *,
        flush_seconds: float = 0.5,
        refresh_seconds: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.learner = learner
        self.store = store
        self._flush_seconds = flush_seconds
        self._refresh_seconds = refresh_seconds
        self._clock = clock
        self._task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        self._queued: list[DecisionRecord] = []
        self._waiting: list[tuple[Revision, int]] = []

    @classmethod
    def build(
        cls,
        config: RoutingConfig,
        engine: AsyncEngine,
        *,
        flush_seconds: float = 0.5,
        refresh_seconds: float = 2.0,
    ) -> LearnedRouting:
        learner = Learner(config.pools, file_default=config.default_model)
        return cls(
            learner, SqlStore(engine), flush_seconds=flush_seconds, refresh_seconds=refresh_seconds
        )

    def validate(self, config: RoutingConfig, table: RoutingTable) -> None:
        """Every candidate of `config`'s pools is a model the router knows; no
        pool hides a model (or `auto`). Errors name the file, line and field."""
        for name, pool in self.learner.pools.items():
            if name == AUTO or name in config.routes or _is_model(table, name):
                raise config.error(pool.line, f"pools.{name}", "the name of a model, not a pool")
            for i, model in enumerate(pool.candidates):
                try:
                    table.get(model)
                except RouterError:
                    raise config.error(
                        pool.line,
                        f"pools.{name}.candidates[{i}]",
                        f"'{model}' is neither in the catalogue nor in this file",
                    ) from None

    def pool(self, name: str) -> PoolSpec | None:
        return self.learner.pools.get(name)

    def feedback(self, request_id: uuid.UUID, score: float) -> None:
        """A score from `POST /v1/feedback`: it revises the request's decision,
        if a pool made one (without pools, nothing to revise)."""
        if self.learner.pools:
            self.learner.feedback(request_id, score)

    async def start(self) -> None:
        if not self.learner.pools:
            return
        try:
            await self.refresh()
        except Exception as exc:  # start on the priors; the loop retries
            log.warning("learned routing: cannot load its state yet: %s", exc)
        self._task = asyncio.create_task(self._loop(), name="learned-routing")

    async def _loop(self) -> None:
        next_refresh = self._clock() + self._refresh_seconds
        while True:
            await asyncio.sleep(self._flush_seconds)
            try:
                await self.flush()
                if self._clock() >= next_refresh:
                    next_refresh = self._clock() + self._refresh_seconds
                    await self.refresh()
            except Exception as exc:  # keep the queue and the last snapshot
                log.warning("learned routing: database write or read failed: %s", exc)

    async def flush(self) -> None:
        """Write what is queued: decisions, then revisions (in one transaction)."""
        async with self._lock:
            records, revisions = self.learner.drain()
            self._queued.extend(records)
            if len(self._queued) > MAX_QUEUED:
                dropped = len(self._queued) - MAX_QUEUED
                log.warning("learned routing: %d decisions dropped (database away)", dropped)
                del self._queued[:dropped]
            waiting = self._waiting = [*self._waiting, *((r, 0) for r in revisions)]
            if not self._queued and not waiting:
                return
            missing = await self.store.write(self._queued, [r for r, _ in waiting])
            for record in self._queued:
                if record.explored:
                    self.learner.budget.wrote(record.pool, record.extra_spend_usd)
            self._queued = []
            tries = {id(r): n for r, n in waiting}
            self._waiting = [
                (r, tries[id(r)] + 1) for r in missing if tries[id(r)] + 1 < REVISION_TRIES
            ]

    async def refresh(self) -> None:
        """Reload the arms into a new snapshot, and the day's exploration spend."""
        names = list(self.learner.pools)
        arms = await self.store.arms(names)
        # Drawing sample banks is CPU work: in a thread, so the loop keeps serving.
        self.learner.install(await asyncio.to_thread(self.learner.snapshot, arms))
        today = datetime.now(UTC).date()
        spend = await self.store.explore_spend(
            names, datetime.combine(today, day_time(0), tzinfo=UTC)
        )
        self.learner.budget.roll(today)
        for name in names:
            self.learner.budget.seen(name, spend.get(name, Decimal(0)))

    def listing(self) -> PoolList:
        """The configured pools with their candidates and default model."""
        return PoolList(
            pools=[
                PoolSummary(
                    name=name,
                    candidates=list(pool.candidates),
                    default_model=self.learner.defaults[name],
                    objective=pool.objective,
                )
                for name, pool in self.learner.pools.items()
            ]
        )

    async def report(self, name: str, days: int) -> PoolReport | None:
        pool = self.pool(name)
        if pool is None:
            return None
        await self.flush()
        records = await self.store.decisions(name, days)
        return build_report(name, self.learner.defaults[name], records, days=days)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        with contextlib.suppress(Exception):
            await self.flush()
