"""Retention of the request log, on both databases: rows older than
REQUEST_LOG_RETENTION_DAYS go (PostgreSQL: whole monthly partitions), text older
than REQUEST_TEXT_RETENTION_DAYS is blanked, and usage over the deleted days
stays exact because it is read from the rollup."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import anyio
import pytest
from sqlalchemy import Connection, delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from model_router.db import partitions, queries, request_detail, rollup
from model_router.db.cost_queries import cost_breakdown
from model_router.db.engine import make_engine
from model_router.db.models import Request, User
from model_router.services.log_maintenance import LogMaintenance, UpkeepReport
from tests.helpers import store_as_the_writer

pytestmark = pytest.mark.anyio

NOW = datetime(2026, 6, 15, 12, tzinfo=UTC)
ALICE = uuid.UUID(int=0xA11CE)


def row(n: int, created: datetime, **fields: Any) -> dict[str, Any]:
    return {
        "id": uuid.UUID(int=n),
        "user_id": ALICE,
        "model": "gpt-4o",
        "provider": "openai",
        "prompt_text": f"user: prompt {n}",
        "request_messages": [{"role": "user", "content": f"prompt {n}"}],
        "response_text": f"answer {n}",
        "reasoning_text": None,
        "tool_calls": None,
        "status": "success",
        "input_tokens": 10,
        "output_tokens": 5,
        "total_tokens": 15,
        "total_cost_usd": Decimal("0.000123456789"),
        "latency_ms": 100,
        "created_at": created,
        "cache_status": None,
        "saved_cost_usd": None,
        "default_cost_usd": None,
    } | fields


def days_ago(days: int, hour: int = 10) -> datetime:
    return (NOW - timedelta(days=days)).replace(hour=hour)


# Four months back (a whole partition on PostgreSQL), 40 days back, and yesterday.
ROWS = [
    row(1, days_ago(120)),
    row(2, days_ago(120, 11)),
    row(3, days_ago(40)),
    row(4, days_ago(1)),
    row(5, days_ago(1, 11)),
]


async def _store(engine: AsyncEngine, rows: list[dict[str, Any]]) -> None:
    await store_as_the_writer(engine, rows, NOW)


@pytest.fixture
async def engine(empty_database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(empty_database_url)
    async with engine.begin() as conn:
        await conn.execute(delete(Request))
        await conn.execute(delete(rollup.TABLE))
        await conn.execute(delete(rollup.ALL_TABLE))
        await conn.execute(delete(User))
        await conn.execute(
            insert(User), [{"id": ALICE, "name": "alice", "key_hash": "a" * 64, "key_prefix": "a"}]
        )
    await _store(engine, ROWS)
    try:
        yield engine
    finally:
        await engine.dispose()


async def _ids(engine: AsyncEngine) -> list[int]:
    async with engine.connect() as conn:
        return sorted(i.int for i in await conn.scalars(select(Request.id)))


async def _usage(engine: AsyncEngine) -> Any:
    async with async_sessionmaker(engine)() as session:
        return await queries.usage_summary(session, None, days=365, today=NOW.date())


async def test_rows_past_retention_go_and_usage_keeps_their_totals(engine: AsyncEngine) -> None:
    before = await _usage(engine)
    upkeep = LogMaintenance(engine, retention_days=30, text_retention_days=None, interval=60)

    report = await upkeep.run_once(NOW)

    if engine.dialect.name == "postgresql":
        # Whole months go: February's partition, not May's (row 3 waits for June 1st + 30 days).
        assert report.partitions_dropped == tuple(f"requests_p2026_0{m}" for m in (2, 3, 4))
        assert await _ids(engine) == [3, 4, 5]
    else:
        assert await _ids(engine) == [4, 5]
    after = await _usage(engine)
    assert after.total_requests == before.total_requests == 5
    assert after.total_cost_usd == before.total_cost_usd == Decimal("0.000617283945")
    assert after.total_tokens == before.total_tokens == 75
    by_day = {d.date: d.requests for d in after.daily_stats if d.requests}
    assert by_day == {days_ago(120).date(): 2, days_ago(40).date(): 1, days_ago(1).date(): 2}
    async with async_sessionmaker(engine)() as session:  # the list counts what is left
        listed = await queries.list_requests(session, None, queries.RequestFilter())
        errors = await queries.list_requests(session, None, queries.RequestFilter(status="error"))
    assert (listed.total, errors.total) == (len(await _ids(engine)), 0)
    # Running again finds nothing more to do.
    again = await upkeep.run_once(NOW)
    assert (again.rows_deleted, again.partitions_dropped) == (0, ())


async def test_costs_by_key_and_model_keep_the_totals_of_deleted_rows(
    engine: AsyncEngine,
) -> None:
    async def costs(group_by: str) -> list[tuple[str | None, int, Decimal]]:
        async with async_sessionmaker(engine)() as session:
            found = await cost_breakdown(session, None, group_by=group_by, days=3650, tags=[])
        return [(g.group, g.requests, g.total_cost_usd) for g in found.groups]

    before = {group_by: await costs(group_by) for group_by in ("key", "model")}
    await LogMaintenance(engine, retention_days=30, text_retention_days=None, interval=60).run_once(
        NOW
    )
    assert before["model"] == [("gpt-4o", 5, Decimal("0.000617283945"))]
    assert before["key"] == [(str(ALICE), 5, Decimal("0.000617283945"))]
    assert {group_by: await costs(group_by) for group_by in ("key", "model")} == before


async def test_a_rollup_rebuild_keeps_the_days_retention_deleted(engine: AsyncEngine) -> None:
    await LogMaintenance(engine, retention_days=30, text_retention_days=None, interval=60).run_once(
        NOW
    )
    async with engine.begin() as conn:
        await rollup.rebuild(conn)
    assert (await _usage(engine)).total_requests == 5


async def test_text_past_its_retention_is_blanked_and_tokens_and_costs_stay(
    engine: AsyncEngine,
) -> None:
    upkeep = LogMaintenance(
        engine, retention_days=None, text_retention_days=7, interval=60, batch_rows=2
    )

    report = await upkeep.run_once(NOW)

    assert report.texts_blanked == 3
    async with engine.connect() as conn:
        rows = {r.id.int: r for r in await conn.execute(select(Request))}
    for n in (1, 2, 3):
        blank = rows[n]
        assert blank.prompt_text == ""
        assert (blank.request_messages, blank.response_text) == (None, None)
        assert (blank.total_tokens, blank.total_cost_usd) == (15, Decimal("0.000123456789"))
    for n in (4, 5):
        assert rows[n].prompt_text == f"user: prompt {n}"
        assert rows[n].response_text == f"answer {n}"
    assert (await _usage(engine)).total_requests == 5


async def test_blanked_text_is_no_longer_found_by_search(engine: AsyncEngine) -> None:
    await LogMaintenance(engine, retention_days=None, text_retention_days=7, interval=60).run_once(
        NOW
    )
    async with async_sessionmaker(engine)() as session:
        page = await queries.list_requests(session, None, queries.RequestFilter(search="prompt"))
    assert sorted(r.id.int for r in page.requests) == [4, 5]


async def test_rows_are_deleted_in_small_batches_until_none_is_left(engine: AsyncEngine) -> None:
    await _store(engine, [row(100 + n, days_ago(50, n % 24)) for n in range(25)])
    upkeep = LogMaintenance(
        engine, retention_days=30, text_retention_days=None, interval=60, batch_rows=4
    )
    await upkeep.run_once(NOW)
    assert await _ids(engine) == ([3, 4, 5] if engine.dialect.name == "postgresql" else [4, 5])
    assert (await _usage(engine)).total_requests == 30


async def test_without_settings_nothing_expires(engine: AsyncEngine) -> None:
    upkeep = LogMaintenance(engine, retention_days=None, text_retention_days=None, interval=60)
    report = await upkeep.run_once(NOW)
    assert (report.rows_deleted, report.texts_blanked, report.partitions_dropped) == (0, 0, ())
    assert await _ids(engine) == [1, 2, 3, 4, 5]


async def test_the_background_job_runs_at_start(engine: AsyncEngine) -> None:
    upkeep = LogMaintenance(engine, retention_days=1, text_retention_days=None, interval=3600)
    passes: list[UpkeepReport] = []
    done = anyio.Event()
    first_pass = upkeep.run_once

    async def observed(now: datetime | None = None) -> UpkeepReport:
        passes.append(await first_pass(now))
        done.set()
        return passes[-1]

    upkeep.run_once = observed  # type: ignore[method-assign]
    await upkeep.start()
    with anyio.fail_after(60):
        await done.wait()
    await upkeep.stop()
    # The first pass ran at start, with today's cutoff: every fixture row is older.
    async with engine.connect() as conn:
        left = await conn.scalar(select(func.count()).select_from(Request))
    assert left == 0


def _partition_of(conn: Connection, request_id: uuid.UUID) -> str:
    return str(
        conn.exec_driver_sql(
            "SELECT tableoid::regclass::text FROM requests WHERE id = $1", (request_id,)
        ).scalar()
    )


@pytest.mark.postgres
async def test_postgres_rows_land_in_their_month_and_late_months_take_theirs_from_the_default(
    engine: AsyncEngine,
) -> None:
    early = datetime(2020, 1, 5, tzinfo=UTC)
    async with engine.begin() as conn:  # no partition for January 2020: the default takes it
        await conn.execute(insert(Request), [row(200, early)])
        assert await conn.run_sync(_partition_of, uuid.UUID(int=200)) == "requests_default"
        assert await conn.run_sync(_partition_of, uuid.UUID(int=4)) == "requests_p2026_06"
        made = await conn.run_sync(partitions.ensure, early, early)
        assert made == ["requests_p2020_01"]
        assert await conn.run_sync(_partition_of, uuid.UUID(int=200)) == "requests_p2020_01"
        assert await conn.run_sync(partitions.ensure, early, early) == []
        await conn.execute(delete(Request).where(Request.id == uuid.UUID(int=200)))


@pytest.mark.postgres
async def test_postgres_makes_months_ahead(engine: AsyncEngine) -> None:
    future = datetime(2031, 11, 20, tzinfo=UTC)
    async with engine.begin() as conn:
        made = await conn.run_sync(partitions.ensure_ahead, future)
        assert made == ["requests_p2031_11", "requests_p2031_12", "requests_p2032_01"]
        for name in made:
            await conn.exec_driver_sql(f"DROP TABLE {name}")


@pytest.mark.postgres
async def test_postgres_lookup_by_id_reads_only_the_partitions_around_its_time(
    engine: AsyncEngine,
) -> None:
    millis = int(days_ago(1).timestamp() * 1000)
    request_id = uuid.UUID(int=(millis << 80) | (0x7 << 76) | (0b10 << 62) | 12345)
    await _store(engine, [row(0, days_ago(1)) | {"id": request_id}])
    lower, upper = (clause.right.value for clause in request_detail.id_window(request_id))  # type: ignore[attr-defined]
    async with engine.connect() as conn:
        explained = await conn.exec_driver_sql(
            "EXPLAIN SELECT * FROM requests WHERE id = $1 AND created_at >= $2 "
            "AND created_at <= $3",
            (request_id, lower, upper),
        )
        plan = "\n".join(str(r[0]) for r in explained)
    assert "requests_p2026_06" in plan
    assert "requests_p2026_02" not in plan and "requests_default" not in plan
    async with async_sessionmaker(engine)() as session:
        found = await request_detail.get_request(session, None, request_id)
        # A UUIDv7 whose time is not its row's is still found (all partitions).
        stray = await request_detail.get_request(session, None, uuid.UUID(int=1))
    assert found is not None and found.id == request_id
    assert stray is not None


async def test_search_on_sqlite_reads_the_fts_index_and_matches_like(
    engine: AsyncEngine,
) -> None:
    prompts = ["Invoice №42 für Müller", "an INVOICE due", "in voice", "ÉCOLE élève", "ab"]
    await _store(engine, [row(300 + n, days_ago(2), prompt_text=p) for n, p in enumerate(prompts)])
    needles = ["invoice", "Invoice №", "für m", "école", "ÉCOLE", "élève", "ab", "zzz", '"a']
    async with async_sessionmaker(engine)() as session:
        for needle in needles:
            found = await queries.list_requests(
                session, None, queries.RequestFilter(search=needle), per_page=100
            )
            like = await session.scalars(
                select(Request.id).where(Request.prompt_text.icontains(needle, autoescape=True))
            )
            assert sorted(r.id for r in found.requests) == sorted(like), needle


async def test_the_cutoff_is_a_whole_utc_day() -> None:
    from model_router.db.retention import cutoff_for

    assert cutoff_for(30, NOW) == datetime(2026, 5, 16, tzinfo=UTC)
    assert cutoff_for(1, NOW).date() == date(2026, 6, 14)
