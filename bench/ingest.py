"""`make bench-ingest`: the request-log writer's throughput into PostgreSQL, apart
from the HTTP path.

Drives `RequestLog` (services/request_log.py) directly, as the router builds it
(default batch size and flush interval), against a fresh, migrated database
(partitioned request log, usage rollup kept in the same transactions):

1. throughput: BENCH_INGEST_ROWS rows (default 300,000), made beforehand, are
   added as fast as the event loop allows; rows/s = rows / time until the last
   is committed;
2. visibility: rows added at BENCH_INGEST_RATE per second (default 2,000, about
   what `make bench` drives through one worker) for 10 s while a poller reads
   the newest committed `created_at` every 20 ms: how far behind "now" the
   database is (p50, p99, max).

Writes bench/results/ingest.json and ingest.md.
"""

from __future__ import annotations

import asyncio
import os
import random
import statistics
import sys
import time
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import (
    BenchError,
    log,
    machine,
    pg_create,
    pg_drop,
    pg_reachable,
    pg_url,
    publish,
    run_cli,
)

from model_router.cli import upgrade_database
from model_router.db.records import RequestRecord
from model_router.ids import uuid7

HELD = 8000  # rows held in memory at most (the writer spills past 10,000)
WORDS = [
    "the",
    "invoice",
    "for",
    "March",
    "is",
    "overdue",
    "please",
    "check",
    "the",
    "attached",
    "statement",
    "and",
    "reply",
]


def make_row(rng: random.Random) -> RequestRecord:
    prompt = " ".join(rng.choices(WORDS, k=rng.randint(20, 80)))
    inp, out = rng.randint(20, 3000), rng.randint(10, 1200)
    return RequestRecord.of(
        {
            "id": uuid7(),
            "model": "gpt-4o-mini",
            "provider": "openai",
            "prompt_text": f"user: {prompt}",
            "request_messages": [{"role": "user", "content": prompt}],
            "response_text": " ".join(rng.choices(WORDS, k=rng.randint(10, 60))),
            "finish_reason": "stop",
            "input_tokens": inp,
            "output_tokens": out,
            "total_tokens": inp + out,
            "input_price_per_1m_tokens": Decimal("0.15"),
            "output_price_per_1m_tokens": Decimal("0.6"),
            "input_cost_usd": Decimal(inp) * Decimal("0.00000015"),
            "output_cost_usd": Decimal(out) * Decimal("0.0000006"),
            "total_cost_usd": Decimal(inp) * Decimal("0.00000015")
            + Decimal(out) * Decimal("0.0000006"),
            "latency_ms": rng.randint(100, 3000),
            "status": "success",
            "http_status": 200,
            "created_at": datetime.now(UTC),
            "completed_at": datetime.now(UTC),
        }
    )


async def feed(writer: Any, made: list[RequestRecord]) -> None:
    """Add the rows to the `RequestLog` as fast as it takes them; return once every
    one is committed."""
    sent, rows = 0, len(made)
    while sent < rows:
        # As fast as the writer takes them, below its spill threshold (a flood past
        # it goes to disk first: that is the outage path, not the write path).
        if writer.depth < HELD:
            for row in made[sent : sent + 1000]:
                writer.add(row)
            sent = min(rows, sent + 1000)
        await asyncio.sleep(0.001)
    while writer.written < rows:  # noqa: ASYNC110 (the writer has no event to wait on)
        await asyncio.sleep(0.01)


async def throughput(url: str, rows: int) -> dict[str, Any]:
    from sqlalchemy.ext.asyncio import async_sessionmaker

    from model_router.db.engine import make_engine
    from model_router.services.request_log import RequestLog

    rng = random.Random(20)
    made = [make_row(rng) for _ in range(rows)]
    engine = make_engine(url)
    writer = RequestLog(async_sessionmaker(engine, expire_on_commit=False))
    await writer.start()
    started = time.perf_counter()
    await feed(writer, made)
    seconds = time.perf_counter() - started
    await writer.stop()
    await engine.dispose()
    if writer.spilled or writer.failures:
        raise BenchError(f"{writer.spilled} rows spilled, {writer.failures} failed writes")
    return {"rows": rows, "seconds": round(seconds, 2), "rows_per_second": round(rows / seconds)}


async def visibility(url: str, rate: int, seconds: float) -> dict[str, Any]:
    from sqlalchemy import func, select
    from sqlalchemy.ext.asyncio import async_sessionmaker

    from model_router.db.engine import make_engine
    from model_router.db.models import Request
    from model_router.services.request_log import RequestLog

    rng = random.Random(21)
    made = [make_row(rng) for _ in range(int(rate * seconds) + 1)]
    engine = make_engine(url)
    writer = RequestLog(async_sessionmaker(engine, expire_on_commit=False))
    await writer.start()
    lags: list[float] = []
    done = asyncio.Event()

    async def poll() -> None:
        async with engine.connect() as conn:
            while not done.is_set():
                newest = await conn.scalar(
                    select(func.max(Request.created_at)).where(Request.created_at >= since)
                )
                await conn.commit()
                if newest is not None:
                    lags.append((datetime.now(UTC) - newest).total_seconds())
                await asyncio.sleep(0.02)

    await asyncio.sleep(0.5)
    started = time.perf_counter()
    since = datetime.now(UTC)
    poller = asyncio.create_task(poll())
    sent = 0
    while time.perf_counter() - started < seconds:
        due = int((time.perf_counter() - started) * rate)
        while sent < due:
            writer.add(replace(made[sent], id=uuid7(), created_at=datetime.now(UTC)))
            sent += 1
        await asyncio.sleep(0.005)
    done.set()
    await poller
    await writer.stop()
    await engine.dispose()
    lags.sort()
    steady = lags
    return {
        "rate": rate,
        "rows": sent,
        "p50_s": round(statistics.median(steady), 3),
        "p99_s": round(steady[int(len(steady) * 0.99) - 1], 3),
        "max_s": round(max(steady), 3),
    }


def main() -> int:
    why = pg_reachable()
    if why is not None:
        raise BenchError(f"PostgreSQL is needed: {why}")
    rows = int(os.environ.get("BENCH_INGEST_ROWS", "300000"))
    rate = int(os.environ.get("BENCH_INGEST_RATE", "2000"))
    name = pg_create()
    try:
        url = pg_url(name).replace("postgresql://", "postgresql+asyncpg://")
        upgrade_database(url)
        log(f"throughput: {rows:,} rows through RequestLog ...")
        fast = asyncio.run(throughput(url, rows))
        log(f"  {fast['rows_per_second']:,} rows/s ({fast['seconds']} s)")
        log(f"visibility at {rate:,} rows/s for 10 s ...")
        seen = asyncio.run(visibility(url, rate, 10.0))
        log(f"  newest committed row behind now: p50 {seen['p50_s']} s, p99 {seen['p99_s']} s")
    finally:
        pg_drop(name)
    results = {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "throughput": fast,
        "visibility": seen,
    }
    table = (
        "| measure | value |\n|---|---:|\n"
        f"| rows/s into PostgreSQL (RequestLog, {rows:,} rows) | {fast['rows_per_second']:,} |\n"
        f"| newest row visible, behind now, at {rate:,} rows/s: p50 | {seen['p50_s']} s |\n"
        f"| same, p99 | {seen['p99_s']} s |\n"
        f"| same, max | {seen['max_s']} s |\n"
    )
    publish("ingest", results, table, "ingest")
    print()
    print(table)
    return 0


if __name__ == "__main__":
    run_cli(main, "bench-ingest")
