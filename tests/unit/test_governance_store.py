"""The counter stores, one conformance suite: in process, and on the real Redis
(a key prefix of its own per test, removed afterwards)."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from dataclasses import replace

import pytest
import redis.asyncio as aioredis

from model_router.governance.redis_store import RedisStore
from model_router.governance.store import AdmitRequest, MemoryStore, SettleRequest, Store

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
NOW = 1_800_000_000.0


@pytest.fixture(params=["memory", "redis"])
async def store(request: pytest.FixtureRequest) -> AsyncIterator[Store]:
    if request.param == "memory":
        yield MemoryStore()
        return
    prefix = f"mrtest:{uuid.uuid4().hex[:12]}:"
    found = RedisStore(REDIS_URL, prefix)
    try:
        yield found
    finally:
        await found.aclose()
        client = aioredis.Redis.from_url(REDIS_URL)
        keys = [k async for k in client.scan_iter(match=f"{prefix}*")]
        if keys:
            await client.delete(*keys)
        await client.aclose()


def admit(**changes: object) -> AdmitRequest:
    base = AdmitRequest(
        key_id="k1",
        window=int(NOW // 60),
        rpm_limit=0,
        tpm_limit=0,
        tokens=0,
        budget_nano=-1,
        period="total",
        period_ttl=0,
        reserve_nano=0,
        reservation=uuid.uuid4().hex,
        now=NOW,
        deadline=NOW + 3600,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def settle(request: AdmitRequest, actual_nano: int, tokens_delta: int = 0) -> SettleRequest:
    return SettleRequest(
        key_id=request.key_id,
        window=request.window,
        tokens_delta=tokens_delta,
        budget_nano=request.budget_nano,
        period=request.period,
        period_ttl=request.period_ttl,
        reservation=request.reservation,
        actual_nano=actual_nano,
        actual_pico=actual_nano * 1000,
    )


@pytest.mark.anyio
async def test_rpm_counts_admitted_requests_only(store: Store) -> None:
    results = [await store.admit(admit(rpm_limit=2)) for _ in range(4)]
    assert [r.outcome for r in results] == ["ok", "ok", "rpm", "rpm"]
    assert [r.requests for r in results] == [1, 2, 2, 2]
    next_minute = await store.admit(admit(rpm_limit=2, window=int(NOW // 60) + 1))
    assert next_minute.outcome == "ok" and next_minute.requests == 1


@pytest.mark.anyio
async def test_tpm_counts_the_bound_then_the_actual(store: Store) -> None:
    first = admit(tpm_limit=100, tokens=60)
    assert (await store.admit(first)).outcome == "ok"
    assert (await store.admit(admit(tpm_limit=100, tokens=60))).outcome == "tpm"
    await store.settle(settle(first, 0, tokens_delta=-50))  # it used 10
    assert (await store.admit(admit(tpm_limit=100, tokens=60))).tokens == 70


@pytest.mark.anyio
async def test_reservations_fit_the_budget_or_are_refused(store: Store) -> None:
    budget = {"budget_nano": 1000, "period": "p1"}
    a = admit(reserve_nano=600, **budget)
    b = admit(reserve_nano=600, **budget)
    assert (await store.admit(a)).outcome == "ok"
    refused = await store.admit(b)
    assert refused.outcome == "budget" and refused.reserved_nano == 600
    assert refused.crossed == 0  # refused for the calls in flight, not for the spend
    done = await store.settle(settle(a, 550))
    assert done.spent_pico == 550_000 and done.crossed == 50
    assert await store.spend("k1", "p1") == (550_000, 0)
    exhausted = await store.admit(b)
    assert exhausted.outcome == "budget" and exhausted.crossed == 100  # notified once
    assert (await store.admit(b)).crossed == 0
    assert (await store.admit(admit(reserve_nano=450, **budget))).outcome == "ok"


@pytest.mark.anyio
async def test_settling_twice_or_unknown_reservations_never_double_counts(store: Store) -> None:
    request = admit(budget_nano=10_000, period="p2", reserve_nano=500)
    await store.admit(request)
    await store.settle(settle(request, 0))
    assert await store.spend("k1", "p2") == (0, 0)
    orphan = admit(budget_nano=10_000, period="p2", reserve_nano=500)
    await store.settle(settle(orphan, 300))  # its reservation had expired: spend counts
    assert await store.spend("k1", "p2") == (300_000, 0)


@pytest.mark.anyio
async def test_expired_reservations_are_dropped(store: Store) -> None:
    budget = {"budget_nano": 1000, "period": "p3"}
    await store.admit(admit(reserve_nano=900, deadline=NOW + 1, **budget))
    later = admit(reserve_nano=900, now=NOW + 2, deadline=NOW + 100, **budget)
    assert (await store.admit(later)).outcome == "ok"
    assert (await store.spend("k1", "p3"))[1] == 900


@pytest.mark.anyio
async def test_parallel_admissions_never_exceed_the_budget(store: Store) -> None:
    requests = [admit(budget_nano=10_000, period="p4", reserve_nano=700) for _ in range(50)]
    results = await asyncio.gather(*(store.admit(r) for r in requests))
    admitted = [r for r, res in zip(requests, results, strict=True) if res.outcome == "ok"]
    assert len(admitted) == 14  # 14 x 700 <= 10,000 < 15 x 700
    await asyncio.gather(*(store.settle(settle(r, 650)) for r in admitted))
    assert await store.spend("k1", "p4") == (14 * 650_000, 0)


@pytest.mark.anyio
async def test_seeding_only_raises_spend(store: Store) -> None:
    await store.seed("k1", "p5", 0, 5_000_000)
    await store.seed("k1", "p5", 0, 1_000_000)
    assert await store.spend("k1", "p5") == (5_000_000, 0)
    refused = await store.admit(admit(budget_nano=5_500, period="p5", reserve_nano=600))
    assert refused.outcome == "budget"
