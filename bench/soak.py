"""`make soak`: the router under a steady load for a long time (10 minutes by
default; SOAK_SECONDS to change it), with a mix of calls:

    70%  non-streamed completions          (nginx, bench/bodies)   expect 200
    20%  streamed completions, read whole  (nginx)                 expect 200, [DONE]
     5%  upstream errors: 200 text/html    (tests/mocks/faults.py) expect 502/503
     5%  streams the client drops after the first bytes            expect a row

Reports the start (after a warm-up) and end RSS of the router's processes,
unexpected errors, and request-log rows against requests sent. The load is
open-loop at SOAK_RATE requests/s (default 150: near what one router worker
sustains for this mix on this machine's two cores, shared with the Python
client; the benchmark's capacity for plain calls is in bench/results/latest.md).
Calls the client could not start because 256 were already in flight are
counted as skipped. Writes bench/results/soak.{json,md} and the table in bench/README.md.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import sqlite3
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
from harness import (
    ROOT,
    UPSTREAM_KEY_SETTING,
    Workdir,
    cleanup_on_exit,
    cli,
    log,
    publish,
    router_env,
    router_workers,
    run_cli,
    set_up_router_db,
    start_nginx,
    start_router,
    status_kib,
)

sys.path.insert(0, str(ROOT))
from tests.mocks.faults import FaultServer

SECONDS = float(os.environ.get("SOAK_SECONDS", "600"))
RATE = float(os.environ.get("SOAK_RATE", "150"))
WORKERS = int(os.environ.get("SOAK_WORKERS", "1"))
WARMUP = min(10.0, SECONDS / 10)
MAX_IN_FLIGHT = 256
MIX = [("ok", 70), ("stream", 20), ("upstream_error", 5), ("disconnect", 5)]


def rss_mib(pids: list[int]) -> float:
    return round(sum(status_kib(p, "VmRSS") or 0 for p in pids) / 1024, 1)


def body(model: str, stream: bool) -> dict[str, Any]:
    return {
        "model": model,
        "messages": [{"role": "user", "content": "soak: say something"}],
        "stream": stream,
    }


class Load:
    def __init__(self, base: str, key: str) -> None:
        self.base, self.key = base, key
        self.sent: Counter[str] = Counter()
        self.outcomes: Counter[str] = Counter()
        self.unexpected: Counter[str] = Counter()
        self.skipped = 0

    async def one(self, client: httpx.AsyncClient, kind: str) -> None:
        self.sent[kind] += 1
        try:
            if kind == "ok":
                r = await client.post("/v1/chat/completions", json=body("bench-openai", False))
                good = r.status_code == 200 and r.json()["choices"][0]["message"]["content"]
                outcome = "200" if good else f"{r.status_code}"
            elif kind == "upstream_error":
                r = await client.post("/v1/chat/completions", json=body("soak-fault", False))
                # 502 from the upstream, or 503 once its circuit breaker opens.
                good = r.status_code in (502, 503) and "error" in r.json()
                outcome = f"{r.status_code}"
            else:
                payload = body("bench-openai-stream", True)
                async with client.stream("POST", "/v1/chat/completions", json=payload) as r:
                    data = b""
                    async for chunk in r.aiter_bytes():
                        data += chunk
                        if kind == "disconnect":
                            break  # leaving the block closes the connection
                good = r.status_code == 200 and (kind == "disconnect" or b"[DONE]" in data)
                outcome = f"{r.status_code}"
        except httpx.HTTPError as exc:
            good, outcome = False, type(exc).__name__
        self.outcomes[f"{kind}:{outcome}"] += 1
        if not good:
            self.unexpected[f"{kind}:{outcome}"] += 1

    async def run(self, seconds: float, rate: float, on_tick: Any) -> None:
        kinds = [k for k, weight in MIX for _ in range(weight)]
        rng = random.Random(7)
        limits = httpx.Limits(max_connections=MAX_IN_FLIGHT, max_keepalive_connections=64)
        headers = {"authorization": f"Bearer {self.key}"}
        tasks: set[asyncio.Task[None]] = set()
        async with httpx.AsyncClient(
            base_url=self.base, headers=headers, timeout=30, limits=limits
        ) as client:
            start = time.monotonic()
            n = 0
            next_tick = start
            while (now := time.monotonic()) < start + seconds:
                due = int((now - start) * rate)
                while n < due:
                    n += 1
                    if len(tasks) >= MAX_IN_FLIGHT:
                        self.skipped += 1  # the router is behind: do not pile up
                        continue
                    task = asyncio.create_task(self.one(client, rng.choice(kinds)))
                    tasks.add(task)
                    task.add_done_callback(tasks.discard)
                if now >= next_tick:
                    on_tick(now - start)
                    next_tick += 10
                await asyncio.sleep(0.002)
            await asyncio.gather(*tasks)


def count_rows(db: Path) -> int:
    conn = sqlite3.connect(db, timeout=30)
    try:
        return int(conn.execute("SELECT count(*) FROM requests").fetchone()[0])
    finally:
        conn.close()


def main() -> int:
    workdir = Workdir()
    with cleanup_on_exit() as children, FaultServer() as faults:
        nginx = start_nginx(children, workdir.path)
        db = workdir.path / "soak.db"
        env = router_env(f"sqlite:///{db}")
        keys = set_up_router_db(workdir.path, env, nginx.base)
        cli(workdir.path, env, "providers", "add", "soak-faults", "--base-url",
            f"{faults.url}/html/v1", "--api-key-setting", UPSTREAM_KEY_SETTING)  # fmt: skip
        cli(workdir.path, env, "models", "add", "soak-fault", "--provider", "soak-faults")
        router = start_router(children, workdir.path, env, WORKERS, "soak")
        pids = router_workers(router)
        load = Load(router.base, keys["user"])
        samples: list[tuple[float, float]] = []

        def tick(elapsed: float) -> None:
            samples.append((round(elapsed), rss_mib(pids)))
            log(f"soak: {elapsed:5.0f} s, RSS {samples[-1][1]} MiB, sent {sum(load.sent.values())}")

        log(f"soak: {SECONDS:.0f} s at {RATE:.0f} requests/s, {WORKERS} worker(s)")
        started = time.monotonic()
        asyncio.run(load.run(SECONDS, RATE, tick))
        elapsed = time.monotonic() - started
        end_rss = rss_mib(pids)
        sent = sum(load.sent.values())
        deadline = time.monotonic() + 60
        while (rows := count_rows(db)) < sent and time.monotonic() < deadline:
            time.sleep(0.5)
        time.sleep(1)
        rows = count_rows(db)
        after_warmup = [rss for t, rss in samples if t >= WARMUP] or [samples[-1][1]]
        results = {
            "seconds": round(elapsed, 1),
            "target_rate": RATE,
            "achieved_rate": round(sent / elapsed, 1),
            "workers": WORKERS,
            "sent": dict(load.sent),
            "sent_total": sent,
            "skipped_by_client": load.skipped,
            "outcomes": dict(load.outcomes),
            "unexpected_errors": dict(load.unexpected),
            "rows": rows,
            "rows_missing": sent - rows,
            "rss_start_mib": after_warmup[0],
            "rss_end_mib": end_rss,
            "rss_samples": samples,
        }
    workdir.remove()
    table = (
        "| soak | value |\n|---|---:|\n"
        f"| duration (s) | {results['seconds']} |\n"
        f"| rate, target / achieved (requests/s) | {RATE:.0f} / {results['achieved_rate']} |\n"
        f"| requests sent (ok / stream / upstream error / disconnect) | {sent:,} "
        f"({' / '.join(str(load.sent[k]) for k, _ in MIX)}) |\n"
        f"| unexpected errors | {sum(load.unexpected.values())} |\n"
        f"| calls skipped by the client (256 in flight) | {load.skipped} |\n"
        f"| request-log rows / requests sent | {rows:,} / {sent:,} |\n"
        f"| router RSS after warm-up -> end (MiB) | {results['rss_start_mib']} -> {end_rss} |\n"
    )
    publish("soak", results, table, "soak")
    print(table)
    print(json.dumps({k: v for k, v in results.items() if k != "rss_samples"}, indent=2))
    return 0 if not load.unexpected and rows == sent else 1


if __name__ == "__main__":
    run_cli(main, "soak")
