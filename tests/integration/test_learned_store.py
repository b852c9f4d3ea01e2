"""Learned routing's shared state on SQLite and PostgreSQL: decisions written
in batches, arms counted by atomic increments, revisions, the day's
exploration spend, and what a second instance sees after a refresh."""

from __future__ import annotations

import random
import uuid
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import anyio
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from model_router.db.engine import make_engine
from model_router.domain.content import Message, Text
from model_router.domain.request import Request
from model_router.routing.learned.learner import Learner, Revision
from model_router.routing.learned.memory import MemoryStore
from model_router.routing.learned.pools import PoolSpec
from model_router.routing.learned.report import build_report
from model_router.routing.learned.runtime import LearnedRouting
from model_router.routing.learned.signals import Outcome
from model_router.routing.learned.store import SqlStore

pytestmark = pytest.mark.anyio

CANDIDATES = [("small", Decimal("0.001")), ("large", Decimal("0.01"))]


def _pool(name: str) -> PoolSpec:
    return PoolSpec(name=name, candidates=("small", "large"), default_model="large")


def _request(text: str = "hello there") -> Request:
    return Request(model="p", messages=[Message("user", [Text(text)])])


@pytest.fixture
async def engine(empty_database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(empty_database_url)
    yield engine
    await engine.dispose()


def _decide(
    learner: Learner, pool: PoolSpec, n: int, *, status: str = "success"
) -> list[uuid.UUID]:
    ids = []
    for _ in range(n):
        request_id = uuid.uuid4()
        decision = learner.choose(pool, _request(), CANDIDATES)
        outcome = Outcome(
            "success" if status == "success" else "error",
            cost_usd=Decimal("0.002"),
            answered_by=decision.chosen,
        )
        learner.observe(request_id, decision, _request(), outcome)
        ids.append(request_id)
    return ids


async def test_decisions_are_stored_and_counted_in_their_arms(engine: AsyncEngine) -> None:
    pool = _pool("stored")
    learner = Learner({pool.name: pool}, rng=random.Random(1))
    _decide(learner, pool, 5, status="error")  # an upstream error: quality 0
    records, _ = learner.drain()
    store = SqlStore(engine)
    assert await store.write(records, []) == []
    await store.write(records, [])  # written twice (a retry): stored and counted once
    arms = await store.arms([pool.name])
    assert sum(a.n for a in arms.values()) == 5
    assert sum(a.beta for a in arms.values()) == 5.0
    stored = await store.decisions(pool.name, days=1)
    assert [r.request_id for r in stored] == [r.request_id for r in records]
    first = stored[0]
    assert first.quality == 0.0 and first.quality_source == "error"
    assert first.estimated_cost_usd in {Decimal("0.001"), Decimal("0.01")}
    assert first.cost_usd == Decimal("0.002")
    assert first.features["script"] == "latin"
    assert abs(sum(c["probability"] for c in first.candidates) - 1) < 1e-9


async def test_concurrent_writers_never_lose_an_increment(
    engine: AsyncEngine, empty_database_url: str
) -> None:
    pool = _pool("concurrent")
    other = make_engine(empty_database_url)  # a second instance
    try:
        stores = [SqlStore(engine), SqlStore(other)]
        batches = []
        for i in range(8):
            learner = Learner({pool.name: pool}, rng=random.Random(i))
            _decide(learner, pool, 10, status="error")
            batches.append(learner.drain()[0])
        async with anyio.create_task_group() as group:
            for i, batch in enumerate(batches):
                group.start_soon(stores[i % 2].write, batch, [])
    finally:
        await other.dispose()
    arms = await SqlStore(engine).arms([pool.name])
    assert sum(a.n for a in arms.values()) == 80
    assert sum(a.beta for a in arms.values()) == 80.0


async def test_feedback_replaces_an_implicit_signal_and_weaker_evidence_does_not(
    engine: AsyncEngine,
) -> None:
    pool = _pool("revised")
    learner = Learner({pool.name: pool}, rng=random.Random(2))
    (request_id,) = _decide(learner, pool, 1, status="error")
    store = SqlStore(engine)
    await store.write(*learner.drain())
    unknown = Revision(uuid.uuid4(), 1.0, "feedback")
    missing = await store.write([], [Revision(request_id, 0.8, "feedback"), unknown])
    assert missing == [unknown]
    await store.write([], [Revision(request_id, 0.0, "regenerated")])  # weaker: ignored
    stored = await store.decision(request_id)
    assert stored is not None and stored.quality == 0.8 and stored.quality_source == "feedback"
    arm = (await store.arms([pool.name]))[(pool.name, stored.task_class, stored.chosen)]
    assert (arm.alpha, arm.n) == (pytest.approx(0.8), 1)
    assert arm.beta == pytest.approx(0.2)


async def test_the_days_exploration_spend_is_summed_per_pool(engine: AsyncEngine) -> None:
    pool = replace(_pool("spend"), exploration=1.0)
    learner = Learner({pool.name: pool}, rng=random.Random(3))
    _decide(learner, pool, 20)
    records, _ = learner.drain()
    yesterday = records[0]
    yesterday.created_at = datetime.now(UTC) - timedelta(days=1)
    store = SqlStore(engine)
    await store.write(records, [])
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    spend = await store.explore_spend([pool.name], today)
    expected = sum((r.extra_spend_usd for r in records[1:] if r.explored), Decimal(0))
    assert expected > 0 and spend[pool.name] == expected


async def test_a_second_instance_sees_what_the_first_learned_after_a_refresh(
    engine: AsyncEngine, empty_database_url: str
) -> None:
    pool = replace(_pool("shared"), exploration=0.0)
    first = LearnedRouting(Learner({pool.name: pool}, rng=random.Random(4)), SqlStore(engine))
    other = make_engine(empty_database_url)
    second = LearnedRouting(Learner({pool.name: pool}, rng=random.Random(5)), SqlStore(other))
    try:
        ids = _decide(first.learner, pool, 30)
        for request_id in ids:  # every answer rated bad, whichever model gave it
            first.feedback(request_id, 0)
        task_class = first.learner.choose(pool, _request(), CANDIDATES).task_class
        await first.flush()
        before = second.learner.posterior(pool.name, task_class)
        assert all(p.mean == 0.5 for p in before.values())
        await second.refresh()
        after = second.learner.posterior(pool.name, task_class)
        assert sum(p.alpha + p.beta - 2 for p in after.values()) == pytest.approx(30)
        assert all(p.mean < 0.5 for p in after.values())
        records = await second.store.decisions(pool.name, days=1)
        assert len(records) == 30 and all(r.quality == 0.0 for r in records)
        report = await second.report(pool.name, days=1)
        assert report is not None and report.requests == 30
    finally:
        await other.dispose()


async def test_the_report_from_the_database_matches_the_report_from_memory(
    engine: AsyncEngine,
) -> None:
    pool = _pool("reported")
    learner = Learner({pool.name: pool}, rng=random.Random(6))
    ids = _decide(learner, pool, 40)
    for i, request_id in enumerate(ids):
        learner.feedback(request_id, float(i % 11))
    records, revisions = learner.drain()
    memory = MemoryStore()
    memory.write(records, revisions)
    store = SqlStore(engine)
    await store.write(records, revisions)
    now = datetime.now(UTC)
    from_db = build_report(pool.name, "large", await store.decisions(pool.name, 1), days=1, now=now)
    in_memory = build_report(pool.name, "large", list(memory.decisions.values()), days=1, now=now)
    assert from_db == in_memory


async def test_decisions_wait_in_memory_while_the_database_is_away(engine: AsyncEngine) -> None:
    pool = _pool("outage")
    away = make_engine("postgresql+asyncpg://postgres@127.0.0.1:9/away")  # nothing listens
    learned = LearnedRouting(Learner({pool.name: pool}, rng=random.Random(7)), SqlStore(away))
    try:
        (request_id,) = _decide(learned.learner, pool, 1)
        learned.feedback(request_id, 7)
        with pytest.raises(Exception):  # noqa: B017 (whatever the driver raises)
            await learned.flush()
        learned.store = SqlStore(engine)  # the database is back
        await learned.flush()
    finally:
        await away.dispose()
    stored = await SqlStore(engine).decision(request_id)
    assert stored is not None and stored.quality == pytest.approx(0.7)
