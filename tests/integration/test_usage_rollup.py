"""The usage_daily rollup equals the request log it sums, on both databases:
rebuilt from rows, added to batch by batch, and backfilled by its migration."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import anyio
import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import MetaData, Table, delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

import model_router.db
from model_router.db import rollup
from model_router.db.engine import make_engine
from model_router.db.models import Request, User
from model_router.db.records import RequestRecord
from model_router.services.request_log import RequestLog

pytestmark = pytest.mark.anyio

ALICE = uuid.UUID(int=0xA11CE)
BOB = uuid.UUID(int=0xB0B)
MAR_9 = date(2025, 3, 9)
MAR_10 = date(2025, 3, 10)


def at(day: date, hour: int) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def request_row(n: int, user: uuid.UUID | None, created: datetime, **fields: Any) -> dict[str, Any]:
    return {
        "id": uuid.UUID(int=n),
        "user_id": user,
        "model": "gpt-4o",
        "provider": "openai",
        "prompt_text": "",
        "status": "success",
        "input_tokens": 0,
        "output_tokens": 0,
        "total_tokens": 0,
        "cached_input_tokens": 0,
        "cache_write_tokens": 0,
        "reasoning_tokens": 0,
        "total_cost_usd": None,
        "cost_unknown": False,
        "latency_ms": None,
        "is_stream": False,
        "created_at": created,
        # One executemany takes its columns from the first row: every row has them all.
        "cache_status": None,
        "saved_cost_usd": None,
        "default_cost_usd": None,
    } | fields


ROWS = [
    # Two of Alice's calls on the 10th at different hours fall in one group.
    request_row(1, ALICE, at(MAR_10, 1), input_tokens=100, output_tokens=20, total_tokens=120,
                cached_input_tokens=40, reasoning_tokens=5,
                total_cost_usd=Decimal("0.123456789012"), latency_ms=100),
    request_row(2, ALICE, at(MAR_10, 23), input_tokens=1, output_tokens=2, total_tokens=3,
                total_cost_usd=Decimal("0.000000000001"), latency_ms=50),
    # An error without latency or provider, for Bob, on the 9th.
    request_row(3, BOB, at(MAR_9, 12), provider=None, status="error", model="nope"),
    # A model without a price: unknown cost, not $0.
    request_row(4, BOB, at(MAR_9, 13), model="mystery", cost_unknown=True, latency_ms=7),
    # A successful call that got no cost also counts as unknown.
    request_row(5, ALICE, at(MAR_9, 14), latency_ms=9),
    # A cache miss, then a hit that cost nothing and saved what the miss cost.
    request_row(6, BOB, at(MAR_10, 2), model="cached", total_cost_usd=Decimal("0.5"),
                cache_status="miss"),
    request_row(7, BOB, at(MAR_10, 3), model="cached", total_cost_usd=Decimal(0),
                cache_status="hit", saved_cost_usd=Decimal("0.5")),
    # An `auto` call: the default model would have cost 0.9, the chosen one cost 0.25.
    request_row(8, BOB, at(MAR_10, 4), model="cheap", total_cost_usd=Decimal("0.25"),
                default_cost_usd=Decimal("0.9")),
    # A failed `auto` call saves nothing.
    request_row(9, BOB, at(MAR_10, 5), model="cheap", status="error",
                default_cost_usd=Decimal("0.9")),
]  # fmt: skip

EXPECTED = {
    (MAR_10, "gpt-4o", "openai"): {
        "requests": 2,
        "successful": 2,
        "input_tokens": 101,
        "output_tokens": 22,
        "total_tokens": 123,
        "cached_input_tokens": 40,
        "reasoning_tokens": 5,
        "cost_usd": Decimal("0.123456789013"),
        "latency_sum": 150,
        "latency_count": 2,
        "unknown_cost": 0,
    },
    (MAR_9, "nope", None): {"requests": 1, "successful": 0, "latency_count": 0},
    (MAR_9, "mystery", "openai"): {"requests": 1, "unknown_cost": 1, "latency_sum": 7},
    (MAR_9, "gpt-4o", "openai"): {"requests": 1, "unknown_cost": 1, "cost_usd": Decimal(0)},
    (MAR_10, "cached", "openai"): {
        "requests": 2,
        "cost_usd": Decimal("0.5"),
        "cache_lookups": 2,
        "cache_hits": 1,
        "cache_saved_usd": Decimal("0.5"),
    },
    (MAR_10, "cheap", "openai"): {
        "requests": 2,
        "successful": 1,
        "routed": 1,
        "routed_default_usd": Decimal("0.9"),
        "routed_actual_usd": Decimal("0.25"),
    },
}


def _groups(rows: list[Any]) -> dict[tuple[date, str, str | None], Any]:
    return {(g.day, g.model, g.provider): g for g in rows}


def _check(groups: dict[tuple[date, str, str | None], Any]) -> None:
    assert set(groups) == set(EXPECTED)
    for key, sums in EXPECTED.items():
        for name, value in sums.items():
            assert getattr(groups[key], name) == value, (key, name)


async def _forget(conn: AsyncConnection) -> None:
    """The database is shared by the session's tests: leave no trace."""
    ids = [r["id"] for r in ROWS]
    await conn.execute(delete(Request).where(Request.id.in_(ids)))
    await conn.execute(delete(rollup.TABLE).where(rollup.TABLE.c.user_id.in_([ALICE, BOB])))
    # The level without the key holds every key's sums: these tests' days are theirs.
    await conn.execute(delete(rollup.ALL_TABLE).where(rollup.ALL_TABLE.c.day.in_([MAR_9, MAR_10])))
    await conn.execute(delete(User).where(User.id.in_([ALICE, BOB])))


