"""`make bench`: the router against a static upstream, side by side with the
upstream alone, in one run.

  nginx (bench/nginx.conf.template, answers from bench/bodies/) is the mock
  upstream; wrk (bench/wrk/*.lua) is the load; the router runs as in
  production (`model-router serve --workers <cores>`, default settings, request
  log on, LOG_LEVEL=warning) on a fresh SQLite database, then again on a
  scratch PostgreSQL database when one answers at BENCH_PG_DSN
  (default postgresql://postgres@127.0.0.1:5432/postgres; dropped afterwards).

Writes bench/results/latest.json and latest.md, updates the table in
bench/README.md, and prints the table. Options: --duration (default 10 s;
BENCH_QUICK=1 or --quick: 3 s), --workers, --no-postgres, --keep (keep the
temp directory). Numbers are for comparing runs on one machine: the load
generator, the mock and the router share its cores.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import resource
import socket
import sqlite3
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from collections.abc import Callable
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

import cpu_profile as profiler

from harness import (
    BENCH,
    RESULTS,
    BenchError,
    Children,
    Nginx,
    Router,
    Workdir,
    cleanup_on_exit,
    cpu_seconds,
    log,
    machine,
    machine_busy_seconds,
    peak_rss,
    pg_create,
    pg_drop,
    pg_reachable,
    pg_url,
    publish,
    require_tool,
    router_env,
    router_workers,
    run_cli,
    set_up_router_db,
    start_nginx,
    start_router,
)

WRK = BENCH / "wrk"
CHUNKS = 50
EXPECTED_TEXT = None  # filled from bench/bodies/openai.json


@dataclass(frozen=True)
class Protocol:
    name: str
    script: str  # wrk script of the direct (native) request
    direct_path: str
    direct_stream_path: str
    upstream_model: str
    model: str  # router model of the non-streaming endpoint
    stream_model: str


PROTOCOLS = {
    "openai": Protocol(
        "openai", "openai.lua", "/openai/v1/chat/completions",
        "/openai-stream/v1/chat/completions", "gpt-4o-mini", "bench-openai", "bench-openai-stream",
    ),
    "anthropic": Protocol(
        "anthropic", "anthropic.lua", "/anthropic/v1/messages",
        "/anthropic-stream/v1/messages", "claude-haiku-4-5", "bench-claude", "bench-claude-stream",
    ),
    "gemini": Protocol(
        "gemini", "gemini.lua", "/gemini/v1beta/models/gemini-2.5-flash:generateContent",
        "/gemini/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse",
        "gemini-2.5-flash", "bench-gemini", "bench-gemini",  # the URL says stream, not the model
    ),
}  # fmt: skip


def body_of(script: str, model: str, stream: bool) -> bytes:
    """The request body a wrk script sends (its `body_template`), for the Python client."""
    source = (WRK / script).read_text()
    found = re.search(r"body_template = \[\[(.*?)\]\]", source, re.S)
    if found is None:
        raise BenchError(f"no body_template in {script}")
    text = found.group(1).replace("{{model}}", model).replace("{{stream}}", str(stream).lower())
    return text.encode()


# --- wrk ----------------------------------------------------------------------------


@dataclass
class Target:
    """Where a load phase sends requests and whose CPU it charges."""

    kind: str  # direct | router
    base: str
    cpu_pid: int
    key: str = "-"


def upstream_requests(nginx: Nginx) -> int:
    """Requests nginx has handled so far (stub_status; this one included)."""
    text = httpx.get(nginx.base + "/nginx_status", timeout=5).text
    return int(text.splitlines()[2].split()[2])


def run_wrk(
    target: Target,
    protocol: Protocol,
    *,
    stream: bool,
    connections: int,
    duration: float,
    label: str,
    nginx: Nginx,
) -> dict[str, Any]:
    if target.kind == "direct":
        path = protocol.direct_stream_path if stream else protocol.direct_path
        script, model = protocol.script, protocol.upstream_model
    else:
        path = "/v1/chat/completions"
        script = "openai.lua"
        model = protocol.stream_model if stream else protocol.model
    threads = 1 if connections == 1 else 2
    args = [
        "wrk", f"-t{threads}", f"-c{connections}", f"-d{duration:g}s", "--latency",
        "--timeout", "10s", "-s", str(WRK / script), target.base + path,
        "--", target.key, model, "true" if stream else "false",
    ]  # fmt: skip
    upstream_before = upstream_requests(nginx)
    ours = (
        [target.cpu_pid] if target.cpu_pid == nginx.proc.pid else [target.cpu_pid, nginx.proc.pid]
    )
    ours_before = [cpu_seconds(pid) for pid in ours]
    wrk_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    self_before = resource.getrusage(resource.RUSAGE_SELF)
    busy_before = machine_busy_seconds()
    done = subprocess.run(args, capture_output=True, text=True, timeout=duration + 60)
    busy = machine_busy_seconds() - busy_before
    ours_cpu = [cpu_seconds(pid) - before for pid, before in zip(ours, ours_before, strict=True)]
    cpu = ours_cpu[0]
    wrk_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    self_after = resource.getrusage(resource.RUSAGE_SELF)
    wrk_cpu = (wrk_after.ru_utime + wrk_after.ru_stime) - (
        wrk_before.ru_utime + wrk_before.ru_stime
    )
    self_cpu = (self_after.ru_utime + self_after.ru_stime) - (
        self_before.ru_utime + self_before.ru_stime
    )
    # What other processes on the machine took meanwhile: a noise gauge, in % of all cores.
    other_pct = (
        max(0.0, busy - sum(ours_cpu) - wrk_cpu - self_cpu)
        * 100
        / (duration * (os.cpu_count() or 1))
    )
    time.sleep(0.3)  # requests cut off when wrk stopped still reach the upstream
    upstream = upstream_requests(nginx) - upstream_before - 1  # less the second status call
    found = re.search(r"^BENCH (\{.*\})$", done.stdout, re.M)
    if done.returncode != 0 or found is None:
        raise BenchError(f"wrk failed ({label}):\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(found.group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", done.stdout)
    result["non_2xx"] = int(non2xx.group(1)) if non2xx else 0
    seconds = result["duration_us"] / 1e6
    errors = result["errors"]
    result.update(
        label=label,
        target=target.kind,
        protocol=protocol.name,
        stream=stream,
        connections=connections,
        threads=threads,
        rps=round(result["requests"] / seconds, 1),
        upstream_requests=upstream,
        wrk_cpu_s=round(wrk_cpu, 3),
        other_cpu_pct=round(other_pct, 1),
        error_count=result["non_2xx"]
        + sum(errors[k] for k in ("connect", "read", "write", "timeout")),
        cpu_s=round(cpu, 3),
        cpu_ms_per_request=round(cpu * 1000 / result["requests"], 4)
        if result["requests"]
        else None,
    )
    if upstream != result["sent"]:
        log(f"  note: {label}: nginx handled {upstream} requests, wrk sent {result['sent']}")
    for p in ("p50", "p90", "p99", "p999"):
        result[f"{p}_ms"] = round(result.pop(f"{p}_us") / 1000, 3)
    if stream and result["requests"]:
        result["cpu_us_per_chunk"] = round(cpu * 1e6 / (result["requests"] * CHUNKS), 2)
    log(
        f"{label:34} {result['rps']:>9.0f} req/s  p50 {result['p50_ms']:.3f} ms  "
        f"p99 {result['p99_ms']:.3f} ms  errors {result['error_count']}  "
        f"cpu {result['cpu_ms_per_request'] or 0:.3f} ms/req  other processes {other_pct:.0f}%"
    )
    return result


# --- streaming: time to first byte, per chunk -----------------------------------------


class RawClient:
    """A minimal blocking HTTP/1.1 client on one keep-alive connection: it adds
    microseconds, not the milliseconds of a full client, to what it times.
    `post()` returns (time to the first body byte, time to the last, body)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.sock: socket.socket | None = None

    def _connect(self) -> socket.socket:
        if self.sock is None:
            self.sock = socket.create_connection(("127.0.0.1", self.port), timeout=30)
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return self.sock

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None

    def post(self, path: str, body: bytes, headers: dict[str, str]) -> tuple[float, float, bytes]:
        sock = self._connect()
        head = f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\nContent-Length: {len(body)}\r\n"
        head += "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        start = time.perf_counter()
        sock.sendall(head.encode() + b"\r\n" + body)
        buf = b""
        while b"\r\n\r\n" not in buf:
            buf += self._recv(sock)
        header_end = buf.index(b"\r\n\r\n") + 4
        status_line, *lines = buf[: header_end - 4].decode("latin-1").split("\r\n")
        fields = {k.strip().lower(): v.strip() for k, v in (x.split(":", 1) for x in lines)}
        buf = buf[header_end:]
        while not buf:
            buf += self._recv(sock)
        first = time.perf_counter()
        if fields.get("transfer-encoding", "").lower() == "chunked":
            data, buf = self._chunked(sock, buf)
        else:
            length = int(fields.get("content-length", "0"))
            while len(buf) < length:
                buf += self._recv(sock)
            data = buf[:length]
        end = time.perf_counter()
        if not status_line.split()[1] == "200":
            raise BenchError(f"POST {path}: {status_line} {data[:500]!r}")
        if fields.get("connection", "").lower() == "close":
            self.close()
        return first - start, end - start, data

    @staticmethod
    def _recv(sock: socket.socket) -> bytes:
        chunk = sock.recv(262144)
        if not chunk:
            raise BenchError("the server closed the connection mid-response")
        return chunk

    def _chunked(self, sock: socket.socket, buf: bytes) -> tuple[bytes, bytes]:
        parts = []
        while True:
            while b"\r\n" not in buf:
                buf += self._recv(sock)
            line, buf = buf.split(b"\r\n", 1)
            size = int(line.split(b";")[0], 16)
            while len(buf) < size + 2:
                buf += self._recv(sock)
            parts.append(buf[:size])
            buf = buf[size + 2 :]
            if size == 0:
                return b"".join(parts), buf


