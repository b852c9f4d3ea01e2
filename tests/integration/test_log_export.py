"""`model-router log export`: the rows of a window out as JSON lines or CSV,
oldest first, a page at a time, on both databases."""

from __future__ import annotations

import csv
import io
import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import anyio
import pytest
from click.testing import CliRunner
from sqlalchemy import delete, insert
from sqlalchemy.ext.asyncio import AsyncEngine

from model_router.cli import main
from model_router.db.engine import make_engine
from model_router.db.models import Request
from model_router.services.log_export import COLUMNS, export, pages

pytestmark = pytest.mark.anyio

START = datetime(2026, 3, 1, tzinfo=UTC)


def _row(n: int) -> dict[str, object]:
    return {
        "id": uuid.UUID(int=n),
        "model": "gpt-4o",
        "provider": "openai",
        "prompt_text": f'user: say "{n}", please\nthanks',
        "request_messages": [{"role": "user", "content": f"say {n}"}],
        "status": "success",
        "total_tokens": n,
        "total_cost_usd": Decimal("0.000000000001") * n,
        "created_at": START + timedelta(hours=n),
        "tags": {"team": "a,b"},
    }


ROWS = [_row(n) for n in range(1, 8)]


@pytest.fixture
async def engine(empty_database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(empty_database_url)
    async with engine.begin() as conn:
        await conn.execute(delete(Request))
        await conn.execute(insert(Request), ROWS)
    try:
        yield engine
    finally:
        await engine.dispose()


async def test_rows_come_a_page_at_a_time_oldest_first(engine: AsyncEngine) -> None:
    sizes, ids = [], []
    async for page in pages(engine, START, None, page=3):
        sizes.append(len(page))
        ids += [r.id.int for r in page]
    assert sizes == [3, 3, 1]
    assert ids == list(range(1, 8))


async def test_jsonl_has_every_column_and_exact_values(engine: AsyncEngine) -> None:
    out = io.StringIO()
    written = await export(
        engine, out, "jsonl", START + timedelta(hours=2), START + timedelta(hours=5), page=2
    )
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert written == len(lines) == 3
    assert [line["total_tokens"] for line in lines] == [2, 3, 4]
    first = lines[0]
    assert set(first) == set(COLUMNS)
    assert first["id"] == str(uuid.UUID(int=2))
    assert Decimal(first["total_cost_usd"]) == Decimal("0.000000000002")
    assert datetime.fromisoformat(first["created_at"]) == START + timedelta(hours=2)
    assert first["request_messages"] == [{"role": "user", "content": "say 2"}]
    assert first["prompt_text"] == 'user: say "2", please\nthanks'
    assert first["response_text"] is None


async def test_csv_quotes_text_and_writes_json_columns_as_json(engine: AsyncEngine) -> None:
    out = io.StringIO()
    written = await export(engine, out, "csv", START, page=4)
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert written == len(rows) == 7
    assert rows[0]["prompt_text"] == 'user: say "1", please\nthanks'
    assert json.loads(rows[0]["tags"]) == {"team": "a,b"}
    assert rows[0]["response_text"] == ""
    assert [int(r["total_tokens"]) for r in rows] == list(range(1, 8))


async def test_the_command_writes_a_file(engine: AsyncEngine, tmp_path: Path) -> None:
    url = engine.url.render_as_string(hide_password=False)
    target = tmp_path / "log.jsonl"

    def run() -> object:
        return CliRunner().invoke(
            main,
            ["log", "export", "--since", "2026-03-01", "--until", "2026-03-01T04:00:00",
             "--output", str(target)],
            env={"DATABASE_URL": url},
        )  # fmt: skip

    result = await anyio.to_thread.run_sync(run)
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    assert len(target.read_text().splitlines()) == 3  # hours 1, 2 and 3
