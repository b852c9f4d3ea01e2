"""SQLite's search index takes the request log's rows a batch at a time
(migration 0015): every row is found, whoever stored it and whenever it was
indexed; deleting or blanking rows leaves neither stale matches nor a mark past
rows that are not indexed."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import anyio
import pytest
from alembic import command
from sqlalchemy import delete, insert, update
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from model_router.cli import upgrade_database
from model_router.db import queries, search
from model_router.db.engine import make_engine
from model_router.db.models import Request
from model_router.db.records import RequestRecord
from model_router.services.request_log import RequestLog
from tests.integration.test_request_log_migration import _config

pytestmark = pytest.mark.anyio

NOW = datetime(2026, 12, 3, 12, tzinfo=UTC)


def row(n: int, prompt: str) -> dict[str, Any]:
    return {
        "id": uuid.UUID(int=n),
        "model": "gpt-4o",
        "provider": "openai",
        "prompt_text": prompt,
        "status": "success",
        "created_at": NOW + timedelta(seconds=n),
    }


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'log.db'}"
    await anyio.to_thread.run_sync(upgrade_database, url)
    engine = make_engine(url)
    try:
        yield engine
    finally:
        await engine.dispose()


async def found(engine: AsyncEngine, needle: str) -> list[int]:
    async with async_sessionmaker(engine)() as session:
        page = await queries.list_requests(
            session, None, queries.RequestFilter(search=needle), per_page=100
        )
    return sorted(r.id.int for r in page.requests)


async def indexed(engine: AsyncEngine, needle: str) -> list[int]:
    """The rows the FTS index itself matches (not the search's unindexed tail)."""
    async with engine.connect() as conn:
        rows = await conn.exec_driver_sql(
            "SELECT r.id FROM requests_fts f JOIN requests r ON r.rowid = f.rowid "
            "WHERE requests_fts MATCH ?",
            (f'"{needle}"',),
        )
        return sorted(uuid.UUID(hex=str(value)).int for (value,) in rows)


async def mark(engine: AsyncEngine) -> tuple[int, int]:
    async with engine.connect() as conn:
        upto = await conn.exec_driver_sql(f"SELECT indexed_to FROM {search.SQLITE_PROGRESS}")
        last = await conn.exec_driver_sql("SELECT coalesce(max(rowid), 0) FROM requests")
        return int(upto.scalar_one()), int(last.scalar_one())


async def write(engine: AsyncEngine, rows: list[dict[str, Any]], tmp_path: Path) -> None:
    log = RequestLog(async_sessionmaker(engine, expire_on_commit=False), spill_dir=tmp_path)
    for values in rows:
        log.add(RequestRecord.of(values))
    await log.flush()
    assert log.written == len(rows)


async def test_the_writer_indexes_its_batch_without_a_trigger_per_row(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    async with engine.connect() as conn:
        triggers = await conn.exec_driver_sql(
            "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'requests'"
        )
        assert {name for (name,) in triggers} == {"requests_fts_delete", "requests_fts_update"}
    await write(
        engine, [row(1, "user: an invoice"), row(2, "user: hello"), row(3, "INVOICE")], tmp_path
    )
    assert await indexed(engine, "invoice") == [1, 3]
    assert await found(engine, "invoice") == [1, 3]
    upto, last = await mark(engine)
    assert upto == last == 3


async def test_rows_stored_around_the_writer_are_found_before_and_after_indexing(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    async with engine.begin() as conn:  # demo data, a restore, another tool
        await conn.execute(insert(Request), [row(1, "user: refund please")])
    assert await indexed(engine, "refund") == []
    assert await found(engine, "refund") == [1]
    await write(engine, [row(2, "user: another refund")], tmp_path)  # indexes both
    assert await indexed(engine, "refund") == [1, 2]
    assert await found(engine, "refund") == [1, 2]


async def test_deleting_the_newest_rows_lowers_the_mark_so_new_rows_are_found(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    await write(engine, [row(n, f"user: order {n}") for n in range(1, 5)], tmp_path)
    async with engine.begin() as conn:
        await conn.execute(
            delete(Request).where(Request.id.in_([uuid.UUID(int=3), uuid.UUID(int=4)]))
        )
    assert await mark(engine) == (2, 2)
    assert await found(engine, "order") == [1, 2]
    # The new rows take the deleted rows' rowids: above the mark, so found and indexed.
    async with engine.begin() as conn:
        await conn.execute(insert(Request), [row(5, "user: order five")])
    assert await found(engine, "order five") == [5]
    await write(engine, [row(6, "user: order six")], tmp_path)
    assert await indexed(engine, "order") == [1, 2, 5, 6]
    async with engine.begin() as conn:  # the index and the table agree, row for row
        await conn.exec_driver_sql(
            "INSERT INTO requests_fts (requests_fts) VALUES ('integrity-check')"
        )


async def test_a_blanked_prompt_is_not_found_whether_or_not_it_was_indexed(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    await write(engine, [row(1, "user: secret invoice")], tmp_path)
    async with engine.begin() as conn:
        await conn.execute(insert(Request), [row(2, "user: secret refund")])
        # Text retention blanks both: one indexed, one not yet.
        await conn.execute(update(Request).values(prompt_text=""))
    assert await found(engine, "secret") == []
    await write(engine, [row(3, "user: later")], tmp_path)
    assert await indexed(engine, "secret") == []
    assert await found(engine, "secret") == []


async def test_the_migration_keeps_the_rows_found_both_ways(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    config = _config(str(engine.url))
    await write(engine, [row(1, "user: invoice one")], tmp_path)
    async with engine.begin() as conn:
        await conn.execute(insert(Request), [row(2, "user: invoice two")])
    await anyio.to_thread.run_sync(command.downgrade, config, "0014")
    assert await indexed(engine, "invoice") == [1, 2]  # indexed on the way down
    async with engine.begin() as conn:  # 0014's trigger indexes a row as it goes in
        await conn.execute(insert(Request), [row(3, "user: invoice three")])
    assert await indexed(engine, "invoice") == [1, 2, 3]
    await anyio.to_thread.run_sync(command.upgrade, config, "head")
    assert await mark(engine) == (3, 3)
    assert await found(engine, "invoice") == [1, 2, 3]
