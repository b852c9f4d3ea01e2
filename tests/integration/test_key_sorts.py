"""One key's request list sorted by cost or latency: the same pages, in the same
order, whether SQLite reads the log's sort index (a key with many of the rows)
or sorts the key's rows (a key with few); on both databases."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from model_router.db import queries
from model_router.db.request_order import RequestSort, walk_sort_index
from tests.helpers import request_log

pytestmark = pytest.mark.anyio

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)
BIG, SMALL = uuid.UUID(int=0xB16), uuid.UUID(int=0x5)
SORTS: list[RequestSort] = ["latency_ms", "-latency_ms", "total_cost_usd", "-total_cost_usd"]


def row(n: int, user: uuid.UUID | None) -> dict[str, Any]:
    return {
        "id": uuid.UUID(int=n),
        "user_id": user,
        "model": "gpt-4o",
        "provider": "openai",
        "prompt_text": f"user: {n}",
        "status": "success",
        # Ties and missing values on purpose: ties go newest first, then by id.
        "latency_ms": None if n % 7 == 0 else (n * 37) % 11,
        "total_cost_usd": None if n % 5 == 0 else Decimal(n % 4) / 1000,
        "created_at": NOW - timedelta(minutes=n % 9),
    }


ROWS = (
    [row(n, BIG) for n in range(1, 31)]
    + [row(n, SMALL) for n in (31, 32)]
    + [row(n, None) for n in range(33, 43)]
)


@pytest.fixture(scope="module")
async def engine(empty_database_url: str) -> AsyncIterator[AsyncEngine]:
    async with request_log(empty_database_url, (BIG, SMALL), ROWS, NOW) as engine:
        yield engine


def expected(user: uuid.UUID, sort: RequestSort) -> list[int]:
    field = sort.lstrip("-")
    mine = [r for r in ROWS if r["user_id"] == user]
    newest = sorted(mine, key=lambda r: (r["created_at"], r["id"]), reverse=True)
    valued = [r for r in newest if r[field] is not None]
    valued.sort(
        key=lambda r: r[field], reverse=sort.startswith("-")
    )  # stable: ties stay newest first
    return [r["id"].int for r in valued + [r for r in newest if r[field] is None]]


async def listed(engine: AsyncEngine, user: uuid.UUID, sort: RequestSort) -> list[int]:
    ids: list[int] = []
    async with async_sessionmaker(engine)() as session:
        for page in range(1, 10):
            got = await queries.list_requests(
                session, user, queries.RequestFilter(), page=page, per_page=4, sort=sort
            )
            ids += [r.id.int for r in got.requests]
    return ids


def test_sqlite_walks_the_sort_index_only_for_a_key_with_many_rows() -> None:
    assert walk_sort_index(key_rows=30, all_rows=42, rows_wanted=4)
    assert not walk_sort_index(key_rows=2, all_rows=42, rows_wanted=4)
    assert not walk_sort_index(key_rows=30, all_rows=42, rows_wanted=40)  # a deep page
    assert not walk_sort_index(key_rows=0, all_rows=42, rows_wanted=4)


@pytest.mark.parametrize("sort", SORTS)
@pytest.mark.parametrize("user", [BIG, SMALL], ids=["many rows", "few rows"])
async def test_a_keys_sorted_pages_hold_its_rows_in_order(
    engine: AsyncEngine, user: uuid.UUID, sort: RequestSort
) -> None:
    assert await listed(engine, user, sort) == expected(user, sort)