def stream_timings(
    nginx: Nginx, router: Router, key: str, protocol: Protocol, n: int, warmup: int
) -> dict[str, Any]:
    """N sequential streams direct and through the router, alternating; medians."""
    direct_body = body_of(protocol.script, protocol.upstream_model, True)
    router_body = body_of("openai.lua", protocol.stream_model, True)
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {key}"}
    targets = (
        ("direct", RawClient(nginx.port), protocol.direct_stream_path, direct_body),
        ("router", RawClient(router.port), "/v1/chat/completions", router_body),
    )
    samples: dict[str, list[tuple[float, float]]] = {"direct": [], "router": []}
    last = b""
    try:
        for i in range(warmup + n):
            for kind, client, path, body in targets:
                ttfb, total, data = client.post(path, body, headers)
                if i >= warmup:
                    samples[kind].append((ttfb, total))
                if kind == "router":
                    last = data
    finally:
        for _, client, _, _ in targets:
            client.close()
    check_router_stream(last, protocol.name)
    out: dict[str, Any] = {"protocol": protocol.name, "n": n, "requests": warmup + n}
    for kind, rows in samples.items():
        out[f"{kind}_ttfb_ms"] = round(statistics.median(t for t, _ in rows) * 1000, 3)
        out[f"{kind}_total_ms"] = round(statistics.median(t for _, t in rows) * 1000, 3)
        out[f"{kind}_after_first_ms"] = round(statistics.median(t - f for f, t in rows) * 1000, 3)
    out["added_ttfb_ms"] = round(out["router_ttfb_ms"] - out["direct_ttfb_ms"], 3)
    out["added_total_ms"] = round(out["router_total_ms"] - out["direct_total_ms"], 3)
    out["added_us_per_chunk"] = round(
        (out["router_after_first_ms"] - out["direct_after_first_ms"]) * 1000 / CHUNKS, 2
    )
    log(
        f"stream {protocol.name:9} TTFB direct {out['direct_ttfb_ms']:.3f} ms, router "
        f"{out['router_ttfb_ms']:.3f} ms; total {out['direct_total_ms']:.3f} / {out['router_total_ms']:.3f} ms"
    )
    return out


