"""The two kinds of pass of `make bench`: straight to the mock (`direct_pass`)
and through the router on one database (`router_pass`), with the checks
before the load and the request-log accounting after every phase.
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cpu_profile as profiler
import httpx
from harness import (
    BENCH,
    BenchError,
    Children,
    Nginx,
    Router,
    log,
    peak_rss,
    router_env,
    router_workers,
    set_up_router_db,
    start_router,
)
from loads import (
    DOORS,
    PROTOCOLS,
    Load,
    chat_load,
    check_answer,
    check_chat,
    check_chat_stream,
    direct_loads,
    mock_files,
)
from phases import StreamTarget, Target, added_stream, paired_streams, run_wrk


def plan(protocols: list[str]) -> list[tuple[str, str, bool, int]]:
    """(phase name, protocol, stream, connections) of each measured chat phase."""
    phases = []
    for protocol in protocols:
        if protocol == "openai":
            phases.append(("openai c1", "openai", False, 1))
        phases.append((f"{protocol} c64", protocol, False, 64))
        phases.append((f"{protocol}-stream c64", protocol, True, 64))
    return phases


def door_plan(doors: bool) -> list[tuple[str, Load, int]]:
    """(phase name, load, connections) of the doors' phases: each right after
    the same phase of chat to the same mock ("<door> chat c1"), so that the
    two are measured side by side on a machine whose load drifts."""
    out = []
    for door in DOORS if doors else ():
        for c in (1, 64):
            out.append((f"{door.name} chat c{c}", chat_load(door.chat), c))
            out.append((f"{door.name} c{c}", door.load, c))
    return out


# --- direct -----------------------------------------------------------------------------


def check_direct(nginx: Nginx) -> None:
    """The mock answers POSTs with the exact bytes of bench/bodies and the right type."""
    with httpx.Client(timeout=10) as client:
        for path, name, ctype in mock_files():
            response = client.post(nginx.base + path, content=b"{}")
            want = (BENCH / "bodies" / name).read_bytes()
            if (
                response.status_code != 200
                or response.content != want
                or response.headers["content-type"] != ctype
            ):
                raise BenchError(
                    f"nginx {path}: {response.status_code} {response.headers} "
                    f"({len(response.content)} bytes)"
                )


def direct_pass(
    nginx: Nginx, args: argparse.Namespace, protocols: list[str], doors: bool
) -> dict[str, Any]:
    log("--- direct to the mock (nginx) ---")
    target = Target("direct", nginx.base, nginx.proc.pid)
    loads = direct_loads()

    def load(name: str, what: str, connections: int, duration: float) -> dict[str, Any]:
        return run_wrk(
            target, loads[what], connections=connections, duration=duration,
            label=f"direct {name}", nginx=nginx,
        )  # fmt: skip

    load("warm-up", "openai", 16, args.warmup)
    phases = {}
    short = min(args.duration, 4.0)  # nginx serves every file alike: the others need less
    for name, protocol, stream, connections in plan(protocols):
        duration = args.duration if protocol == "openai" else short
        phases[name] = load(
            name, f"{protocol}-stream" if stream else protocol, connections, duration
        )
    if doors:  # what the doors' added latency is counted from, at c=1
        for what in ("openai-stream", "anthropic", "embeddings"):
            phases[f"{what} c1"] = load(f"{what} c1", what, 1, short)
    return {
        "startup_s": round(nginx.startup_s, 3),
        "phases": phases,
        "peak_rss": peak_rss(nginx.proc.pid),
    }


# --- the router -------------------------------------------------------------------------


def check_router(router: Router, key: str, doors: bool) -> int:
    """One call per bench model and door before the load: 200, the mock's
    text, a cost. Returns the calls sent."""
    headers = {"authorization": f"Bearer {key}", "x-api-key": key}
    calls: list[tuple[str, Load, Callable[[bytes], str | None]]] = []
    for p in PROTOCOLS.values():
        calls.append((p.model, p.chat(False), check_chat))
        calls.append((p.stream_model, p.chat(True), check_chat_stream))
    if doors:
        calls += [(d.title, d.load, d.check) for d in DOORS]
    with httpx.Client(timeout=30) as client:
        for what, load, check in calls:
            response = client.post(router.base + load.path, content=load.body(), headers=headers)
            if response.status_code != 200:
                raise BenchError(
                    f"router check ({what}): {response.status_code} {response.text[:800]}\n"
                    f"--- router log ---\n{router.tail()}"
                )
            check_answer(f"router check ({what})", response.content, check)
    return len(calls)


def count_rows(database_url: str) -> dict[str, int]:
    query = (
        "SELECT count(*), coalesce(sum(CASE WHEN status = 'error' THEN 1 ELSE 0 END), 0), "
        "coalesce(sum(CASE WHEN is_stream THEN 1 ELSE 0 END), 0) FROM requests"
    )
    reasons_query = (
        "SELECT coalesce(error_message, ''), count(*) FROM requests "
        "WHERE status = 'error' GROUP BY 1"
    )
    if database_url.startswith("sqlite"):
        with sqlite3.connect(database_url.split("///", 1)[1]) as conn:
            total, errors, streams = conn.execute(query).fetchone()
            reasons = conn.execute(reasons_query).fetchall()
    else:
        import asyncpg

        async def read() -> tuple[Any, Any]:
            conn = await asyncpg.connect(database_url)
            try:
                return await conn.fetchrow(query), await conn.fetch(reasons_query)
            finally:
                await conn.close()

        (total, errors, streams), reasons = asyncio.run(read())
    return {
        "rows": int(total),
        "error_rows": int(errors),
        "stream_rows": int(streams),
        "error_messages": {str(m)[:120]: int(c) for m, c in reasons},
    }


class RowCounter:
    """Reads the request-log row count while the router runs (WAL readers do
    not block the writer), waiting until the batched writer has caught up."""

    def __init__(self, database_url: str) -> None:
        self.url = database_url
        self.last = self.count()

    def count(self) -> int:
        if self.url.startswith("sqlite"):
            with sqlite3.connect(self.url.split("///", 1)[1], timeout=30) as conn:
                return int(conn.execute("SELECT count(*) FROM requests").fetchone()[0])
        import asyncpg

        async def read() -> int:
            conn = await asyncpg.connect(self.url)
            try:
                return int(await conn.fetchval("SELECT count(*) FROM requests"))
            finally:
                await conn.close()

        return asyncio.run(read())

    def settle(self, quiet: float = 0.6, limit: float = 10.0) -> int:
        """Rows written since the last call, once the count has not moved for `quiet` s."""
        deadline = time.perf_counter() + limit
        value, since = self.count(), time.perf_counter()
        while time.perf_counter() - since < quiet and time.perf_counter() < deadline:
            time.sleep(0.1)
            now = self.count()
            if now != value:
                value, since = now, time.perf_counter()
        written, self.last = value - self.last, value
        return written


class RouterRun:
    """One running router and what its clients sent, for the phases of a pass."""

    def __init__(self, router: Router, nginx: Nginx, key: str, rows: RowCounter, tag: str):
        self.router, self.nginx, self.key, self.rows, self.tag = router, nginx, key, rows, tag
        self.target = Target("router", router.base, router.proc.pid, key)
        self.sent = self.completed = 0

    def account(self, result: dict[str, Any], sent: int, completed: int) -> None:
        """Rows the phase added to the request log, against what its client sent."""
        self.sent += sent
        self.completed += completed
        result["rows_written"] = self.rows.settle()
        result["rows_missing"] = sent - result["rows_written"]
        if result["rows_missing"]:
            log(
                f"  request log: {result['rows_written']} rows for {sent} requests sent "
                f"({completed} completed)"
            )

    def load(self, name: str, load: Load, connections: int, duration: float) -> dict[str, Any]:
        result = run_wrk(
            self.target, load, connections=connections, duration=duration,
            label=f"{self.tag} router {name}", nginx=self.nginx,
        )  # fmt: skip
        self.account(result, result["sent"], result["requests"])
        return result

    def streams(self, protocol: str, n: int) -> dict[str, Any]:
        """Sequential streams, direct and through the router alternating; medians."""
        p = PROTOCOLS[protocol]
        pair = (
            StreamTarget("direct", self.nginx.port, p.direct(True)),
            StreamTarget("router", self.router.port, p.chat(True), self.key),
        )
        out, last = paired_streams(pair, n, 10)
        check_answer(f"{protocol} stream through the router", last["router"], check_chat_stream)
        out = added_stream(out, "router") | {"protocol": protocol}
        self.account(out, out["requests"], out["requests"])
        log(
            f"stream {protocol:9} TTFB direct {out['direct_ttfb_ms']:.3f} ms, router "
            f"{out['router_ttfb_ms']:.3f} ms; total {out['direct_total_ms']:.3f} / "
            f"{out['router_total_ms']:.3f} ms"
        )
        return out


def router_pass(
    children: Children,
    workdir: Path,
    nginx: Nginx,
    database_url: str,
    tag: str,
    args: argparse.Namespace,
    protocols: list[str],
    doors: bool,
    beside: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """The router's figures on one database; `beside(name)` runs right after
    each measured phase (a peer's phase of the same name)."""
    log(f"--- router on {tag} ---")
    env = router_env(database_url)
    passdir = workdir / tag
    passdir.mkdir()
    started = time.perf_counter()
    keys = set_up_router_db(passdir, env, nginx.base)
    log(f"database set up through the CLI in {time.perf_counter() - started:.1f} s")
    startups = []
    for _ in range(args.startup_runs - 1):  # start-up is noisy: a few starts, the median
        router = start_router(children, passdir, env, args.workers, tag)
        startups.append(router.startup_s)
        children.stop(router.proc)
    router = start_router(children, passdir, env, args.workers, tag)
    startups.append(router.startup_s)
    log(
        f"router healthy {', '.join(f'{s:.2f}' for s in startups)} s after spawn; "
        f"workers {router_workers(router)}"
    )
    run = RouterRun(router, nginx, keys["user"], RowCounter(database_url), tag)
    run.sent = run.completed = check_router(router, keys["user"], doors)
    checks = {"sent": run.sent, "rows_written": run.rows.settle()}
    warmups: dict[str, Any] = {}
    for protocol in protocols:  # warm-up: pools, caches, first-call imports
        for stream in (False, True):
            name = f"{protocol}-stream" if stream else protocol
            warmups[name] = run.load(
                f"warm-up {name}", PROTOCOLS[protocol].chat(stream), 16, args.warmup
            )
    for door in DOORS if doors else ():
        warmups[door.name] = run.load(f"warm-up {door.name}", door.load, 16, args.warmup)
    phases: dict[str, Any] = {}
    for name, protocol, stream, connections in plan(protocols):
        load = PROTOCOLS[protocol].chat(stream)
        phases[name] = run.load(name, load, connections, args.duration)
        if beside is not None:
            beside(name)
    for name, load, connections in door_plan(doors):
        phases[name] = run.load(name, load, connections, args.door_duration)
        if beside is not None:
            beside(name)
    profile = None
    if args.profile and tag == "SQLite":
        profile = profile_phase(
            router,
            lambda: run.load(
                "profile openai c64", PROTOCOLS["openai"].chat(False), 64, args.duration
            ),
            args.duration,
            passdir,
        )
    streams = {}
    for protocol in protocols:
        n = args.stream_samples if protocol == "openai" else max(20, args.stream_samples // 2)
        streams[protocol] = run.streams(protocol, n)
    rss = peak_rss(router.proc.pid)
    workers = router_workers(router)
    worker_rss = [r for r in rss if r["pid"] in workers]
    log("stopping the router (SIGTERM; the request log flushes) ...")
    stop_start = time.perf_counter()
    code = children.stop(router.proc, timeout=60)
    stop_s = time.perf_counter() - stop_start
    log_tail = router.tail(4000)
    final = count_rows(database_url)
    log(
        f"router exited {code} after {stop_s:.1f} s; request-log rows {final['rows']} "
        f"(requests sent {run.sent}, completed {run.completed}, error rows {final['error_rows']})"
    )
    return {
        "database": tag,
        "database_url": database_url.split("@")[-1]
        if "@" in database_url
        else "sqlite (temp file)",
        "startup_s": round(statistics.median(startups), 3),
        "startup_samples_s": [round(s, 3) for s in startups],
        "workers": args.workers,
        "checks": checks,
        "warmups": warmups,
        "phases": phases,
        "streams": streams,
        "peak_rss": rss,
        "peak_rss_worker_mb": max((r["peak_rss_mb"] for r in worker_rss), default=None),
        "peak_rss_tree_mb": round(sum(r["peak_rss_mb"] for r in rss), 1),
        "requests_sent": run.sent,
        "requests_completed": run.completed,
        "request_log": final,
        "shutdown_s": round(stop_s, 2),
        "exit_code": code,
        "profile": profile,
        "router_log_tail": log_tail
        if ("Traceback" in log_tail or "ERROR" in log_tail or "WARNING" in log_tail)
        else "",
    }


def profile_phase(
    router: Router, run: Callable[[], dict[str, Any]], seconds: float, workdir: Path
) -> dict[str, Any]:
    """Run one more load phase while py-spy samples the first worker; shares by layer."""
    pid = router_workers(router)[0]
    out = workdir / "profile.txt"
    spy = profiler.record(pid, max(1, int(seconds)), out)
    result = run()
    _, err = spy.communicate(timeout=120)
    if not out.exists():
        raise BenchError(f"py-spy wrote no profile: {err.decode(errors='replace')[-500:]}")
    shares = profiler.summarize(out.read_text())
    log(
        "  profile (share of one worker's CPU samples): "
        + ", ".join(f"{layer} {share}%" for layer, share in shares.items())
    )
    return {"pid": pid, "rps": result["rps"], "shares_pct": shares}
