"""The request-log inserter on a real database (binary COPY on PostgreSQL,
multi-row VALUES on SQLite): every value reads back as the record held it, a
batch partly stored already is refused whole (`Duplicates`) and then, inserted
`one_by_one` (through a staging table on PostgreSQL), stores nothing twice, and
only the rows stored now are returned (the writer's exactly-once accounting and
rollup depend on it)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from model_router.db.engine import make_engine
from model_router.db.inserts import Duplicates, RowInserter
from model_router.db.models import Request
from model_router.db.records import FIELDS, RequestRecord
from model_router.db.rollup import UsageDaily
from model_router.services.request_log import TABLE, RequestLog

pytestmark = pytest.mark.anyio

MODEL = "inserts-test-model"


def record(n: int, **fields: object) -> RequestRecord:
    values: dict[str, object] = {
        "id": uuid.uuid4(),
        "model": MODEL,
        "status": "success",
        "created_at": datetime(2025, 5, 4, 3, 2, 1, n, tzinfo=UTC),
        "end_user": "alice",
        "provider": "openai",
        "prompt_text": f"user: invoice n\u00b0{n} \U0001f600",
        "request_messages": [{"role": "user", "content": f"invoice {n}"}],
        "response_text": "paid",
        "tags": {"team": "billing", "n": str(n)},
        "attempts": [{"deployment": "a", "provider": "openai", "model": "m", "status": 200,
                      "latency_ms": 3, "error": None}],
        "input_tokens": 10 + n,
        "output_tokens": 5,
        "total_tokens": 15 + n,
        "input_price_per_1m_tokens": Decimal("0.15"),
        "total_cost_usd": Decimal("0.0000000000015"),  # a tie: half-even to ...002
        "latency_ms": 100 + n,
        "is_stream": n % 2 == 0,
        "completed_at": datetime(2025, 5, 4, 3, 2, 2, tzinfo=UTC),
    }  # fmt: skip
    return RequestRecord.of(values | fields)


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(database_url)
    yield engine
    await engine.dispose()


async def stored(engine: AsyncEngine, ids: list[uuid.UUID]) -> dict[uuid.UUID, RequestRecord]:
    async with async_sessionmaker(engine)() as session:
        rows = (await session.scalars(select(Request).where(Request.id.in_(ids)))).all()
        return {row.id: RequestRecord(**{k: getattr(row, k) for k in FIELDS}) for row in rows}


async def test_every_value_reads_back_as_the_record_held_it(engine: AsyncEngine) -> None:
    rows = [record(n) for n in range(1, 4)] + [
        record(4, tags=None, attempts=None, total_cost_usd=None, latency_ms=None, end_user=None)
    ]
    async with engine.begin() as conn:
        fresh = await RowInserter(TABLE, engine.dialect).insert(conn, rows)
    assert fresh == rows
    back = await stored(engine, [row.id for row in rows])
    for row in rows:
        expected = row.as_dict()
        if expected["total_cost_usd"] is not None:
            expected["total_cost_usd"] = Decimal("0.000000000002")
        assert back[row.id].as_dict() == expected


async def test_a_batch_partly_stored_already_returns_only_the_new_rows(
    engine: AsyncEngine,
) -> None:
    inserter = RowInserter(TABLE, engine.dialect)
    old = [record(n) for n in range(10, 13)]
    new = [record(n) for n in range(13, 15)]
    async with engine.begin() as conn:
        await inserter.insert(conn, old)
    batch = [old[0], new[0], old[1], new[1], old[2]]
    with pytest.raises(Duplicates):  # and it stored none of them
        async with engine.begin() as conn:
            await inserter.insert(conn, batch)
    assert len(await stored(engine, [row.id for row in batch])) == 3
    async with engine.begin() as conn:
        fresh = await inserter.insert(conn, batch, one_by_one=True)
    assert fresh == new
    async with engine.begin() as conn:
        assert await inserter.insert(conn, batch, one_by_one=True) == []
    assert len(await stored(engine, [row.id for row in batch])) == 5


async def test_the_writer_stores_a_batch_written_twice_once_and_counts_it_once(
    engine: AsyncEngine,
) -> None:
    model = f"twice-{uuid.uuid4().hex[:8]}"
    rows = [record(n, model=model) for n in range(20, 120)]
    writer = RequestLog(async_sessionmaker(engine, expire_on_commit=False))
    for _ in range(2):  # a replay of rows already committed
        for row in rows:
            writer.add(row)
        await writer.flush()
    async with engine.connect() as conn:
        count = await conn.scalar(
            select(func.count()).select_from(Request).where(Request.model == model)
        )
        counted = await conn.scalar(
            select(func.sum(UsageDaily.requests)).where(UsageDaily.model == model)
        )
    assert (count, counted) == (100, 100)
    assert writer.written == 200 and writer.rejected == 0


async def _counts(engine: AsyncEngine, model: str) -> tuple[int, int]:
    async with engine.connect() as conn:
        count = await conn.scalar(
            select(func.count()).select_from(Request).where(Request.model == model)
        )
        counted = await conn.scalar(
            select(func.sum(UsageDaily.requests)).where(UsageDaily.model == model)
        )
    return int(count or 0), int(counted or 0)


async def test_two_batches_written_at_once_are_stored_and_counted_once(
    engine: AsyncEngine,
) -> None:
    """On PostgreSQL the writer sends two batches at once, each in its own
    transaction, both adding to the same rollup row: every row is stored and
    counted once, a replay of some of them among new ones included."""
    model = f"lanes-{uuid.uuid4().hex[:8]}"
    rows = [record(n, model=model) for n in range(3000)]
    writer = RequestLog(async_sessionmaker(engine, expire_on_commit=False), batch_size=1000)
    for row in rows[:2000]:
        writer.add(row)
    await writer.flush()
    for row in rows[1000:]:  # 1,000 stored already, 1,000 new, in both batches
        writer.add(row)
    await writer.flush()
    assert await _counts(engine, model) == (3000, 3000)
    assert writer.written == 4000 and writer.depth == 0


async def test_a_batch_that_fails_beside_one_written_keeps_only_its_own_rows(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When one of the batches written at once fails, its rows stay pending (the
    other batch's do not) and go in once the database takes them."""
    model = f"half-{uuid.uuid4().hex[:8]}"
    rows = [record(n, model=model) for n in range(2000)]
    writer = RequestLog(async_sessionmaker(engine, expire_on_commit=False), batch_size=1000)
    write = writer._write  # the database fails for one batch only
    lanes = 2 if engine.dialect.name == "postgresql" else 1
    others_in = asyncio.Event()  # the other lane's rows are in: then the first batch fails
    in_rows = 0

    async def first_batch_fails(batch: list[RequestRecord]) -> None:
        nonlocal in_rows
        if batch[0] is rows[0]:
            if lanes == 2:
                await others_in.wait()
            raise OSError("connection reset")
        await write(batch)
        in_rows += len(batch)
        if in_rows >= 1000:
            others_in.set()

    monkeypatch.setattr(writer, "_write", first_batch_fails)
    for row in rows:
        writer.add(row)
    with pytest.raises(OSError):
        await writer.flush()
    assert writer.pending_rows() == (rows if lanes == 1 else rows[:1000])
    assert await _counts(engine, model) == ((0, 0) if lanes == 1 else (1000, 1000))
    monkeypatch.setattr(writer, "_write", write)
    await writer.flush()
    assert await _counts(engine, model) == (2000, 2000)
    assert writer.written == 2000 and writer.depth == 0