def check_router_stream(data: bytes, protocol: str) -> None:
    """The router's stream: 50 content chunks, a finish, the usage with cost, [DONE]."""
    text = data.decode()
    frames = [f[6:] for f in text.split("\n\n") if f.startswith("data: ")]
    if not frames or frames[-1] != "[DONE]":
        raise BenchError(
            f"{protocol} stream through the router did not end with [DONE]:\n{text[-500:]}"
        )
    chunks = [json.loads(f) for f in frames[:-1]]
    contents = [c["choices"][0]["delta"].get("content") for c in chunks if c.get("choices")]
    pieces = [c for c in contents if c]
    usage = chunks[-1].get("usage") or {}
    if (
        len(pieces) != CHUNKS
        or "".join(pieces) != EXPECTED_TEXT
        or usage.get("total_cost_usd") is None
    ):
        raise BenchError(
            f"{protocol} stream through the router: {len(pieces)} content chunks (want {CHUNKS}), "
            f"usage {usage}:\n{text[:800]}"
        )


def check_router(router: Router, key: str) -> int:
    """One call per bench model before the load: 200, the mock's text, a cost."""
    headers = {"authorization": f"Bearer {key}"}
    sent = 0
    with httpx.Client(timeout=30) as client:
        for protocol in PROTOCOLS.values():
            body = body_of("openai.lua", protocol.model, False)
            response = client.post(
                router.base + "/v1/chat/completions", content=body, headers=headers
            )
            sent += 1
            data = (
                response.json()
                if response.headers.get("content-type", "").startswith("application/json")
                else {}
            )
            if (
                response.status_code != 200
                or data.get("content") != EXPECTED_TEXT
                or data["usage"].get("total_cost_usd") is None
            ):
                raise BenchError(
                    f"router check ({protocol.model}): {response.status_code} {response.text[:800]}\n"
                    f"--- router log ---\n{router.tail()}"
                )
            body = body_of("openai.lua", protocol.stream_model, True)
            response = client.post(
                router.base + "/v1/chat/completions", content=body, headers=headers
            )
            sent += 1
            if response.status_code != 200:
                raise BenchError(
                    f"router check ({protocol.stream_model}): {response.status_code} {response.text[:800]}"
                )
            check_router_stream(response.content, protocol.name)
    return sent


