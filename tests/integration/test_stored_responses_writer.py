"""Stored responses ride with the request log's writer: one writer per process
(on SQLite, one contender for the write lock). A response kept is written by
the request log's next write, between its batches; a response the database
cannot take never holds back the request log's rows."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from model_router.db.engine import make_engine
from model_router.db.models import Request
from model_router.db.records import RequestRecord
from model_router.db.response_models import StoredResponse
from model_router.domain.keys import KeyInfo
from model_router.services.request_log import RequestLog
from model_router.services.responses_store import ResponseStore

pytestmark = pytest.mark.anyio

KEY = KeyInfo(uuid.uuid4(), "writer-test", "mr-writer", is_admin=False, is_active=True)


@pytest.fixture
async def sessions(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = make_engine(database_url)
    yield async_sessionmaker(engine, expire_on_commit=False)
    await engine.dispose()


@pytest.fixture
async def writer(
    sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> AsyncIterator[tuple[RequestLog, ResponseStore]]:
    """A request log and a store written by its task (no write loop of its own;
    neither writes on a timer during the test)."""
    log = RequestLog(sessions, spill_dir=tmp_path, flush_interval=60)
    store = ResponseStore(sessions, flush_interval=60)
    await store.start(log)
    yield log, store
    await store.stop()
    await log.stop()


def request_row(model: str) -> RequestRecord:
    return RequestRecord.of(
        {
            "id": uuid.uuid4(),
            "model": model,
            "status": "success",
            "created_at": datetime.now(UTC),
            "prompt_text": "user: hi",
        }
    )


def response(marker: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": f"resp_{marker}_{uuid.uuid4().hex}",
        "created_at": time.time(),
        "model": "gpt-4o-mini",
        "output": [],
        **extra,
    }


async def count(sessions: async_sessionmaker[AsyncSession], query: Any) -> int:
    async with sessions() as session:
        return int(await session.scalar(query) or 0)


async def test_a_kept_response_is_written_by_the_request_logs_next_write(
    sessions: async_sessionmaker[AsyncSession], writer: tuple[RequestLog, ResponseStore]
) -> None:
    log, store = writer
    kept = response("rides")
    store.keep(KEY, {"input": "hi"}, kept)
    log.add(request_row("writer-test-rides"))
    assert store.pending == 1

    await log.flush()

    assert store.pending == 0
    written = select(func.count()).where(StoredResponse.id == kept["id"])
    assert await count(sessions, written) == 1
    # Another process (a store with nothing in memory) finds it in the database.
    assert (await ResponseStore(sessions).get(KEY, kept["id"])).id == kept["id"]


async def test_a_response_the_database_refuses_never_holds_back_the_request_log(
    sessions: async_sessionmaker[AsyncSession], writer: tuple[RequestLog, ResponseStore]
) -> None:
    log, store = writer
    # An id longer than the column (80 characters): PostgreSQL refuses the
    # row; SQLite stores it. Either way the request rows go in.
    refused = response("x" * 100)
    fine = response("fine")
    store.keep(KEY, {"input": "hi"}, refused)
    store.keep(KEY, {"input": "hi"}, fine)
    for _ in range(3):
        log.add(request_row("writer-test-refused"))

    await log.flush()

    in_log = select(func.count()).where(Request.model == "writer-test-refused")
    assert await count(sessions, in_log) == 3
    written = select(func.count()).where(StoredResponse.id == fine["id"])
    assert await count(sessions, written) == 1
    assert store.pending == 0  # the refused one is dropped, logged; nothing is stuck


async def test_a_written_response_reads_back_as_it_was_kept(
    sessions: async_sessionmaker[AsyncSession], writer: tuple[RequestLog, ResponseStore]
) -> None:
    log, store = writer
    usage = {"input_tokens": 12, "total_cost_usd": Decimal("0.000000123456789")}
    kept = response("exact", usage=usage, created_at=int(time.time()))
    huge = 2**70  # past 64 bits: written all the same
    store.keep(KEY, {"input": [{"role": "user", "content": "hi", "n": huge}]}, kept)
    log.add(request_row("writer-test-exact"))

    await log.flush()

    read = await ResponseStore(sessions).get(KEY, kept["id"])  # from the database
    assert read.response["usage"] == {"input_tokens": 12, "total_cost_usd": 1.23456789e-7}
    assert read.response["created_at"] == kept["created_at"]
    assert read.created_at == datetime.fromtimestamp(kept["created_at"], UTC)
    assert read.key_id == KEY.id
    (item,) = read.input_items
    assert item["content"] == [{"type": "input_text", "text": "hi"}]
    assert str(item["n"]) == str(huge)
