"""Costs by tag from the `usage_daily_tags` rollup equal the request log's, and
stay exact after retention deletes rows; a search reads the first and last
2,000 characters of a prompt. On both databases."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import anyio
import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import delete, insert
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

import model_router.db
from model_router.db import cost_queries, queries, rollup, search, tag_rollup
from model_router.db.engine import make_engine
from model_router.db.models import Request, User
from model_router.services.log_maintenance import LogMaintenance
from tests.helpers import store_as_the_writer

pytestmark = pytest.mark.anyio

NOW = datetime(2026, 6, 15, 12, tzinfo=UTC)
ALICE = uuid.UUID(int=0xA11CE)
BOB = uuid.UUID(int=0xB0B)


def row(n: int, days_ago: int, user: uuid.UUID | None, tags: Any, **fields: Any) -> dict[str, Any]:
    return {
        "id": uuid.UUID(int=n),
        "user_id": user,
        "model": "gpt-4o" if n % 2 else "claude-sonnet-4-5",
        "provider": "openai",
        "prompt_text": f"user: prompt {n}",
        "status": "success",
        "total_tokens": 10 * n,
        "total_cost_usd": Decimal("0.000123456789") * n,
        "cost_unknown": False,
        "created_at": NOW - timedelta(days=days_ago, hours=n % 5),
        "tags": tags,
        "cache_status": None,
        "saved_cost_usd": None,
        "default_cost_usd": None,
    } | fields


ROWS = [
    row(1, 100, ALICE, {"team": "search", "env": "prod"}),
    row(2, 100, BOB, {"team": "ads"}),
    row(3, 60, ALICE, {"team": "search"}),
    row(4, 60, None, None),
    row(5, 2, BOB, {"env": "prod"}),
    row(6, 2, ALICE, {"team": "ads"}, total_cost_usd=None, cost_unknown=True),
    row(7, 1, BOB, {"team": "search", "note": "x" * 200}),
    row(8, 1, ALICE, {}),
]


async def _store(engine: AsyncEngine, rows: list[dict[str, Any]]) -> None:
    await store_as_the_writer(engine, rows, NOW)


@pytest.fixture
async def engine(empty_database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(empty_database_url)
    async with engine.begin() as conn:
        await conn.execute(delete(Request))
        for table in (rollup.TABLE, rollup.ALL_TABLE, tag_rollup.TABLE):
            await conn.execute(delete(table))
        await conn.execute(delete(User))
        await conn.execute(
            insert(User),
            [
                {"id": ALICE, "name": "alice", "key_hash": "a" * 64, "key_prefix": "a"},
                {"id": BOB, "name": "bob", "key_hash": "b" * 64, "key_prefix": "b"},
            ],
        )
    try:
        yield engine
    finally:
        await engine.dispose()


Groups = list[tuple[str | None, int, int, Decimal, int]]


async def _by_tag(engine: AsyncEngine, name: str, scope: uuid.UUID | None = None) -> Groups:
    """The API's answer (from the rollup, as no tag or model filters it)."""
    async with async_sessionmaker(engine)() as session:
        found = await cost_queries.cost_breakdown(
            session, scope, group_by=f"tag:{name}", days=3650, tags=[]
        )
    return [
        (g.group, g.requests, g.total_tokens, g.total_cost_usd, g.requests_with_unknown_cost)
        for g in found.groups
    ]


async def _from_log(engine: AsyncEngine, name: str, scope: uuid.UUID | None = None) -> Groups:
    """The same groups summed over the request log's rows."""
    async with async_sessionmaker(engine)() as session:
        start = datetime.now(UTC).date() - timedelta(days=3649)
        rows = await cost_queries._log_groups(session, scope, f"tag:{name}", start, [], None)
    groups = [
        (r.grp, r.requests, int(r.tokens), r.cost or Decimal(0), int(r.unknown)) for r in rows
    ]
    return sorted(groups, key=lambda g: (-g[3], g[0] or ""))