def check_direct(nginx: Nginx) -> None:
    """The mock answers POSTs with the exact bytes of bench/bodies and the right type."""
    with httpx.Client(timeout=10) as client:
        for protocol in PROTOCOLS.values():
            for path, name, ctype in (
                (protocol.direct_path, f"{protocol.name}.json", "application/json"),
                (protocol.direct_stream_path, f"{protocol.name}.sse", "text/event-stream"),
            ):
                response = client.post(
                    nginx.base + path,
                    content=body_of(protocol.script, protocol.upstream_model, False),
                )
                want = (BENCH / "bodies" / name).read_bytes()
                if (
                    response.status_code != 200
                    or response.content != want
                    or response.headers["content-type"] != ctype
                ):
                    raise BenchError(
                        f"nginx {path}: {response.status_code} {response.headers} ({len(response.content)} bytes)"
                    )


# --- request-log rows --------------------------------------------------------------------


def count_rows(database_url: str) -> dict[str, int]:
    query = (
        "SELECT count(*), coalesce(sum(CASE WHEN status = 'error' THEN 1 ELSE 0 END), 0), "
        "coalesce(sum(CASE WHEN is_stream THEN 1 ELSE 0 END), 0) FROM requests"
    )
    if database_url.startswith("sqlite"):
        with sqlite3.connect(database_url.split("///", 1)[1]) as conn:
            total, errors, streams = conn.execute(query).fetchone()
        with sqlite3.connect(database_url.split("///", 1)[1]) as conn:
            reasons = conn.execute(
                "SELECT coalesce(error_message, ''), count(*) FROM requests WHERE status = 'error' GROUP BY 1"
            ).fetchall()
    else:
        import asyncpg

        async def read() -> tuple[Any, Any]:
            conn = await asyncpg.connect(database_url)
            try:
                return await conn.fetchrow(query), await conn.fetch(
                    "SELECT coalesce(error_message, ''), count(*) FROM requests WHERE status = 'error' GROUP BY 1"
                )
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


# --- one pass: the router on one database -------------------------------------------------


