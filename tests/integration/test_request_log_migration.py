"""Migration 0011 on a populated request log: PostgreSQL's table becomes
monthly partitions with every row, index and key; SQLite's search index takes
the rows already there. Its downgrade gives the plain table back."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import anyio
import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import func, insert, select, text
from sqlalchemy.ext.asyncio import async_sessionmaker

import model_router.db
from model_router.db import partitions, queries, rollup
from model_router.db.engine import make_engine
from model_router.db.models import Request
from model_router.db.rollup import TABLE as USAGE

pytestmark = pytest.mark.anyio

CREATED = [datetime(2025, month, 10, 8, tzinfo=UTC) for month in (1, 2, 2, 7)]
ROWS = [
    {
        "id": uuid.UUID(int=n + 1),
        "model": "gpt-4o",
        "provider": "openai",
        "prompt_text": f"user: invoice number {n}" if n % 2 else f"user: hello {n}",
        "status": "success",
        "total_tokens": 10,
        "total_cost_usd": Decimal("0.25"),
        "created_at": created,
    }
    for n, created in enumerate(CREATED)
]


def _config(url: str) -> Config:
    config = Config()
    config.set_main_option(
        "script_location", str(Path(model_router.db.__file__).parent / "migrations")
    )
    config.set_main_option("sqlalchemy.url", url)
    return config


async def test_the_migration_converts_a_populated_request_log(empty_database_url: str) -> None:
    config = _config(empty_database_url)
    await anyio.to_thread.run_sync(command.downgrade, config, "0011-1")  # before 0011
    engine = make_engine(empty_database_url)
    try:
        async with engine.begin() as conn:
            assert not await conn.run_sync(partitions.is_partitioned)
            await conn.execute(insert(Request), ROWS)
            # The schema before 0011 has the keyed rollup only (0012 adds the other).
            await conn.execute(rollup.rebuild_statement(conn.dialect.name))

        await anyio.to_thread.run_sync(command.upgrade, config, "head")

        async with engine.connect() as conn:
            count = await conn.scalar(select(func.count()).select_from(Request))
            money = await conn.scalar(select(func.sum(Request.total_cost_usd)))
            usage = await conn.scalar(select(func.sum(USAGE.c.requests)))
            every_key = await conn.scalar(select(func.sum(rollup.ALL_TABLE.c.requests)))
            assert (count, money, usage, every_key) == (4, Decimal("1.00"), 4, 4)
            if conn.dialect.name == "postgresql":
                assert await conn.run_sync(partitions.is_partitioned)
                names = await conn.run_sync(partitions.children)
                assert {"requests_p2025_01", "requests_p2025_02", "requests_p2025_07"} <= set(names)
                assert "requests_default" in names
                in_default = await conn.scalar(text("SELECT count(*) FROM requests_default"))
                assert in_default == 0
                key = await conn.scalar(
                    text(
                        "SELECT pg_get_constraintdef(oid) FROM pg_constraint "
                        "WHERE conrelid = 'requests'::regclass AND contype = 'p'"
                    )
                )
                assert key == "PRIMARY KEY (id, created_at)"
                indexes = set(
                    await conn.scalars(
                        text("SELECT indexname FROM pg_indexes WHERE tablename = 'requests'")
                    )
                )
                assert {"ix_requests_user_created", "ix_requests_search_trgm"} <= indexes
                assert "ix_requests_prompt_trgm" not in indexes  # 0013 bounds the search
        async with async_sessionmaker(engine)() as session:
            found = await queries.list_requests(
                session, None, queries.RequestFilter(search="INVOICE")
            )
            assert sorted(r.id.int for r in found.requests) == [2, 4]
            # New rows still go in and are found by the writer's conflict target.
            await session.execute(
                insert(Request), [ROWS[0] | {"id": uuid.uuid4(), "prompt_text": "invoice new"}]
            )
            await session.commit()
            found = await queries.list_requests(
                session, None, queries.RequestFilter(search="invoice")
            )
            assert found.total == 3
    finally:
        await engine.dispose()
