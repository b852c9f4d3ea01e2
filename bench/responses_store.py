"""Micro-benchmark: what storing a Responses API answer costs, and where.

    .venv/bin/python bench/responses_store.py [--responses 300] [--pg postgresql://...]

Times, for a typical stored response (a 3-turn conversation, one output
message, about 3 KB of JSON):

- `ResponseStore.keep` (what the request path pays: memory only);
- one INSERT + COMMIT per response (what writing before answering would add
  to each request), on a fresh SQLite file and on a scratch PostgreSQL
  database when one answers;
- the background writer's batched `flush`, per response.

Prints medians and 99th percentiles. No timing is asserted in the tests.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import async_sessionmaker

from model_router.cli import upgrade_database
from model_router.db.engine import make_engine
from model_router.domain.keys import KeyInfo
from model_router.services.responses_store import ResponseStore

BODY: dict[str, Any] = {
    "model": "gpt-4o-mini",
    "input": [
        {"role": "user", "content": "Tell me about the weather in Paris in spring. " * 5},
        {"role": "assistant", "content": "Paris in spring is mild, 10 to 20 C. " * 10},
        {"role": "user", "content": "And in autumn?"},
    ],
}


def response(i: int) -> dict[str, Any]:
    rid = f"resp_{uuid.uuid4().hex}"
    return {
        "id": rid,
        "object": "response",
        "created_at": int(time.time()),
        "status": "completed",
        "model": "gpt-4o-mini",
        "output": [
            {
                "type": "message",
                "id": f"msg_{rid[5:]}_0",
                "status": "completed",
                "role": "assistant",
                "content": [{"type": "output_text", "text": f"Autumn is cool. {i} " * 40}],
            }
        ],
        "usage": {"input_tokens": 120, "output_tokens": 80, "total_tokens": 200},
    }


def key() -> KeyInfo:
    return KeyInfo(uuid.uuid4(), "bench", "mr-bench", is_admin=False, is_active=True)


def summary(label: str, seconds: list[float]) -> None:
    us = sorted(s * 1e6 for s in seconds)
    p99 = us[min(len(us) - 1, int(len(us) * 0.99))]
    print(f"{label:<48} median {statistics.median(us):9.1f} µs   p99 {p99:9.1f} µs")


async def measure(url: str, label: str, n: int) -> None:
    engine = make_engine(url)
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    owner = key()
    try:
        store = ResponseStore(sessions, recent=n * 2, max_pending=n * 4)
        keeps = []
        for i in range(n):
            started = time.perf_counter()
            store.keep(owner, BODY, response(i))
            keeps.append(time.perf_counter() - started)
        summary(f"{label}: keep (request path)", keeps)
        started = time.perf_counter()
        await store.flush()
        batched = (time.perf_counter() - started) / n
        print(f"{label + ': batched flush, per response':<48} {batched * 1e6:9.1f} µs")
        singles = []
        for i in range(n):
            one = ResponseStore(sessions)
            one.keep(owner, BODY, response(i))
            started = time.perf_counter()
            await one.flush()  # one INSERT + COMMIT: what a write before answering costs
            singles.append(time.perf_counter() - started)
        summary(f"{label}: one insert + commit per response", singles)
    finally:
        await engine.dispose()


async def _pg_admin(dsn: str, sql: str) -> None:
    import asyncpg  # type: ignore[import-untyped]

    admin = await asyncpg.connect(dsn)
    try:
        await admin.execute(sql)
    finally:
        await admin.close()


def main(n: int, pg: str | None) -> None:
    """Each database migrated outside the event loop (alembic runs its own)."""
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"
        upgrade_database(url)
        asyncio.run(measure(url, "sqlite", n))
    if pg:
        name = f"mr_bench_{uuid.uuid4().hex[:8]}"
        asyncio.run(_pg_admin(pg, f'CREATE DATABASE "{name}"'))
        try:
            base = pg.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
            upgrade_database(f"{base}/{name}")
            asyncio.run(measure(f"{base}/{name}", "postgresql", n))
        finally:
            asyncio.run(_pg_admin(pg, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--responses", type=int, default=300)
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    main(args.responses, args.pg or None)
