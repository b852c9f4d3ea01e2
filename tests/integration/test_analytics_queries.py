"""The analytics queries, run directly on SQLite and on PostgreSQL.

One database per backend for the whole module, seeded once with rows whose
tokens, costs, dates and prompts are known; the tests only read. PostgreSQL
gets a database of its own, dropped at the end; without a reachable server its
half is skipped, unless REQUIRE_POSTGRES=1, where that is a failure.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from model_router.db import listings, queries, request_detail, rollup
from model_router.db.engine import make_engine
from model_router.db.models import Base, Model, Provider, Request, User
from model_router.db.queries import RequestFilter
from model_router.schemas.analytics import UsageResponse

pytestmark = pytest.mark.anyio

PG_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")

TODAY = date(2025, 3, 10)
USER_A = uuid.UUID(int=0xA)
USER_B = uuid.UUID(int=0xB)
LONG_PROMPT = "back\\slash C:\\temp " + "y" * 300


def rid(n: int) -> uuid.UUID:
    return uuid.UUID(int=0x1000 + n)


def at(
    day_offset: int, hour: int = 0, minute: int = 0, second: int = 0, micro: int = 0
) -> datetime:
    day = TODAY + timedelta(days=day_offset)
    return datetime(day.year, day.month, day.day, hour, minute, second, micro, tzinfo=UTC)


def row(n: int, user: uuid.UUID, created_at: datetime, **fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": rid(n),
        "user_id": user,
        "model": "gpt-4o",
        "provider": "openai",
        "prompt_text": "",
        "request_messages": [{"role": "user", "content": fields.get("prompt_text", "")}],
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
        "created_at": created_at,
    }
    return base | fields


ROWS = [
    row(1, USER_A, at(0, 10), prompt_text="Hello 100% sure, a/b", input_tokens=100,
        output_tokens=50, total_tokens=150, cached_input_tokens=10, reasoning_tokens=5,
        input_price_per_1m_tokens=Decimal("0.7"), input_cost_usd=Decimal("0.00000007"),
        output_cost_usd=Decimal("0.000000035"), total_cost_usd=Decimal("0.000000105"),
        latency_ms=100, ttft_ms=40, is_stream=True,
        tool_calls=[{"id": "c1", "name": "f", "arguments": "{}"}]),
    row(2, USER_A, at(-1, 23, 59, 59, 999_999), prompt_text="under_score and O'Brien",
        input_tokens=200, output_tokens=100, total_tokens=300, total_cost_usd=Decimal("0.1"),
        latency_ms=300),
    row(3, USER_A, at(-2), model="claude", provider="anthropic", prompt_text=LONG_PROMPT,
        input_tokens=1000, output_tokens=10, total_tokens=1010, total_cost_usd=Decimal("0.2")),
    row(4, USER_A, at(-2, 5), model="claude", provider="anthropic", status="error",
        prompt_text="FAILED request: temp file", error_message="boom", latency_ms=50,
        upstream_status=500, http_status=502),
    row(5, USER_A, at(-3, 12), model="mystery", prompt_text="plain 100 percent, under score",
        input_tokens=10, output_tokens=10, total_tokens=20, cost_unknown=True, latency_ms=200),
    row(6, USER_A, at(-40), prompt_text="old", total_cost_usd=Decimal(5)),
    row(7, USER_A, at(1, 1), prompt_text="future", total_cost_usd=Decimal(7)),
    row(8, USER_B, at(0, 11), prompt_text="Hello 100% sure from B", input_tokens=1,
        output_tokens=1, total_tokens=2, total_cost_usd=Decimal(1), latency_ms=10),
    # Successful, priced model, but no cost: counts as unknown cost.
    row(9, USER_A, at(0, 12), prompt_text="HELLO again", input_tokens=5, output_tokens=5,
        total_tokens=10, latency_ms=150),
]  # fmt: skip


# --- the database, per backend -----------------------------------------------------


@pytest.fixture(scope="module")
def anyio_backend() -> str:
    return "asyncio"


def _dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://")


@asynccontextmanager
async def _fresh_database(backend: str, tmp: pytest.TempPathFactory) -> AsyncIterator[str]:
    if backend == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp.mktemp('analytics') / 'router.db'}"
        return
    import asyncpg

    try:
        admin = await asyncpg.connect(_dsn(PG_ADMIN_URL), timeout=3)
    except (OSError, asyncpg.PostgresError) as exc:
        if os.environ.get("REQUIRE_POSTGRES") == "1":
            pytest.fail(f"PostgreSQL is required (REQUIRE_POSTGRES=1) but unreachable: {exc}")
        pytest.skip("PostgreSQL is not reachable; set REQUIRE_POSTGRES=1 to make this a failure")
    name = f"mr_analytics_{uuid.uuid4().hex[:12]}"
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        base = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
        yield f"{base}/{name}"
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def _seed(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions.begin() as session:
        for user_id, name in ((USER_A, "a"), (USER_B, "b")):
            session.add(User(id=user_id, name=name, key_hash=name * 64, key_prefix=f"mr-{name}"))
        openai = Provider(name="openai", protocol="openai", api_key_setting="OPENAI_API_KEY")
        retired = Provider(
            name="retired", protocol="openai", api_key_setting="RETIRED_KEY", is_active=False
        )
        session.add_all([openai, retired])
        await session.flush()
        session.add_all(
            [
                Model(
                    provider_id=openai.id,
                    model_id="gpt-4o",
                    display_name="GPT-4o",
                    input_price_per_1m_tokens=Decimal("2.5"),
                    output_price_per_1m_tokens=Decimal("10"),
                    cached_input_price_per_1m_tokens=Decimal("1.25"),
                    context_window=128_000,
                ),
                Model(provider_id=openai.id, model_id="mystery", display_name="Mystery"),
                Model(provider_id=retired.id, model_id="old-model", display_name="Old"),
            ]
        )
        await session.flush()
        await session.execute(insert(Request), ROWS)
        # Rows written around the request log's writer: sum them as a bulk load does.
        await rollup.rebuild(await session.connection())


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
async def sessions(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    async with _fresh_database(request.param, tmp_path_factory) as url:
        engine = make_engine(url)
        try:
            async with engine.begin() as conn:
                await conn.run_sync(Base.metadata.create_all)
            factory = async_sessionmaker(engine, expire_on_commit=False)
            await _seed(factory)
            yield factory
        finally:
            await engine.dispose()


async def usage(
    sessions: async_sessionmaker[AsyncSession], scope: uuid.UUID | None, days: int = 30
) -> UsageResponse:
    async with sessions() as session:
        return await queries.usage_summary(session, scope, days=days, today=TODAY)


async def page_ids(
    sessions: async_sessionmaker[AsyncSession],
    scope: uuid.UUID | None,
    filters: RequestFilter | None = None,
    **kwargs: int,
) -> list[int]:
    async with sessions() as session:
        result = await queries.list_requests(session, scope, filters or RequestFilter(), **kwargs)
    return [r.id.int - 0x1000 for r in result.requests]


# --- usage ---------------------------------------------------------------------------


async def test_money_sums_come_back_as_exact_decimals(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as session:
        total = await session.scalar(
            select(func.sum(Request.total_cost_usd)).where(Request.id.in_([rid(1), rid(2), rid(3)]))
        )
        empty = await session.scalar(
            select(func.sum(Request.total_cost_usd)).where(Request.id == rid(4))
        )
    assert isinstance(total, Decimal)
    assert total == Decimal("0.300000105")
    assert empty is None  # the query layer turns this into Decimal(0)


async def test_usage_totals_are_exact_and_scoped_to_the_user(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    result = await usage(sessions, USER_A)

    assert (result.period_days, result.start_date, result.end_date) == (
        30,
        date(2025, 2, 9),
        TODAY,
    )
    assert result.total_requests == 6  # not the old, the future, nor B's
    assert (result.successful_requests, result.failed_requests) == (5, 1)
    assert (result.success_rate, result.success_rate_percent) == (0.8333, 83.33)
    assert result.total_input_tokens == 1315
    assert result.total_output_tokens == 175
    assert result.total_tokens == 1490
    assert result.cached_input_tokens == 10
    assert result.reasoning_tokens == 5
    assert result.total_cost_usd == Decimal("0.300000105")
    assert type(result.total_cost_usd) is Decimal
    assert result.average_latency_ms == 160.0
    assert result.requests_with_unknown_cost == 2


async def test_usage_breaks_down_by_model_and_provider(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    result = await usage(sessions, USER_A)

    assert [m.model_dump() for m in result.by_model] == [
        {
            "model": "gpt-4o",
            "provider": "openai",
            "requests": 3,
            "input_tokens": 305,
            "output_tokens": 155,
            "total_cost_usd": Decimal("0.100000105"),
            "cost_usd": Decimal("0.100000105"),
            "average_latency_ms": 183.33,
        },
        {
            "model": "claude",
            "provider": "anthropic",
            "requests": 2,
            "input_tokens": 1000,
            "output_tokens": 10,
            "total_cost_usd": Decimal("0.2"),
            "cost_usd": Decimal("0.2"),
            "average_latency_ms": 50.0,
        },
        {
            "model": "mystery",
            "provider": "openai",
            "requests": 1,
            "input_tokens": 10,
            "output_tokens": 10,
            "total_cost_usd": Decimal(0),
            "cost_usd": Decimal(0),
            "average_latency_ms": 200.0,
        },
    ]
    assert [(p.provider, p.requests, p.total_cost_usd) for p in result.by_provider] == [
        ("openai", 4, Decimal("0.100000105")),
        ("anthropic", 2, Decimal("0.2")),
    ]


async def test_daily_stats_cover_every_day_oldest_first_zero_filled(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    result = await usage(sessions, USER_A)

    days = [d.date for d in result.daily_stats]
    assert days == [date(2025, 2, 9) + timedelta(days=i) for i in range(30)]
    by_day = {d.date: d for d in result.daily_stats}
    today = by_day[TODAY]
    assert (today.requests, today.successful_requests, today.failed_requests) == (2, 2, 0)
    assert (today.input_tokens, today.output_tokens, today.total_tokens) == (105, 55, 160)
    assert today.total_cost_usd == Decimal("0.000000105")
    assert today.average_latency_ms == 125.0
    # 23:59:59.999999 stays on its own day; 00:00:00 starts the next.
    assert by_day[date(2025, 3, 9)].requests == 1
    two_days_ago = by_day[date(2025, 3, 8)]
    assert (two_days_ago.requests, two_days_ago.failed_requests) == (2, 1)
    assert two_days_ago.total_cost_usd == Decimal("0.2")
    assert by_day[date(2025, 3, 7)].total_cost_usd == Decimal(0)
    empty = by_day[date(2025, 2, 9)]
    assert (empty.requests, empty.total_cost_usd, empty.average_latency_ms) == (0, Decimal(0), None)
    assert sum(d.requests for d in result.daily_stats) == result.total_requests
    assert sum((d.total_cost_usd for d in result.daily_stats), Decimal(0)) == Decimal("0.300000105")


async def test_usage_window_length_follows_days(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    one = await usage(sessions, USER_A, days=1)
    year = await usage(sessions, USER_A, days=365)

    assert [d.date for d in one.daily_stats] == [TODAY]
    assert one.total_requests == 2
    assert len(year.daily_stats) == 365
    assert year.daily_stats[0].date == TODAY - timedelta(days=364)
    assert year.total_cost_usd == Decimal("5.300000105")  # the 40-day-old row is in


async def test_admin_scope_sees_everyone(sessions: async_sessionmaker[AsyncSession]) -> None:
    everyone = await usage(sessions, None)
    only_b = await usage(sessions, USER_B)

    assert everyone.total_requests == 7
    assert everyone.total_cost_usd == Decimal("1.300000105")
    assert (only_b.total_requests, only_b.total_cost_usd) == (1, Decimal(1))
    assert only_b.by_model[0].average_latency_ms == 10.0


async def test_usage_of_a_user_without_requests_is_zero(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    result = await usage(sessions, uuid.uuid4(), days=7)

    assert result.total_requests == 0
    assert result.success_rate == 0.0
    assert result.total_cost_usd == Decimal(0)
    assert type(result.total_cost_usd) is Decimal
    assert result.average_latency_ms is None
    assert (result.by_model, result.by_provider) == ([], [])
    assert len(result.daily_stats) == 7
    assert all(d.requests == 0 for d in result.daily_stats)


# --- the request log -------------------------------------------------------------------


async def test_requests_are_newest_first_and_scoped(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    assert await page_ids(sessions, USER_A) == [7, 9, 1, 2, 4, 3, 5, 6]
    assert await page_ids(sessions, USER_B) == [8]
    assert await page_ids(sessions, None) == [7, 9, 8, 1, 2, 4, 3, 5, 6]


async def test_pagination_counts_pages_and_ends_empty(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as session:
        third = await queries.list_requests(session, USER_A, RequestFilter(), page=3, per_page=3)
        past = await queries.list_requests(session, USER_A, RequestFilter(), page=99, per_page=3)
        none = await queries.list_requests(session, USER_A, RequestFilter(model="nope"))

    assert (third.total, third.page, third.per_page, third.total_pages) == (8, 3, 3, 3)
    assert [r.id for r in third.requests] == [rid(5), rid(6)]
    assert (past.requests, past.total, past.total_pages) == ([], 8, 3)
    assert (none.requests, none.total, none.total_pages) == ([], 0, 0)
    assert await page_ids(sessions, USER_A, page=2, per_page=4) == [4, 3, 5, 6]


async def test_request_summaries_carry_a_prompt_preview(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as session:
        result = await queries.list_requests(session, USER_A, RequestFilter(model="claude"))

    error, success = result.requests
    assert success.prompt_preview == LONG_PROMPT[:200]
    assert (success.total_cost_usd, success.latency_ms) == (Decimal("0.2"), None)
    assert (error.status, error.error_message, error.total_cost_usd) == ("error", "boom", None)
    assert error.created_at == at(-2, 5)
    assert error.user_id == USER_A


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        (RequestFilter(model="claude"), [4, 3]),
        (RequestFilter(status="error"), [4]),
        (RequestFilter(status="success", model="gpt-4o"), [7, 9, 1, 2, 6]),
        (RequestFilter(start=TODAY - timedelta(days=2), end=TODAY - timedelta(days=1)), [2, 4, 3]),
        (RequestFilter(end=at(-2)), [3, 5, 6]),  # a datetime end is inclusive, to the microsecond
        (RequestFilter(start=at(-1, 23, 59, 59, 999_999)), [7, 9, 1, 2]),
        (RequestFilter(start=datetime(2025, 3, 10, 0, 0, tzinfo=timezone(timedelta(hours=1)))),
         [7, 9, 1, 2]),  # 2025-03-09T23:00Z
        (RequestFilter(start=TODAY, end=TODAY - timedelta(days=1)), []),
        (RequestFilter(end=date.max), [7, 9, 1, 2, 4, 3, 5, 6]),
    ],
)  # fmt: skip
async def test_filters(
    sessions: async_sessionmaker[AsyncSession], filters: RequestFilter, expected: list[int]
) -> None:
    assert await page_ids(sessions, USER_A, filters) == expected


@pytest.mark.parametrize(
    ("search", "expected"),
    [
        ("100%", [1]),  # not "100 percent"
        ("%", [1]),
        ("under_score", [2]),  # not "under score"
        ("_", [2]),
        ("O'Brien", [2]),
        ("o'brien", [2]),
        ("\\temp", [3]),  # not "temp file"
        ("\\", [3]),
        ("a/b", [1]),  # "/" is the escape character LIKE is given
        ("hello", [9, 1]),  # case-insensitive; B's row is not A's
        ("%' OR '1'='1", []),
        ("nul\x00byte", []),
        ("", [7, 9, 1, 2, 4, 3, 5, 6]),
    ],
)
async def test_search_is_a_literal_case_insensitive_substring(
    sessions: async_sessionmaker[AsyncSession], search: str, expected: list[int]
) -> None:
    assert await page_ids(sessions, USER_A, RequestFilter(search=search)) == expected


# --- one request ---------------------------------------------------------------------------


async def test_get_request_returns_every_column(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as session:
        detail = await request_detail.get_request(session, USER_A, rid(1))

    assert detail is not None
    assert detail.id == rid(1)
    assert detail.prompt_text == "Hello 100% sure, a/b"
    assert detail.request_messages == [{"role": "user", "content": "Hello 100% sure, a/b"}]
    assert detail.tool_calls == [{"id": "c1", "name": "f", "arguments": "{}"}]
    assert detail.input_price_per_1m_tokens == Decimal("0.7")
    assert (detail.input_cost_usd, detail.output_cost_usd) == (
        Decimal("0.00000007"),
        Decimal("0.000000035"),
    )
    assert detail.total_cost_usd == Decimal("0.000000105")
    assert (detail.latency_ms, detail.ttft_ms, detail.is_stream) == (100, 40, True)
    assert detail.created_at == at(0, 10)
    assert set(detail.model_dump()) == {c.key for c in Request.__table__.columns}


async def test_get_request_hides_other_users_rows(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as session:
        as_a = await request_detail.get_request(session, USER_A, rid(8))
        as_b = await request_detail.get_request(session, USER_B, rid(8))
        as_admin = await request_detail.get_request(session, None, rid(8))
        missing = await request_detail.get_request(session, None, uuid.uuid4())

    assert as_a is None
    assert as_b is not None
    assert as_admin is not None
    assert missing is None


async def test_get_request_falls_back_to_rows_not_yet_written(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    held = row(100, USER_A, at(0, 13), prompt_text="just answered", total_cost_usd=Decimal("0.3"))
    held |= {
        "model_id": None,
        "provider_id": None,
        "response_text": "hi",
        "reasoning_text": None,
        "tool_calls": None,
        "finish_reason": "stop",
        "input_price_per_1m_tokens": None,
        "output_price_per_1m_tokens": None,
        "cached_input_price_per_1m_tokens": None,
        "cache_write_price_per_1m_tokens": None,
        "input_cost_usd": None,
        "output_cost_usd": None,
        "ttft_ms": None,
        "error_message": None,
        "upstream_status": None,
        "http_status": 200,
        "completed_at": at(0, 13, 1),
    }
    log = {held["id"]: held}

    async with sessions() as session:
        mine = await request_detail.get_request(session, USER_A, rid(100), pending=log.get)
        theirs = await request_detail.get_request(session, USER_B, rid(100), pending=log.get)
        written = await request_detail.get_request(session, USER_A, rid(2), pending=log.get)

    assert mine is not None
    assert (mine.response_text, mine.total_cost_usd) == ("hi", Decimal("0.3"))
    assert theirs is None
    assert written is not None
    assert written.id == rid(2)


# --- the catalogue -----------------------------------------------------------------------------


async def test_catalogue_lists_models_with_exact_prices(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as session:
        models = await listings.list_catalogue(session)

    assert [(m.provider, m.model_id, m.is_active) for m in models] == [
        ("openai", "gpt-4o", True),
        ("openai", "mystery", True),
        ("retired", "old-model", False),  # its provider is disabled
    ]
    gpt = models[0]
    assert (gpt.input_price_per_1m_tokens, gpt.output_price_per_1m_tokens) == (
        Decimal("2.5"),
        Decimal(10),
    )
    assert gpt.cached_input_price_per_1m_tokens == Decimal("1.25")
    assert gpt.cache_write_price_per_1m_tokens is None
    assert (gpt.context_window, gpt.display_name, gpt.price_source) == (
        128_000,
        "GPT-4o",
        "genai-prices",
    )
    assert models[1].input_price_per_1m_tokens is None