def router_pass(
    children: Children,
    workdir: Path,
    nginx: Nginx,
    database_url: str,
    tag: str,
    args: argparse.Namespace,
    protocols: list[str],
) -> dict[str, Any]:
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
        f"router healthy {', '.join(f'{s:.2f}' for s in startups)} s after spawn; workers {router_workers(router)}"
    )
    target = Target("router", router.base, router.proc.pid, keys["user"])
    rows = RowCounter(database_url)
    sent = completed = check_router(router, keys["user"])
    checks = {"sent": sent, "rows_written": rows.settle()}
    phases: dict[str, Any] = {}
    warmups: dict[str, Any] = {}
    streams: dict[str, Any] = {}

    def account(result: dict[str, Any], sent_now: int, completed_now: int) -> None:
        """Rows the phase added to the request log, against what its client sent."""
        nonlocal sent, completed
        sent += sent_now
        completed += completed_now
        result["rows_written"] = rows.settle()
        result["rows_missing"] = sent_now - result["rows_written"]
        if result["rows_missing"]:
            log(
                f"  request log: {result['rows_written']} rows for {sent_now} requests sent ({completed_now} completed)"
            )

    def load(
        name: str, protocol: str, stream: bool, connections: int, duration: float
    ) -> dict[str, Any]:
        result = run_wrk(
            target,
            PROTOCOLS[protocol],
            stream=stream,
            connections=connections,
            duration=duration,
            label=f"{tag} router {name}",
            nginx=nginx,
        )
        account(result, result["sent"], result["requests"])
        return result

    for protocol in protocols:  # warm-up: pools, caches, first-call imports
        warmups[protocol] = load(f"warm-up {protocol}", protocol, False, 16, args.warmup)
        warmups[f"{protocol}-stream"] = load(
            f"warm-up {protocol}-stream", protocol, True, 16, args.warmup
        )
    for name, protocol, stream, connections in plan(protocols):
        phases[name] = load(name, protocol, stream, connections, args.duration)
    profile = None
    if args.profile and tag == "SQLite":
        profile = profile_phase(
            router,
            lambda: load("profile openai c64", "openai", False, 64, args.duration),
            args.duration,
            passdir,
        )
    for protocol in protocols:
        n = args.stream_samples if protocol == "openai" else max(20, args.stream_samples // 2)
        streams[protocol] = stream_timings(nginx, router, keys["user"], PROTOCOLS[protocol], n, 10)
        account(streams[protocol], streams[protocol]["requests"], streams[protocol]["requests"])
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
        f"(requests sent {sent}, completed {completed}, error rows {final['error_rows']})"
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
        "requests_sent": sent,
        "requests_completed": completed,
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


def plan(protocols: list[str]) -> list[tuple[str, str, bool, int]]:
    """(phase name, protocol, stream, connections) of each measured load phase."""
    phases = []
    for protocol in protocols:
        if protocol == "openai":
            phases.append(("openai c1", "openai", False, 1))
        phases.append((f"{protocol} c64", protocol, False, 64))
        phases.append((f"{protocol}-stream c64", protocol, True, 64))
    return phases


def direct_pass(nginx: Nginx, args: argparse.Namespace, protocols: list[str]) -> dict[str, Any]:
    log("--- direct to the mock (nginx) ---")
    target = Target("direct", nginx.base, nginx.proc.pid)
    run_wrk(
        target,
        PROTOCOLS["openai"],
        stream=False,
        connections=16,
        duration=args.warmup,
        label="direct warm-up",
        nginx=nginx,
    )
    phases = {}
    for name, protocol, stream, connections in plan(protocols):
        # nginx serves every protocol's file alike: the others need less time than OpenAI's.
        duration = args.duration if protocol == "openai" else min(args.duration, 4.0)
        phases[name] = run_wrk(
            target,
            PROTOCOLS[protocol],
            stream=stream,
            connections=connections,
            duration=duration,
            label=f"direct {name}",
            nginx=nginx,
        )
    return {
        "startup_s": round(nginx.startup_s, 3),
        "phases": phases,
        "peak_rss": peak_rss(nginx.proc.pid),
    }


# --- the report ---------------------------------------------------------------------------


TARGETS = {
    "added_p50_c1_ms": 0.5,
    "added_p99_c1_ms": 2.0,
    "rps_c64": 3000,
    "p99_c64_ms": 50,
    "added_ttfb_ms": 1.0,
    "cpu_us_per_chunk": 30,
    "peak_rss_worker_mb": 120,
    "startup_s": 2.0,
    "analytics_pg_ms": 200,
}


def fmt(value: Any, digits: int = 2) -> str:
    if value is None:
        return "—"
    if isinstance(value, str):
        return value
    if isinstance(value, int) or (isinstance(value, float) and abs(value) >= 1000):
        return f"{value:,.0f}"
    return f"{value:.{digits}f}"


def summary_rows(results: dict[str, Any]) -> list[dict[str, Any]]:
    """The table: one dict per metric with direct, per-database router/added and met."""
    direct = results["direct"]
    dbs = list(results["router"])
    rows: list[dict[str, Any]] = []

    def add(
        metric: str,
        direct_value: Any,
        get: Any,
        added: Any = None,
        target: str = "",
        check: Any = None,
        digits: int = 2,
    ) -> None:
        row: dict[str, Any] = {
            "metric": metric,
            "direct": direct_value,
            "target": target,
            "digits": digits,
            "router": {},
            "added": {},
            "met": {},
        }
        for db in dbs:
            p = results["router"][db]
            try:
                value = get(p)
            except (KeyError, TypeError):
                value = None
            row["router"][db] = value
            extra = None
            if added is not None and value is not None and direct_value is not None:
                extra = added(value, direct_value)
            row["added"][db] = extra
            if check is not None and value is not None:
                row["met"][db] = bool(check(value, extra))
        rows.append(row)

    def phase(name: str) -> Any:
        return lambda p: p["phases"][name]

    minus = lambda r, d: round(r - d, 3)  # noqa: E731
    dp = direct["phases"]
    add(
        "OpenAI, c=1: requests/s",
        dp["openai c1"]["rps"],
        lambda p: p["phases"]["openai c1"]["rps"],
        digits=0,
    )
    add(
        "OpenAI, c=1: latency p50 (ms)",
        dp["openai c1"]["p50_ms"],
        lambda p: p["phases"]["openai c1"]["p50_ms"],
        minus,
        f"added ≤ {TARGETS['added_p50_c1_ms']} ms",
        lambda v, a: a <= TARGETS["added_p50_c1_ms"],
        3,
    )
    add(
        "OpenAI, c=1: latency p90 (ms)",
        dp["openai c1"]["p90_ms"],
        lambda p: p["phases"]["openai c1"]["p90_ms"],
        minus,
        digits=3,
    )
    add(
        "OpenAI, c=1: latency p99 (ms)",
        dp["openai c1"]["p99_ms"],
        lambda p: p["phases"]["openai c1"]["p99_ms"],
        minus,
        f"added ≤ {TARGETS['added_p99_c1_ms']:g} ms",
        lambda v, a: a <= TARGETS["added_p99_c1_ms"],
        3,
    )
    add(
        "OpenAI, c=64: requests/s",
        dp["openai c64"]["rps"],
        lambda p: p["phases"]["openai c64"]["rps"],
        target=f"≥ {TARGETS['rps_c64']:,}",
        check=lambda v, a: v >= TARGETS["rps_c64"],
        digits=0,
    )
    add(
        "OpenAI, c=64: errors (socket + non-2xx)",
        dp["openai c64"]["error_count"],
        lambda p: p["phases"]["openai c64"]["error_count"],
        target="0",
        check=lambda v, a: v == 0,
        digits=0,
    )
    add(
        "OpenAI, c=64: latency p50 (ms)",
        dp["openai c64"]["p50_ms"],
        lambda p: p["phases"]["openai c64"]["p50_ms"],
        minus,
        digits=2,
    )
    add(
        "OpenAI, c=64: latency p90 (ms)",
        dp["openai c64"]["p90_ms"],
        lambda p: p["phases"]["openai c64"]["p90_ms"],
        minus,
        digits=2,
    )
    add(
        "OpenAI, c=64: latency p99 (ms)",
        dp["openai c64"]["p99_ms"],
        lambda p: p["phases"]["openai c64"]["p99_ms"],
        minus,
        f"≤ {TARGETS['p99_c64_ms']} ms",
        lambda v, a: v <= TARGETS["p99_c64_ms"],
        2,
    )
    s = lambda p: p["streams"]["openai"]  # noqa: E731
    add(
        "Stream (50 chunks), c=1: time to first byte, median (ms)",
        None,
        lambda p: s(p)["router_ttfb_ms"],
        digits=3,
    )
    rows[-1]["direct"] = next(iter(results["router"].values()))["streams"]["openai"][
        "direct_ttfb_ms"
    ]
    for db in dbs:
        v = results["router"][db]["streams"]["openai"]
        rows[-1]["added"][db] = v["added_ttfb_ms"]
        rows[-1]["met"][db] = v["added_ttfb_ms"] <= TARGETS["added_ttfb_ms"]
    rows[-1]["target"] = f"added ≤ {TARGETS['added_ttfb_ms']:g} ms"
    add("Stream, c=1: whole stream, median (ms)", None, lambda p: s(p)["router_total_ms"], digits=3)
    rows[-1]["direct"] = next(iter(results["router"].values()))["streams"]["openai"][
        "direct_total_ms"
    ]
    for db in dbs:
        rows[-1]["added"][db] = results["router"][db]["streams"]["openai"]["added_total_ms"]
    add(
        "Stream, c=1: added time per chunk (µs)",
        None,
        lambda p: s(p)["added_us_per_chunk"],
        digits=1,
    )
    add(
        "Stream, c=64: streams/s",
        dp["openai-stream c64"]["rps"],
        lambda p: p["phases"]["openai-stream c64"]["rps"],
        digits=0,
    )
    add(
        "Stream, c=64: CPU per chunk (µs)",
        dp["openai-stream c64"]["cpu_us_per_chunk"],
        lambda p: p["phases"]["openai-stream c64"]["cpu_us_per_chunk"],
        target=f"router ≤ {TARGETS['cpu_us_per_chunk']} µs",
        check=lambda v, a: v <= TARGETS["cpu_us_per_chunk"],
        digits=1,
    )
    add(
        "Stream, c=64: CPU per chunk beyond a plain request (µs)",
        None,
        lambda p: round(
            (
                p["phases"]["openai-stream c64"]["cpu_ms_per_request"]
                - p["phases"]["openai c64"]["cpu_ms_per_request"]
            )
            * 1000
            / CHUNKS,
            1,
        ),
        digits=1,
    )
    add(
        "CPU per request, c=64 (ms)",
        dp["openai c64"]["cpu_ms_per_request"],
        lambda p: p["phases"]["openai c64"]["cpu_ms_per_request"],
        minus,
        digits=3,
    )
    add(
        "CPU per stream, c=64 (ms)",
        dp["openai-stream c64"]["cpu_ms_per_request"],
        lambda p: p["phases"]["openai-stream c64"]["cpu_ms_per_request"],
        minus,
        digits=3,
    )
    nginx_worker = max((r["peak_rss_mb"] for r in direct["peak_rss"]), default=None)
    add(
        "Peak RSS per worker (MB)",
        nginx_worker,
        lambda p: p["peak_rss_worker_mb"],
        target=f"≤ {TARGETS['peak_rss_worker_mb']} MB",
        check=lambda v, a: v <= TARGETS["peak_rss_worker_mb"],
        digits=1,
    )
    add(
        "Start-up to first healthy response, median of 3 (s)",
        direct["startup_s"],
        lambda p: p["startup_s"],
        target=f"≤ {TARGETS['startup_s']:g} s",
        check=lambda v, a: v <= TARGETS["startup_s"],
        digits=3,
    )
    add("Request-log rows written", None, lambda p: p["request_log"]["rows"], digits=0)
    add(
        "Requests served (sent by the clients)",
        None,
        lambda p: p["requests_sent"],
        target="= rows written",
        check=None,
        digits=0,
    )
    for db in dbs:
        p = results["router"][db]
        rows[-1]["met"][db] = p["request_log"]["rows"] == p["requests_sent"]
    add(
        "  of which completed before the clients stopped",
        None,
        lambda p: p["requests_completed"],
        digits=0,
    )
    add("  rows with status error", None, lambda p: p["request_log"]["error_rows"], digits=0)
    for protocol, title in (("anthropic", "Anthropic"), ("gemini", "Gemini")):
        if f"{protocol} c64" not in dp:
            continue
        add(
            f"{title}, c=64: requests/s",
            dp[f"{protocol} c64"]["rps"],
            lambda p, k=f"{protocol} c64": p["phases"][k]["rps"],
            digits=0,
        )
        add(
            f"{title}, c=64: latency p99 (ms)",
            dp[f"{protocol} c64"]["p99_ms"],
            lambda p, k=f"{protocol} c64": p["phases"][k]["p99_ms"],
            minus,
            digits=2,
        )
        add(
            f"{title}, c=64: CPU per request (ms)",
            dp[f"{protocol} c64"]["cpu_ms_per_request"],
            lambda p, k=f"{protocol} c64": p["phases"][k]["cpu_ms_per_request"],
            minus,
            digits=3,
        )
        add(
            f"{title} stream, c=64: streams/s",
            dp[f"{protocol}-stream c64"]["rps"],
            lambda p, k=f"{protocol}-stream c64": p["phases"][k]["rps"],
            digits=0,
        )
        add(
            f"{title} stream, c=64: CPU per chunk (µs)",
            dp[f"{protocol}-stream c64"]["cpu_us_per_chunk"],
            lambda p, k=f"{protocol}-stream c64": p["phases"][k]["cpu_us_per_chunk"],
            digits=1,
        )
        add(
            f"{title} stream, c=1: added time to first byte (ms)",
            None,
            lambda p, k=protocol: p["streams"][k]["added_ttfb_ms"],
            digits=3,
        )
    return rows


def markdown(results: dict[str, Any]) -> str:
    dbs = list(results["router"])
    head = ["metric", "direct"]
    for db in dbs:
        head += [f"router ({db})", "added"]
    head += ["target", "met?"]
    lines = [
        "| " + " | ".join(head) + " |",
        "|" + "|".join(["---"] + ["---:"] * (1 + 2 * len(dbs)) + ["---", "---"]) + "|",
    ]
    for row in results["summary"]:
        d = row["digits"]
        cells = [row["metric"], fmt(row["direct"], d)]
        for db in dbs:
            cells += [
                fmt(row["router"].get(db), d),
                fmt(row["added"].get(db), d) if row["added"].get(db) is not None else "",
            ]
        met = [
            ("met" if row["met"][db] else "**missed**") + (f" ({db})" if len(dbs) > 1 else "")
            for db in dbs
            if db in row["met"]
        ]
        cells += [row["target"], ", ".join(met)]
        lines.append("| " + " | ".join(cells) + " |")
    m = results["machine"]
    cfg = results["config"]
    notes = [
        "",
        f"Run {results['generated_at']} at `{m['git_revision'][:12]}`"
        + (" (with uncommitted changes in src/)" if m["git_src_dirty"] else "")
        + f"; {m['nproc']} cores ({m['cpu']}), {m['memory_gib']} GiB, Python {m['python']}, "
        f"{m['nginx'].replace('nginx version: ', '')}, {m['wrk'].split(' [')[0]}.",
        f"Router: `serve --workers {cfg['workers']}`, default settings (request log on), LOG_LEVEL=warning. "
        f"Load phases of {cfg['duration_s']:g} s (wrk: c=1 one thread, c=64 two threads); streams: "
        f"{cfg['stream_samples']} sequential requests each way, medians. "
        "The load generator, the mock and the router share the machine's cores.",
        '"added" is router minus direct. CPU is utime+stime of every process of the router '
        "(or nginx) over the phase, divided by the requests (by requests × 50 per chunk).",
    ]
    noise = [
        (p["other_cpu_pct"], f"{kind} {name}")
        for kind, phases in [("direct", results["direct"]["phases"])]
        + [(f"router ({db})", r["phases"]) for db, r in results["router"].items()]
        for name, p in phases.items()
    ]
    if noise:
        worst, where = max(noise)
        mean = sum(n for n, _ in noise) / len(noise)
        notes.append(
            f"Other processes on the machine used {mean:.0f}% of its CPU on average during the load "
            f"phases (at most {worst:.0f}%, in {where}): the more, the noisier the numbers."
        )
    profile = (results["router"].get("SQLite") or {}).get("profile")
    if profile:
        notes.append(
            "Where a worker's CPU goes (py-spy, an extra c=64 OpenAI phase on SQLite, each sample "
            "counted to the layer of its innermost known frame): "
            + ", ".join(f"{layer} {share}%" for layer, share in profile["shares_pct"].items())
            + "."
        )
    skipped = results.get("postgres_skipped")
    if skipped:
        notes.append(f"PostgreSQL pass skipped: {skipped}")
    return "\n".join(lines + notes) + "\n"


def write_results(results: dict[str, Any]) -> str:
    table = markdown(results)
    publish("latest", results, table, "latest")
    return table


# --- main ---------------------------------------------------------------------------------


def parse_args() -> argparse.Namespace:
    quick = os.environ.get("BENCH_QUICK", "") not in ("", "0")
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--duration", type=float, default=None, help="seconds per load phase (10; 3 with --quick)"
    )
    parser.add_argument(
        "--quick", action="store_true", default=quick, help="3 s phases (also BENCH_QUICK=1)"
    )
    parser.add_argument(
        "--workers", type=int, default=os.cpu_count() or 1, help="router workers (cores)"
    )
    parser.add_argument("--no-postgres", action="store_true", help="SQLite only")
    parser.add_argument(
        "--openai-only", action="store_true", help="skip the Anthropic and Gemini phases"
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the temp directory (logs, databases)"
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        default=os.environ.get("BENCH_PROFILE", "") not in ("", "0"),
        help="also sample a worker with py-spy during an extra c=64 phase (also BENCH_PROFILE=1)",
    )
    args = parser.parse_args()
    if args.duration is None:
        args.duration = 3.0 if args.quick else 10.0
    args.warmup = 1.0
    args.startup_runs = 3
    args.stream_samples = 50 if args.quick else 200
    return args


