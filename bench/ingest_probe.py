"""Where the request-log writer's time goes, per row: `bench/ingest.py`'s rows through
`RequestLog` against a fresh migrated PostgreSQL database, with CPU accounted
from /proc (the bench process, and every PostgreSQL backend of the database),
so the numbers hold up better than rows/s on a shared machine.

    .venv/bin/python bench/ingest_probe.py cpu [--rows N] [--drop INDEX,...]
    .venv/bin/python bench/ingest_probe.py profile [--rows N]   # cProfile of the writer
    .venv/bin/python bench/ingest_probe.py explain [--rows N]   # EXPLAIN of a batch's statements

`--drop` names indexes of `requests` to drop first (`trgm` stands for the trigram
search index, `sort` for the four sort indexes), to see what each one costs.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import pstats
import random
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import CLK_TCK, log, machine_busy_seconds, pg_create, pg_drop, pg_url
from ingest import feed, make_row

from model_router.cli import upgrade_database

SORT = ["ix_requests_cost_desc", "ix_requests_cost_asc", "ix_requests_latency_desc",
        "ix_requests_latency_asc"]  # fmt: skip


def backend_cpu(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / CLK_TCK
    return total


async def backends(url: str) -> list[int]:
    import asyncpg

    conn = await asyncpg.connect(url.replace("+asyncpg", ""))
    try:
        rows = await conn.fetch(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid()"
        )
    finally:
        await conn.close()
    return [int(r["pid"]) for r in rows]


async def drop(url: str, names: list[str]) -> None:
    import asyncpg

    expanded: list[str] = []
    for name in names:
        expanded += {"trgm": ["ix_requests_search_trgm"], "sort": SORT}.get(name, [name])
    conn = await asyncpg.connect(url.replace("+asyncpg", ""))
    try:
        for name in expanded:
            await conn.execute(f"DROP INDEX {name}")
    finally:
        await conn.close()


async def run(url: str, rows: int, profiler: cProfile.Profile | None) -> dict[str, Any]:
    from sqlalchemy.ext.asyncio import async_sessionmaker

    from model_router.db.engine import make_engine
    from model_router.services.request_log import RequestLog

    rng = random.Random(20)
    made = [make_row(rng) for _ in range(rows)]
    engine = make_engine(url)
    writer = RequestLog(async_sessionmaker(engine, expire_on_commit=False))
    await writer.start()
    async with engine.connect() as conn:  # the pool's connection exists before we count
        await conn.exec_driver_sql("SELECT 1")
    pids = await backends(url)
    pg0, py0, wall0 = backend_cpu(pids), time.process_time(), time.perf_counter()
    busy0 = machine_busy_seconds()
    if profiler:
        profiler.enable()
    await feed(writer, made)
    if profiler:
        profiler.disable()
    wall, py = time.perf_counter() - wall0, time.process_time() - py0
    busy = machine_busy_seconds() - busy0
    pids = await backends(url)
    pg = backend_cpu(pids) - pg0
    await writer.stop()
    await engine.dispose()
    return {
        "rows/s": round(rows / wall),
        "python us/row": round(py / rows * 1e6, 1),
        "postgres us/row": round(pg / rows * 1e6, 1),
        "machine busy": f"{busy / wall / (os.cpu_count() or 1):.0%}",
        "load": os.getloadavg()[0],
    }


async def explain(url: str, rows: int) -> None:
    from sqlalchemy.ext.asyncio import AsyncConnection

    from model_router.db.engine import make_engine
    from model_router.db.inserts import STAGING, RowInserter
    from model_router.services.request_log import TABLE

    rng = random.Random(22)
    engine = make_engine(url)
    inserter = RowInserter(TABLE, engine.dialect)
    for _ in range(3):  # the third batch: the indexes are no longer empty
        made = [make_row(rng) for _ in range(rows)]
        conn: AsyncConnection
        async with engine.begin() as conn:
            await conn.exec_driver_sql(inserter._staging_sql)
            driver: Any = (await conn.get_raw_connection()).driver_connection
            encoded = [inserter.encode(r) for r in made]
            t0 = time.perf_counter()
            await driver.copy_records_to_table(STAGING, records=encoded, columns=inserter._columns)
            t1 = time.perf_counter()
            plan = await driver.fetch("EXPLAIN (ANALYZE, BUFFERS, WAL) " + inserter._sql)
            t2 = time.perf_counter()
        print(f"COPY {t1 - t0:.3f} s, INSERT ... SELECT {t2 - t1:.3f} s")
    print("\n".join(r[0] for r in plan))
    await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["cpu", "profile", "explain"])
    parser.add_argument("--rows", type=int, default=40_000)
    parser.add_argument("--drop", default="")
    args = parser.parse_args()
    name = pg_create()
    try:
        url = pg_url(name).replace("postgresql://", "postgresql+asyncpg://")
        upgrade_database(url)
        if args.drop:
            asyncio.run(drop(url, args.drop.split(",")))
        if args.mode == "explain":
            asyncio.run(explain(url, min(args.rows, 5000)))
            return
        profiler = cProfile.Profile() if args.mode == "profile" else None
        log(str(asyncio.run(run(url, args.rows, profiler))))
        if profiler:
            pstats.Stats(profiler).sort_stats("tottime").print_stats(30)
    finally:
        pg_drop(name)


if __name__ == "__main__":
    main()
