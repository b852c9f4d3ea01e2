"""The learned router's state in the database, shared by every instance.

- `routing_arms`: per (pool, class, model) counters, changed only by
  `INSERT ... ON CONFLICT DO UPDATE SET alpha = alpha + excluded.alpha`
  (atomic on SQLite and PostgreSQL), so concurrent writers never lose an update.
- `routing_decisions`: one row per decision, inserted in batches; a revision
  (feedback, regeneration) updates the row's quality only if it still holds
  the value read (compare-and-set), and adds the difference to the arm.
"""

from __future__ import annotations

import importlib
import uuid
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Table, and_, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from model_router.db.routing_models import RoutingArm, RoutingDecision
from model_router.routing.learned.learner import DecisionRecord, Revision
from model_router.routing.learned.policy import ArmCounts, ArmKey
from model_router.routing.learned.signals import contribution, revision_delta

ARMS: Table = RoutingArm.__table__  # type: ignore[assignment]
DECISIONS: Table = RoutingDecision.__table__  # type: ignore[assignment]
CAS_TRIES = 3


def _dialect_insert(dialect: str, table: Table) -> Any:
    module: Any = importlib.import_module(f"sqlalchemy.dialects.{dialect}")
    return module.insert(table)


def _row(record: DecisionRecord) -> dict[str, Any]:
    return {
        "request_id": record.request_id,
        "created_at": record.created_at,
        "pool": record.pool,
        "task_class": record.task_class,
        "features": record.features,
        "chosen_model": record.chosen,
        "answered_by": record.answered_by,
        "probability": record.probability,
        "default_model": record.default_model,
        "default_probability": record.default_probability,
        "explored": record.explored,
        "candidates": [
            {**c, "estimated_cost_usd": str(c["estimated_cost_usd"])} for c in record.candidates
        ],
        "estimated_cost_usd": record.estimated_cost_usd,
        "default_cost_usd": record.default_cost_usd,
        "cost_usd": record.cost_usd,
        "extra_spend_usd": record.extra_spend_usd,
        "quality": record.quality,
        "quality_source": record.quality_source,
        "key_id": record.key_id,
        "reason": record.reason,
    }


def record_of(row: Any) -> DecisionRecord:
    return DecisionRecord(
        request_id=row.request_id,
        created_at=row.created_at,
        pool=row.pool,
        task_class=row.task_class,
        features=row.features or {},
        chosen=row.chosen_model,
        answered_by=row.answered_by,
        probability=row.probability,
        default_model=row.default_model,
        default_probability=row.default_probability,
        explored=row.explored,
        candidates=list(row.candidates or []),
        estimated_cost_usd=row.estimated_cost_usd,
        default_cost_usd=row.default_cost_usd,
        cost_usd=row.cost_usd,
        extra_spend_usd=row.extra_spend_usd,
        quality=row.quality,
        quality_source=row.quality_source,
        key_id=row.key_id,
        reason=row.reason,
    )


class SqlStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._dialect = engine.dialect.name

    async def _add_arms(self, conn: AsyncConnection, deltas: dict[ArmKey, ArmCounts]) -> None:
        rows = [
            {
                "pool": pool,
                "task_class": task_class,
                "model": model,
                "alpha": counts.alpha,
                "beta": counts.beta,
                "observations": counts.n,
                "updated_at": datetime.now(UTC),
            }
            for (pool, task_class, model), counts in deltas.items()
            if counts.n or counts.alpha or counts.beta
        ]
        if not rows:
            return
        stmt = _dialect_insert(self._dialect, ARMS)
        stmt = stmt.on_conflict_do_update(
            index_elements=["pool", "task_class", "model"],
            set_={
                "alpha": ARMS.c.alpha + stmt.excluded.alpha,
                "beta": ARMS.c.beta + stmt.excluded.beta,
                "observations": ARMS.c.observations + stmt.excluded.observations,
                "updated_at": stmt.excluded.updated_at,
            },
        )
        for row in sorted(rows, key=lambda r: (r["pool"], r["task_class"], r["model"])):
            await conn.execute(stmt, row)  # in key order: no deadlock between instances

    async def write(
        self, records: Sequence[DecisionRecord], revisions: Sequence[Revision]
    ) -> list[Revision]:
        """Insert the decisions, count them, apply the revisions, in one
        transaction. Returns the revisions whose decision is not in the
        database (yet): the caller may retry them."""
        deltas: dict[ArmKey, ArmCounts] = {}
        missing: list[Revision] = []
        async with self._engine.begin() as conn:
            if records:
                insert = _dialect_insert(self._dialect, DECISIONS).on_conflict_do_nothing(
                    index_elements=["request_id"]
                )
                for record in records:
                    result = await conn.execute(insert, _row(record))
                    if result.rowcount:
                        key = (record.pool, record.task_class, record.chosen)
                        deltas.setdefault(key, ArmCounts()).add(*contribution(record.quality))
            for revision in revisions:
                if not await self._revise(conn, revision, deltas):
                    missing.append(revision)
            await self._add_arms(conn, deltas)
        return missing

    async def _revise(
        self, conn: AsyncConnection, revision: Revision, deltas: dict[ArmKey, ArmCounts]
    ) -> bool:
        """Apply one revision (compare-and-set); False when its decision is unknown."""
        c = DECISIONS.c
        for _ in range(CAS_TRIES):
            found = (
                await conn.execute(
                    select(c.pool, c.task_class, c.chosen_model, c.quality, c.quality_source).where(
                        c.request_id == revision.request_id
                    )
                )
            ).first()
            if found is None:
                return False
            delta = revision_delta(
                found.quality, found.quality_source, revision.quality, revision.source
            )
            if delta is None:
                return True
            same = c.quality.is_(None) if found.quality is None else c.quality == found.quality
            result = await conn.execute(
                update(DECISIONS)
                .where(
                    and_(
                        c.request_id == revision.request_id,
                        same,
                        c.quality_source == found.quality_source,
                    )
                )
                .values(quality=revision.quality, quality_source=revision.source)
            )
            if result.rowcount:
                key = (found.pool, found.task_class, found.chosen_model)
                deltas.setdefault(key, ArmCounts()).add(*delta)
                return True
        return True  # others kept changing it: theirs stands

    async def arms(self, pools: Iterable[str]) -> dict[ArmKey, ArmCounts]:
        names = list(pools)
        if not names:
            return {}
        async with self._engine.connect() as conn:
            rows = await conn.execute(
                select(
                    ARMS.c.pool,
                    ARMS.c.task_class,
                    ARMS.c.model,
                    ARMS.c.alpha,
                    ARMS.c.beta,
                    ARMS.c.observations,
                ).where(ARMS.c.pool.in_(names))
            )
            return {
                (r.pool, r.task_class, r.model): ArmCounts(r.alpha, r.beta, r.observations)
                for r in rows
            }

    async def explore_spend(self, pools: Iterable[str], since: datetime) -> dict[str, Decimal]:
        """Exploration's extra spend per pool since `since` (the UTC day's start)."""
        names = list(pools)
        if not names:
            return {}
        c = DECISIONS.c
        async with self._engine.connect() as conn:
            rows = await conn.execute(
                select(c.pool, func.sum(c.extra_spend_usd))
                .where(c.pool.in_(names), c.created_at >= since, c.explored.is_(True))
                .group_by(c.pool)
            )
            return {pool: Decimal(total or 0) for pool, total in rows}

    async def decisions(
        self, pool: str, days: int, now: datetime | None = None
    ) -> list[DecisionRecord]:
        """A pool's decisions of the last `days` days, oldest first."""
        since = (now or datetime.now(UTC)) - timedelta(days=days)
        c = DECISIONS.c
        async with self._engine.connect() as conn:
            rows = await conn.execute(
                select(DECISIONS)
                .where(c.pool == pool, c.created_at >= since)
                .order_by(c.created_at)
            )
            return [record_of(row) for row in rows]

    async def decision(self, request_id: uuid.UUID) -> DecisionRecord | None:
        async with self._engine.connect() as conn:
            row = (
                await conn.execute(select(DECISIONS).where(DECISIONS.c.request_id == request_id))
            ).first()
            return record_of(row) if row is not None else None