def main() -> int:
    global EXPECTED_TEXT
    args = parse_args()
    EXPECTED_TEXT = json.loads((BENCH / "bodies" / "openai.json").read_text())["choices"][0][
        "message"
    ]["content"]
    require_tool("nginx", "nginx")
    require_tool("wrk", "wrk")
    protocols = ["openai"] if args.openai_only else ["openai", "anthropic", "gemini"]
    workdir = Workdir()
    began = time.perf_counter()
    results: dict[str, Any] = {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "config": {
            "duration_s": args.duration,
            "workers": args.workers,
            "quick": args.quick,
            "stream_samples": args.stream_samples,
            "chunks_per_stream": CHUNKS,
        },
        "targets": TARGETS,
        "router": {},
    }
    pg_database = None
    try:
        with cleanup_on_exit() as children:
            nginx = start_nginx(children, workdir.path)
            log(f"nginx on :{nginx.port}, healthy {nginx.startup_s * 1000:.1f} ms after spawn")
            check_direct(nginx)
            results["direct"] = direct_pass(nginx, args, protocols)
            sqlite_url = f"sqlite:///{workdir.path / 'bench.db'}"
            results["router"]["SQLite"] = router_pass(
                children, workdir.path, nginx, sqlite_url, "SQLite", args, protocols
            )
            why = "--no-postgres" if args.no_postgres else pg_reachable()
            if why is None:
                pg_database = pg_create()
                log(f"scratch PostgreSQL database {pg_database}")
                results["router"]["PostgreSQL"] = router_pass(
                    children,
                    workdir.path,
                    nginx,
                    pg_url(pg_database),
                    "PostgreSQL",
                    args,
                    ["openai"],
                )
            else:
                results["postgres_skipped"] = why
                log(f"PostgreSQL pass skipped: {why}")
    finally:
        if pg_database:
            pg_drop(pg_database)
        if args.keep:
            log(f"kept {workdir.path}")
        else:
            workdir.remove()
    results["elapsed_s"] = round(time.perf_counter() - began, 1)
    results["summary"] = summary_rows(results)
    table = write_results(results)
    print()
    print(table)
    log(f"done in {results['elapsed_s']:.0f} s; wrote {RESULTS / 'latest.json'} and latest.md")
    return 0


if __name__ == "__main__":
    run_cli(main, "bench")