async def test_costs_by_tag_from_the_rollup_equal_the_request_logs(engine: AsyncEngine) -> None:
    for batch in (ROWS[:3], ROWS[3:4], ROWS[4:]):
        await _store(engine, batch)
    assert await _by_tag(engine, "team") == [
        (None, 3, 170, Decimal("0.002098765413"), 0),
        ("search", 3, 110, Decimal("0.001358024679"), 0),
        ("ads", 2, 80, Decimal("0.000246913578"), 1),
    ]
    for name in ("team", "env", "note", "absent"):
        for scope in (None, ALICE, BOB):
            assert await _by_tag(engine, name, scope) == await _from_log(engine, name, scope)


async def test_a_rebuild_and_the_migration_backfill_equal_the_writers_sums(
    engine: AsyncEngine, empty_database_url: str
) -> None:
    await _store(engine, ROWS)
    written = await _by_tag(engine, "team")
    async with engine.begin() as conn:
        await rollup.rebuild(conn)
    assert await _by_tag(engine, "team") == written
    config = Config()
    migrations = Path(model_router.db.__file__).parent / "migrations"
    config.set_main_option("script_location", str(migrations))
    config.set_main_option("sqlalchemy.url", empty_database_url)
    await anyio.to_thread.run_sync(command.downgrade, config, "0012")
    await anyio.to_thread.run_sync(command.upgrade, config, "head")
    assert await _by_tag(engine, "team") == written


async def test_costs_by_tag_keep_the_totals_of_rows_retention_deleted(
    engine: AsyncEngine,
) -> None:
    await _store(engine, ROWS)
    before = {name: await _by_tag(engine, name) for name in ("team", "env")}
    upkeep = LogMaintenance(engine, retention_days=30, text_retention_days=None, interval=60)
    await upkeep.run_once(NOW)
    async with async_sessionmaker(engine)() as session:
        left = await queries.list_requests(session, None, queries.RequestFilter())
    assert {r.id.int for r in left.requests} == {5, 6, 7, 8}
    assert {name: await _by_tag(engine, name) for name in ("team", "env")} == before
    async with engine.begin() as conn:  # a rebuild keeps the deleted days too
        await rollup.rebuild(conn)
    assert {name: await _by_tag(engine, name) for name in ("team", "env")} == before


async def _found(engine: AsyncEngine, needle: str) -> list[int]:
    async with async_sessionmaker(engine)() as session:
        page = await queries.list_requests(
            session, None, queries.RequestFilter(search=needle), per_page=100
        )
    return sorted(r.id.int for r in page.requests)


async def test_search_reads_the_first_and_last_2000_characters_of_a_prompt(
    engine: AsyncEngine,
) -> None:
    edge = search.EDGE_CHARS
    filler = "lorem ipsum " * 1000  # 12,000 characters
    long_prompt = "START-Invoice " + filler[: edge * 3] + " MIDDLE-word " + filler + " END-refund"
    just_fits = "a" * (2 * edge - 9) + " tail-wrd"  # 4,000 characters: read whole
    await _store(
        engine,
        [
            row(20, 1, ALICE, None, prompt_text=long_prompt),
            row(21, 1, ALICE, None, prompt_text=just_fits),
            row(22, 1, ALICE, None, prompt_text="user: short INVOICE"),
        ],
    )
    assert await _found(engine, "start-invoice") == [20]
    assert await _found(engine, "end-REFUND") == [20]
    assert await _found(engine, "invoice") == [20, 22]
    assert await _found(engine, "tail-wrd") == [21]
    # Past the first and before the last 2,000 characters: not read.
    assert await _found(engine, "middle-word") == []
    assert "MIDDLE" not in search.edges(long_prompt)
    assert search.edges(just_fits) == just_fits
    if engine.dialect.name == "sqlite":
        # SQLite's index holds the same bounded text (migration 0014), not the
        # whole prompt: a 50 KB prompt no longer writes 50,000 entries.
        async with engine.connect() as conn:
            indexed = await conn.exec_driver_sql(
                "SELECT rowid FROM requests_fts WHERE prompt_text LIKE ?", ("%MIDDLE-word%",)
            )
            assert indexed.all() == []
            indexed = await conn.exec_driver_sql(
                "SELECT count(*) FROM requests_fts WHERE prompt_text LIKE ?", ("%end-refund%",)
            )
            assert indexed.scalar() == 1
