"""`model-router demo-data` on SQLite and PostgreSQL, each in a database of its own.

Three small runs per backend, made once for the module: 2,000 rows over a week
ending in January 2025 (before any other test's traffic), the same again four
weeks earlier (same weekdays and hours, so the same rows but the ids), and on
PostgreSQL a third four weeks before that, with values handed to asyncpg as
Decimals, datetimes and UUIDs instead of pre-encoded. The tests read them; one
more run, on PostgreSQL, fails half-way and must leave nothing behind.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import Row, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from model_router.cli import main
from model_router.costs.models import price_of
from model_router.costs.pricing import Price, Rates, cost
from model_router.db import rollup
from model_router.db.engine import make_engine
from model_router.db.models import Model, Request, User
from model_router.db.tag_rollup import UsageDailyTag
from model_router.domain import Usage
from model_router.errors import InvalidRequest
from model_router.services.demo_data import (
    DemoReport,
    PostgresBinaryCodec,
    demo_user_names,
    generate_demo_data,
    reasoning_kind,
)

END = datetime(2025, 1, 15, 12, 30, 15, 123456, tzinfo=UTC)
ROWS, DAYS, SEED, USERS = 2_000, 7, 1, 20
SHIFT = timedelta(weeks=4)  # whole weeks: the same weekdays and hours of day
TABLE = Request.__table__
ERROR_STATUSES = {400, 429, 502, 503, 504}


@dataclass
class Run:
    report: DemoReport
    rows: list[Row[Any]]  # the run's rows, read back, oldest first
    notes: list[str]


@dataclass
class Runs:
    backend: str
    catalogue_was_empty: bool
    first: Run
    second: Run  # the same seed, SHIFT earlier
    plain: Run | None  # PostgreSQL: through asyncpg's own codecs, 2 * SHIFT earlier
    prices: dict[uuid.UUID, Price | None]  # by model row id
    demo_users: list[User]
    demo_rows: int  # in the three windows


async def _run(sessions: async_sessionmaker[AsyncSession], end: datetime, **kwargs: Any) -> Run:
    notes: list[str] = []
    report = await generate_demo_data(
        sessions, rows=ROWS, days=DAYS, users=USERS, seed=SEED, end=end, note=notes.append, **kwargs
    )
    async with sessions() as session:
        rows = (
            await session.execute(
                select(TABLE)
                .where(
                    TABLE.c.created_at >= report.start,
                    TABLE.c.created_at < report.end,
                    TABLE.c.user_id.in_(
                        select(User.id).where(User.name.in_(demo_user_names(USERS)))
                    ),
                )
                .order_by(TABLE.c.created_at, TABLE.c.completed_at, TABLE.c.prompt_text)
            )
        ).all()
    return Run(report, list(rows), notes)


@pytest.fixture(scope="module")
async def runs(empty_database_url: str) -> AsyncIterator[Runs]:
    engine = make_engine(empty_database_url)
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    try:
        async with sessions() as session:
            empty = await session.scalar(select(func.count()).select_from(Model)) == 0
        first = await _run(sessions, END)
        second = await _run(sessions, END - SHIFT)
        postgres = engine.dialect.name == "postgresql"
        plain = await _run(sessions, END - 2 * SHIFT, pg_binary=False) if postgres else None
        async with sessions() as session:
            prices = {m.id: price_of(m) for m in await session.scalars(select(Model))}
            users = list(await session.scalars(select(User).where(User.name.like("demo-%"))))
            demo_rows = await session.scalar(
                select(func.count())
                .select_from(TABLE)
                .where(
                    TABLE.c.created_at >= END - 2 * SHIFT - timedelta(days=DAYS),
                    TABLE.c.created_at < END,
                    TABLE.c.user_id.in_([u.id for u in users]),
                )
            )
        yield Runs(engine.dialect.name, empty, first, second, plain, prices, users, demo_rows or 0)
    finally:
        await engine.dispose()


def _without_id(row: Row[Any], shift: timedelta = timedelta(0)) -> tuple[Any, ...]:
    values = dict(row._mapping)
    del values["id"]
    values["created_at"] += shift
    values["completed_at"] += shift
    return tuple(values.values())


# --- the rows ----------------------------------------------------------------------------


@pytest.mark.anyio
async def test_adds_exactly_the_rows_asked_for_within_the_window(runs: Runs) -> None:
    report, rows = runs.first.report, runs.first.rows
    assert report.rows == len(rows) == ROWS
    assert report.start == END - timedelta(days=DAYS) and report.end == END
    assert report.catalogue_synced is runs.catalogue_was_empty
    assert all(report.start <= r.created_at < END for r in rows)
    assert all(r.completed_at >= r.created_at for r in rows)
    for r in rows:  # UUIDv7 carrying the row's millisecond
        assert r.id.version == 7
        assert r.id.int >> 80 == int(r.created_at.timestamp() * 1000)
    assert len({r.id for r in rows}) == ROWS


@pytest.mark.anyio
async def test_the_usage_rollup_sums_the_loaded_rows(runs: Runs, empty_database_url: str) -> None:
    """The usage API reads `usage_daily`: after a load it must equal the rows."""
    engine = make_engine(empty_database_url)
    try:
        async with engine.connect() as conn:
            start, end = (END - 2 * SHIFT - timedelta(days=DAYS)).date(), END.date()
            rolled = await rollup.usage_groups(conn, None, start, end)
            scanned = await conn.execute(
                rollup.rebuild_statement(conn.dialect.name).select  # the sums, from the rows
            )
            fresh: dict[tuple[Any, ...], tuple[Any, ...]] = {}
            for row in scanned:
                day, _user, model, provider, *sums = row
                if start <= day <= end:
                    key = (day, model, provider or None)
                    old = fresh.get(key, (0,) * len(sums))
                    fresh[key] = tuple(a + b for a, b in zip(old, sums, strict=True))
    finally:
        await engine.dispose()
    assert rolled, "the demo rows should show in the rollup"
    assert {(g.day, g.model, g.provider): g.requests for g in rolled} == {
        k: v[0] for k, v in fresh.items()
    }
    assert sum(g.cost_usd for g in rolled) == sum(v[7] for v in fresh.values())


@pytest.mark.anyio
async def test_traffic_has_a_weekly_and_daily_rhythm(runs: Runs) -> None:
    rows = runs.first.rows
    weekend = sum(r.created_at.weekday() >= 5 for r in rows)
    assert weekend / 2 < (ROWS - weekend) / 5 * 0.6  # a weekend day: well under a weekday
    night = sum(r.created_at.hour < 6 for r in rows)
    work = sum(10 <= r.created_at.hour < 16 for r in rows)
    assert night * 3 < work
    assert len({r.user_id for r in rows}) == USERS
    per_user = sorted(sum(r.user_id == u for r in rows) for u in {r.user_id for r in rows})
    assert per_user[-1] > 3 * per_user[0]  # some keys are much busier than others
    per_model: dict[str, int] = {}
    for r in rows:
        per_model[r.model] = per_model.get(r.model, 0) + 1
    assert max(per_model, key=lambda m: per_model[m]) == "gpt-4o-mini"
    assert len(per_model) >= 15


@pytest.mark.anyio
async def test_about_five_percent_errors_with_real_statuses(runs: Runs) -> None:
    rows = runs.first.rows
    errors = [r for r in rows if r.status == "error"]
    assert 0.03 < len(errors) / ROWS < 0.07
    assert runs.first.report.errors == len(errors)
    assert {r.http_status for r in errors} <= ERROR_STATUSES
    assert {429, 502} <= {r.http_status for r in errors}
    for r in errors:
        assert r.error_message.startswith(f"{r.provider}: ")
        assert r.upstream_status in {None, 400, 429, 500, 503}
        assert r.input_tokens == r.output_tokens == r.total_tokens == 0
        assert r.total_cost_usd is None and r.input_price_per_1m_tokens is None
        assert r.response_text is None and r.finish_reason is None and r.ttft_ms is None
        assert r.latency_ms >= 0
    for r in rows:
        if r.status == "success":
            assert r.http_status == 200 and r.upstream_status is None
            assert r.error_message is None


@pytest.mark.anyio
async def test_streams_tokens_and_latencies_are_plausible(runs: Runs) -> None:
    rows = runs.first.rows
    assert 0.25 < sum(r.is_stream for r in rows) / ROWS < 0.35
    successes = [r for r in rows if r.status == "success"]
    for r in successes:
        assert 20 <= r.input_tokens <= 4000
        assert r.total_tokens == r.input_tokens + r.output_tokens
        assert r.cached_input_tokens + r.cache_write_tokens <= r.input_tokens
        assert r.reasoning_tokens < r.output_tokens
        assert (r.reasoning_tokens > 0) == bool(reasoning_kind(r.model))
        assert (r.reasoning_text is not None) == (r.model == "deepseek-reasoner")
        assert r.latency_ms > 0
        assert (r.ttft_ms is not None) == r.is_stream
        if r.ttft_ms is not None:
            assert 0 < r.ttft_ms <= r.latency_ms
        if r.finish_reason == "tool_calls":
            assert r.response_text is None and r.tool_calls[0]["name"]
        else:
            assert r.finish_reason in {"stop", "length"} and r.response_text
    assert any(r.cached_input_tokens for r in successes)
    assert any(r.cache_write_tokens for r in successes)
    assert 300 < sorted(r.input_tokens for r in successes)[len(successes) // 2] < 500


@pytest.mark.anyio
async def test_costs_are_exactly_those_of_cost(runs: Runs) -> None:
    priced = 0
    for r in runs.first.rows:
        if r.status == "error":
            continue
        price = runs.prices[r.model_id]
        usage = Usage(
            r.input_tokens,
            r.output_tokens,
            r.cached_input_tokens,
            r.cache_write_tokens,
            r.reasoning_tokens,
        )
        expected = cost(usage, price, r.created_at)  # the catalogue's price, at the row's time
        if expected is None:
            assert r.total_cost_usd is None and r.input_price_per_1m_tokens is None
            assert r.cost_unknown is (price is None)
            continue
        priced += 1
        assert not r.cost_unknown
        assert isinstance(r.total_cost_usd, Decimal)
        assert r.total_cost_usd == r.input_cost_usd + r.output_cost_usd
        assert r.total_cost_usd == expected.total_usd
        assert (r.input_cost_usd, r.output_cost_usd) == (expected.input_usd, expected.output_usd)
        charged = Rates(
            r.input_price_per_1m_tokens,
            r.output_price_per_1m_tokens,
            r.cached_input_price_per_1m_tokens,
            r.cache_write_price_per_1m_tokens,
            r.cache_write_1h_price_per_1m_tokens,
        )
        assert charged == expected.rates
        again = cost(usage, Price(charged))  # from the row alone
        assert again is not None and again.total_usd == r.total_cost_usd
    # every successful row of a priced model was priced; the shared test catalogue
    # also holds a few unpriced models, so not every row is
    successes = [r for r in runs.first.rows if r.status != "error"]
    assert priced == sum(1 for r in successes if runs.prices[r.model_id] is not None)
    assert priced > ROWS * 0.75


@pytest.mark.anyio
async def test_deepseek_peak_hours_are_charged_at_peak_rates(runs: Runs) -> None:
    peak = [
        r
        for r in runs.first.rows
        if r.provider == "deepseek"
        and r.status == "success"
        and (time(1) <= r.created_at.time() < time(4) or time(6) <= r.created_at.time() < time(10))
    ]
    if not any(p is not None and p.peak for p in runs.prices.values()):
        pytest.skip("no peak pricing in this catalogue")
    assert peak
    for r in peak:
        price = runs.prices[r.model_id]
        assert price is not None and price.peak is not None
        assert r.input_price_per_1m_tokens == price.peak.rates.input


@pytest.mark.anyio
async def test_prompts_are_a_system_and_a_user_message(runs: Runs) -> None:
    rows = runs.first.rows
    for r in rows:
        system, user = r.request_messages
        assert system["role"] == "system" and user["role"] == "user"
        assert r.prompt_text == f"system: {system['content']}\nuser: {user['content']}"
    assert len({r.prompt_text for r in rows}) > ROWS / 2
    found = sum("sql" in r.prompt_text.lower() for r in rows)
    assert 0 < found < ROWS / 2  # search finds some rows, not others


@pytest.mark.anyio
async def test_tags_and_front_doors_are_shared_like_real_traffic(runs: Runs) -> None:
    rows = runs.first.rows
    tagged = [r for r in rows if r.tags is not None]
    assert 0.80 < len(tagged) / ROWS < 0.90
    staging = sum(r.tags["env"] == "staging" for r in tagged)
    assert 0.06 < staging / len(tagged) < 0.14
    assert all(r.tags["env"] in {"prod", "staging"} for r in tagged)
    features = [r.tags["feature"] for r in tagged if "feature" in r.tags]
    assert 0.27 < len(features) / len(tagged) < 0.40
    assert len(set(features)) == 6
    assert all(set(r.tags) <= {"team", "env", "feature"} for r in tagged)
    doors = Counter(r.front_door for r in rows)
    assert set(doors) == {"chat_completions", "messages", "responses"}
    assert 0.65 < doors["chat_completions"] / ROWS < 0.75
    assert 0.16 < doors["messages"] / ROWS < 0.24
    assert 0.07 < doors["responses"] / ROWS < 0.13
    errors = [r for r in rows if r.status == "error"]  # error rows are tagged alike
    assert any(r.tags for r in errors) and any(r.front_door == "messages" for r in errors)


@pytest.mark.anyio
async def test_each_user_is_in_one_team(runs: Runs) -> None:
    teams: dict[uuid.UUID, set[str]] = {}
    for r in runs.first.rows + runs.second.rows:
        if r.tags is not None:
            teams.setdefault(r.user_id, set()).add(r.tags["team"])
    assert len(teams) == USERS
    assert all(len(team) == 1 for team in teams.values())
    found = [team for (team,) in teams.values()]
    assert set(found) == {"search", "ads", "support", "platform", "billing"}
    assert all(found.count(team) == USERS // 5 for team in set(found))


@pytest.mark.anyio
async def test_the_tag_rollup_counts_each_teams_rows(runs: Runs, empty_database_url: str) -> None:
    """`costs?group_by=tag:team` reads `usage_daily_tags`: after a load it must count the rows."""
    team = Request.tags["team"].as_string()
    rolled = UsageDailyTag.__table__.c
    engine = make_engine(empty_database_url)
    try:
        async with engine.connect() as conn:
            logged = dict(
                (
                    await conn.execute(
                        select(team, func.count()).where(team.is_not(None)).group_by(team)
                    )
                ).all()
            )
            summed = dict(
                (
                    await conn.execute(
                        select(rolled.value, func.sum(rolled.requests))
                        .where(rolled.name == "team")
                        .group_by(rolled.value)
                    )
                ).all()
            )
    finally:
        await engine.dispose()
    assert set(logged) == {"search", "ads", "support", "platform", "billing"}
    demo = Counter(r.tags["team"] for r in runs.first.rows + runs.second.rows if r.tags)
    assert all(logged[name] >= count for name, count in demo.items())
    assert summed == logged


# --- runs ----------------------------------------------------------------------------


@pytest.mark.anyio
async def test_the_same_seed_gives_the_same_rows(runs: Runs) -> None:
    first, second = runs.first.rows, runs.second.rows
    assert len(second) == ROWS
    assert [_without_id(r, SHIFT) for r in second] == [_without_id(r) for r in first]
    assert not {r.id for r in first} & {r.id for r in second}
    assert runs.second.report.errors == runs.first.report.errors


@pytest.mark.anyio
async def test_a_second_run_adds_rows_and_reuses_the_demo_users(runs: Runs) -> None:
    first, second = runs.first.report, runs.second.report
    assert first.users_created + first.users_reused == USERS
    assert (second.users_created, second.users_reused) == (0, USERS)
    assert sorted(u.name for u in runs.demo_users) == sorted(demo_user_names(USERS))
    for user in runs.demo_users:
        assert len(user.key_hash) == 64 and user.key_prefix.startswith("mr-")
        assert not user.is_admin and user.is_active
    assert runs.demo_rows == ROWS * (3 if runs.plain else 2)
    assert {r.user_id for r in runs.second.rows} == {u.id for u in runs.demo_users}


@pytest.mark.anyio
@pytest.mark.postgres
async def test_postgres_binary_values_are_what_asyncpg_would_send(runs: Runs) -> None:
    assert runs.plain is not None
    assert [_without_id(r, 2 * SHIFT) for r in runs.plain.rows] == [
        _without_id(r) for r in runs.first.rows
    ]


@pytest.mark.anyio
@pytest.mark.postgres
async def test_postgres_numeric_encoding_holds_any_amount(empty_database_url: str) -> None:
    amounts = [0, 1, 9_999, 10**12, 10**12 + 1, 123_456_789_012_345, 10**16 - 1, 10**16]
    amounts += [10**16 + 10**4, 987_654_321_098_765_432_109, -1, -(10**12) - 7, -(10**20)]
    engine = make_engine(empty_database_url)
    try:
        async with engine.connect() as conn:
            codec = PostgresBinaryCodec(conn.dialect)
            driver = (await conn.get_raw_connection()).driver_connection
            assert driver is not None
            await driver.set_type_codec(
                "numeric", schema="pg_catalog", encoder=bytes, decoder=bytes, format="binary"
            )
            try:
                stored = [
                    await driver.fetchval("SELECT $1::numeric(24, 12)::text", codec.money(units))
                    for units in amounts
                ]
            finally:
                await driver.reset_type_codec("numeric", schema="pg_catalog")
    finally:
        await engine.dispose()
    assert [Decimal(text) for text in stored] == [Decimal(units).scaleb(-12) for units in amounts]


@pytest.mark.anyio
@pytest.mark.postgres
async def test_a_large_load_on_postgres_rebuilds_indexes_and_keys(
    runs: Runs, empty_database_url: str
) -> None:
    assert any(note.startswith("bulk load") for note in runs.first.notes)  # an empty table
    assert not any(note.startswith("bulk load") for note in runs.second.notes)  # 2,000 in it
    engine = make_engine(empty_database_url)
    try:  # the partitioned table's rebuilt index covers every partition
        async with engine.connect() as conn:
            invalid = await conn.exec_driver_sql(
                "SELECT count(*) FROM pg_index i JOIN pg_inherits h ON h.inhparent = i.indrelid "
                "WHERE NOT i.indisvalid"
            )
            assert invalid.scalar() == 0
            months = await conn.exec_driver_sql(
                "SELECT count(*) FROM pg_inherits WHERE inhparent = 'requests'::regclass"
            )
            assert (months.scalar() or 0) > 2  # the load's months were made, not left to default
    finally:
        await engine.dispose()


@pytest.mark.anyio
@pytest.mark.postgres
async def test_a_failed_load_leaves_no_rows_and_every_index_and_key(
    runs: Runs, empty_database_url: str
) -> None:
    schema = """
        SELECT (SELECT count(*) FROM pg_indexes WHERE tablename = 'requests'),
               (SELECT count(*) FROM pg_constraint
                WHERE conrelid = 'requests'::regclass AND contype = 'f'),
               (SELECT count(*) FROM requests)
    """
    engine = make_engine(empty_database_url)
    sessions = async_sessionmaker(engine, expire_on_commit=False)

    def boom(done: int, total: int, seconds: float) -> None:
        raise RuntimeError("interrupted")

    try:
        async with engine.connect() as conn:
            before = (await conn.exec_driver_sql(schema)).one()
        notes: list[str] = []
        with pytest.raises(RuntimeError, match="interrupted"):
            await generate_demo_data(
                sessions,
                rows=ROWS * 10,  # more than the table holds: dropped indexes and keys
                days=DAYS,
                users=USERS,
                end=END + SHIFT,
                chunk_rows=500,
                progress=boom,
                note=notes.append,
            )
        assert any(note.startswith("bulk load") for note in notes)
        async with engine.connect() as conn:
            assert (await conn.exec_driver_sql(schema)).one() == before
    finally:
        await engine.dispose()


# --- the command ---------------------------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize(("name", "value"), [("rows", 0), ("days", 3651), ("users", 1001)])
async def test_arguments_out_of_range_are_refused(name: str, value: int) -> None:
    arguments: dict[str, Any] = {"rows": 10, "days": 1, "users": 1} | {name: value}
    with pytest.raises(InvalidRequest, match=name):
        await generate_demo_data(None, **arguments)  # type: ignore[arg-type]


def test_cli_adds_demo_traffic(empty_database_url: str) -> None:
    runner = CliRunner()
    result = runner.invoke(
        main,
        ["demo-data", "--rows", "300", "--days", "2", "--users", "3", "--seed", "5"],
        env={"DATABASE_URL": empty_database_url},
    )
    assert result.exit_code == 0, result.output
    assert "added 300 requests" in result.stdout
    assert "rows/s" in result.stdout


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--rows", "0", "--days", "1"], "'--rows': 0 is not in the range 1<=x<=50000000"),
        (["--rows", "5", "--days", "0"], "'--days': 0 is not in the range 1<=x<=3650"),
        (["--rows", "5", "--days", "1", "--users", "0"], "'--users': 0 is not in the range"),
        (["--days", "1"], "Missing option '--rows'"),
        (["--rows", "many"], "'--rows': 'many' is not a valid integer range"),
    ],
)
def test_cli_refuses_bad_arguments(arguments: Sequence[str], message: str) -> None:
    result = CliRunner().invoke(main, ["demo-data", *arguments])
    assert result.exit_code == 2
    assert message in result.output
