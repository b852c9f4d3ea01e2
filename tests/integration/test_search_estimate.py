"""A text search counts its matches up to `SEARCH_COUNT_CAP`: past it the total
is the cap, flagged `total_is_estimate` ("10,000+"), and every page still
answers; below it the total is exact and not flagged. Both databases."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from model_router.db import rollup
from model_router.db.engine import make_engine
from model_router.db.inserts import RowInserter
from model_router.db.queries import SEARCH_COUNT_CAP, RequestFilter, list_requests
from model_router.db.records import RequestRecord
from model_router.services.request_log import TABLE

pytestmark = pytest.mark.anyio

START = datetime(2025, 6, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
async def sessions(empty_database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine: AsyncEngine = make_engine(empty_database_url)
    rows = [
        RequestRecord.of(
            {
                "id": uuid.uuid4(),
                "model": "m",
                "status": "success",
                "created_at": START + timedelta(seconds=n),
                "prompt_text": "user: the invoice is overdue" if n <= SEARCH_COUNT_CAP else
                "user: a receipt",
            }
        )
        for n in range(SEARCH_COUNT_CAP + 4)
    ]  # fmt: skip
    async with engine.begin() as conn:
        inserter = RowInserter(TABLE, engine.dialect)
        for start in range(0, len(rows), 5000):
            await rollup.add_rows(conn, await inserter.insert(conn, rows[start : start + 5000]))
    yield async_sessionmaker(engine, expire_on_commit=False)
    await engine.dispose()


async def test_a_search_past_the_cap_reports_the_cap_as_an_estimate(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as session:
        page = await list_requests(session, None, RequestFilter(search="INVOICE"), per_page=50)
        last = await list_requests(
            session, None, RequestFilter(search="invoice"), page=201, per_page=50
        )
    assert (page.total, page.total_is_estimate) == (SEARCH_COUNT_CAP, True)
    assert page.total_pages == SEARCH_COUNT_CAP // 50 and len(page.requests) == 50
    # Past the counted pages the matches go on: the 10,001st is still served.
    assert len(last.requests) == 1


async def test_a_search_below_the_cap_is_counted_exactly(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as session:
        page = await list_requests(session, None, RequestFilter(search="receipt"))
        listed = await list_requests(session, None, RequestFilter(model="m"))
    assert (page.total, page.total_is_estimate, len(page.requests)) == (3, False, 3)
    assert (listed.total, listed.total_is_estimate) == (SEARCH_COUNT_CAP + 4, False)


async def test_a_front_door_past_the_cap_is_counted_up_to_it_too(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as session:
        door = await list_requests(session, None, RequestFilter(front_door="chat_completions"))
        none = await list_requests(session, None, RequestFilter(front_door="messages"))
    assert (door.total, door.total_is_estimate, len(door.requests)) == (SEARCH_COUNT_CAP, True, 20)
    assert (none.total, none.total_is_estimate, none.requests) == (0, False, [])
