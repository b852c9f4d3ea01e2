"""The request list filtered by tags and by front door: the right rows, newest
first, and exact totals; a tag's days come from the tag rollup, so a tag
nobody uses answers at once and days retention emptied are not counted.
Both databases."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import anyio
import pytest
from alembic import command
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from model_router.db import queries
from model_router.db.queries import RequestFilter
from model_router.services.log_maintenance import LogMaintenance
from tests.helpers import request_log
from tests.integration.test_request_log_migration import _config

pytestmark = pytest.mark.anyio

NOW = datetime(2026, 6, 15, 12, tzinfo=UTC)
ALICE, BOB = uuid.UUID(int=0xA11CE), uuid.UUID(int=0xB0B)
TEAMS = ("search", "ads", None)
DOORS = ("chat_completions", "messages", "responses")


def row(n: int) -> dict[str, Any]:
    team = TEAMS[n % 3]
    tags = None if team is None else {"team": team} | ({"env": "staging"} if n % 4 == 1 else {})
    return {
        "id": uuid.UUID(int=n),
        "user_id": ALICE if n % 2 else BOB,
        "model": "gpt-4o",
        "provider": "openai",
        "prompt_text": f"user: {n}",
        "status": "error" if n % 5 == 0 else "success",
        "tags": tags,
        "front_door": DOORS[n % 3 if n % 7 else 1],
        # Five days: the oldest 60 days back (retention takes it below).
        "created_at": NOW - timedelta(days=(0, 1, 2, 10, 60)[n % 5], minutes=n),
    }


ROWS = [row(n) for n in range(1, 61)]


@pytest.fixture(scope="module")
async def engine(empty_database_url: str) -> AsyncIterator[AsyncEngine]:
    async with request_log(empty_database_url, (ALICE, BOB), ROWS, NOW) as engine:
        yield engine


def has(tag: str, r: dict[str, Any]) -> bool:
    name, _, value = tag.partition("=")
    tags = r["tags"] or {}
    return name in tags and (not value or tags[name] == value)


def expected(scope: uuid.UUID | None, filters: RequestFilter) -> list[int]:
    kept = [
        r
        for r in ROWS
        if (scope is None or r["user_id"] == scope)
        and all(has(tag, r) for tag in filters.tags)
        and (filters.status is None or r["status"] == filters.status)
        and (filters.front_door is None or r["front_door"] == filters.front_door)
        and (filters.start is None or r["created_at"].date() >= filters.start)
    ]
    return [
        r["id"].int for r in sorted(kept, key=lambda r: (r["created_at"], r["id"]), reverse=True)
    ]


async def listed(
    engine: AsyncEngine, scope: uuid.UUID | None, filters: RequestFilter
) -> tuple[list[int], int, bool]:
    async with async_sessionmaker(engine)() as session:
        page = await queries.list_requests(session, scope, filters, per_page=100)
    return [r.id.int for r in page.requests], page.total, page.total_is_estimate


CASES = [
    RequestFilter(tags=("team=search",)),
    RequestFilter(tags=("team",)),
    RequestFilter(tags=("env=staging",)),
    RequestFilter(tags=("team=search", "env=staging")),
    RequestFilter(tags=("team=ads",), status="error"),
    RequestFilter(tags=("team=ads",), front_door="messages"),
    RequestFilter(tags=("team=search",), start=(NOW - timedelta(days=5)).date()),
    RequestFilter(front_door="messages"),
    RequestFilter(front_door="responses", status="success"),
]


@pytest.mark.parametrize("filters", CASES, ids=lambda f: repr(f)[14:70])
@pytest.mark.parametrize("scope", [None, ALICE], ids=["admin", "one key"])
async def test_the_list_holds_exactly_the_filtered_rows_newest_first(
    engine: AsyncEngine, scope: uuid.UUID | None, filters: RequestFilter
) -> None:
    want = expected(scope, filters)
    assert want  # each case matches some rows
    assert await listed(engine, scope, filters) == (want, len(want), False)


async def test_a_tag_nobody_uses_is_an_empty_page(engine: AsyncEngine) -> None:
    for tag in ("team=nobody", "missing", "env=prod"):
        assert await listed(engine, None, RequestFilter(tags=(tag,))) == ([], 0, False)


async def test_the_migration_sums_the_tags_successful_rows_again(
    empty_database_url: str, engine: AsyncEngine
) -> None:
    config = _config(empty_database_url)
    await anyio.to_thread.run_sync(command.downgrade, config, "0016")
    await anyio.to_thread.run_sync(command.upgrade, config, "head")
    for status in ("error", "success"):
        filters = RequestFilter(tags=("team=ads",), status=status)
        want = expected(None, filters)
        assert await listed(engine, None, filters) == (want, len(want), False)


async def test_days_that_retention_emptied_are_not_counted(
    empty_database_url: str, engine: AsyncEngine
) -> None:
    before = await listed(engine, None, RequestFilter(tags=("team=search",)))
    await LogMaintenance(engine, retention_days=30, text_retention_days=None, interval=60).run_once(
        NOW
    )
    after = await listed(engine, None, RequestFilter(tags=("team=search",)))
    kept = [r["id"].int for r in ROWS if r["created_at"] > NOW - timedelta(days=30)]
    assert after[0] == [i for i in before[0] if i in kept] and after[1] == len(after[0])
    assert len(after[0]) < len(before[0])