async def _seed_users(url: str) -> AsyncEngine:
    engine = make_engine(url)
    async with engine.begin() as conn:
        await _forget(conn)
        await conn.execute(
            insert(User),
            [
                {"id": ALICE, "name": "alice", "key_hash": "a" * 64, "key_prefix": "mr-a"},
                {"id": BOB, "name": "bob", "key_hash": "b" * 64, "key_prefix": "mr-b"},
            ],
        )
    return engine


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = await _seed_users(database_url)
    try:
        yield engine
    finally:
        async with engine.begin() as conn:
            await _forget(conn)
        await engine.dispose()


async def test_rebuild_sums_the_request_log(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await conn.execute(insert(Request), ROWS)
        await rollup.rebuild(conn)
    async with engine.connect() as conn:
        _check(_groups(await rollup.usage_groups(conn, None, MAR_9, MAR_10)))
        only_bob = _groups(await rollup.usage_groups(conn, BOB, MAR_9, MAR_10))
        assert set(only_bob) == {
            (MAR_9, "nope", None),
            (MAR_9, "mystery", "openai"),
            (MAR_10, "cached", "openai"),
            (MAR_10, "cheap", "openai"),
        }
        assert await rollup.usage_groups(conn, None, MAR_10, MAR_10) != []
        assert await rollup.usage_groups(conn, None, date(2025, 3, 11), date(2025, 4, 1)) == []


async def test_batches_added_one_by_one_equal_a_rebuild(engine: AsyncEngine) -> None:
    for batch in (ROWS[:1], ROWS[1:3], ROWS[3:]):
        async with engine.begin() as conn:
            await conn.execute(insert(Request), batch)
            await rollup.add_rows(conn, [RequestRecord.of(row) for row in batch])
    async with engine.connect() as conn:
        incremental = _groups(await rollup.usage_groups(conn, None, MAR_9, MAR_10))
    _check(incremental)
    async with engine.begin() as conn:
        await rollup.rebuild(conn)
    async with engine.connect() as conn:
        rebuilt = _groups(await rollup.usage_groups(conn, None, MAR_9, MAR_10))
    assert {k: tuple(v) for k, v in rebuilt.items()} == {
        k: tuple(v) for k, v in incremental.items()
    }


async def test_the_level_without_the_key_equals_the_rows_and_the_keyed_sums(
    engine: AsyncEngine,
) -> None:
    for batch in (ROWS[:2], ROWS[2:5], ROWS[5:]):
        async with engine.begin() as conn:
            await conn.execute(insert(Request), batch)
            await rollup.add_rows(conn, [RequestRecord.of(row) for row in batch])
    keyed = rollup.TABLE.c
    sums = [func.sum(keyed[name]) for name in rollup.SUMS]
    async with engine.connect() as conn:
        every_key = _groups(await rollup.usage_groups(conn, None, MAR_9, MAR_10))
        per_key = await conn.execute(
            select(keyed.day, keyed.model, keyed.provider, *sums)
            .where(keyed.user_id.in_([ALICE, BOB]))
            .group_by(keyed.day, keyed.model, keyed.provider)
        )
        assert await rollup.count_rows(conn, None, start=MAR_9, end=MAR_10) == len(ROWS)
    _check(every_key)
    assert {
        (day, model, provider or None): tuple(values) for day, model, provider, *values in per_key
    } == {key: tuple(group)[3:] for key, group in every_key.items()}


async def test_the_migration_backfills_rows_already_logged(
    engine: AsyncEngine, database_url: str
) -> None:
    config = Config()
    migrations = Path(model_router.db.__file__).parent / "migrations"
    config.set_main_option("script_location", str(migrations))
    config.set_main_option("sqlalchemy.url", database_url)
    # alembic runs its own event loop: keep it off this one.
    await anyio.to_thread.run_sync(command.downgrade, config, "0005")
    # The table as it was at 0005: without the columns later migrations add.
    later = {
        "front_door",
        "dropped_hints",
        "cache_write_1h_tokens",
        "cache_write_1h_price_per_1m_tokens",
    }
    at_0005 = Table(
        "requests",
        MetaData(),
        *(c._copy() for c in Request.__table__.columns if c.name not in later),
    )
    async with engine.begin() as conn:
        await conn.execute(insert(at_0005), ROWS)
    await anyio.to_thread.run_sync(command.upgrade, config, "head")
    async with engine.connect() as conn:
        _check(_groups(await rollup.usage_groups(conn, None, MAR_9, MAR_10)))


async def test_the_request_log_stores_rows_exactly_and_counts_a_replayed_batch_once(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    """The writer's own insert (one statement for any batch) stores what the ORM
    would, and a batch written again with new rows in it stores and sums only those."""
    detailed = ROWS[0] | {
        "request_messages": [{"role": "user", "content": "h\u00e9llo \U0001f600", "n": 2**70}],
        "tags": {"team": "search"},
        "input_price_per_1m_tokens": Decimal("2.5"),
        "completed_at": at(MAR_10, 2),
        "is_stream": True,
    }
    log = RequestLog(async_sessionmaker(engine), spill_dir=tmp_path)
    for row in (detailed, *ROWS[1:4]):
        log.add(RequestRecord.of(row))
    await log.flush()
    for row in ROWS:  # rows 1-4 again (a replay), 5-9 new
        log.add(RequestRecord.of(row))
    await log.flush()
    assert log.rejected == 0
    async with engine.connect() as conn:
        _check(_groups(await rollup.usage_groups(conn, None, MAR_9, MAR_10)))
    async with AsyncSession(engine) as session:
        stored = await session.get_one(Request, detailed["id"])
        for name, value in detailed.items():  # non-ASCII and past-64-bit JSON included
            assert getattr(stored, name) == value, name


async def test_batches_of_every_size_are_stored_and_summed_once(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    """Statements of 64, 8 and 1 rows on SQLite, one on PostgreSQL: a batch of
    150 is stored whole, and a replay of 70 of them among 10 new adds just 10."""
    day = date(2025, 4, 2)
    rows = [request_row(1000 + n, ALICE, at(day, n % 24), latency_ms=n) for n in range(160)]
    log = RequestLog(async_sessionmaker(engine), spill_dir=tmp_path, batch_size=500)
    try:
        for row in rows[:150]:
            log.add(RequestRecord.of(row))
        await log.flush()
        for row in rows[80:]:  # 70 stored, 10 new
            log.add(RequestRecord.of(row))
        await log.flush()
        async with engine.connect() as conn:
            groups = await rollup.usage_groups(conn, ALICE, day, day)
            stored = await conn.scalar(
                select(func.count()).where(Request.id.in_([r["id"] for r in rows]))
            )
        assert stored == 160
        assert [(g.requests, g.latency_sum) for g in groups] == [(160, sum(range(160)))]
    finally:
        async with engine.begin() as conn:
            await conn.execute(delete(Request).where(Request.id.in_([r["id"] for r in rows])))
            await conn.execute(delete(rollup.TABLE).where(rollup.TABLE.c.day == day))
