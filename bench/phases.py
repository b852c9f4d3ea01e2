"""One measurement each: a wrk load phase (`run_wrk`), and sequential streams
timed by a raw HTTP/1.1 client (`paired_streams`: time to first byte and per
chunk, two targets alternating).

A phase charges the CPU (utime + stime from /proc) of its target's whole
process tree: the router's serve process and workers, a peer gateway's
processes, or nginx alone for the direct phases.
"""

from __future__ import annotations

import json
import os
import re
import resource
import socket
import statistics
import subprocess
import time
from dataclasses import dataclass
from typing import Any

import httpx
from harness import BenchError, Nginx, cpu_seconds, log, machine_busy_seconds
from loads import CHUNKS, WRK, Load


@dataclass
class Target:
    """Where a load phase sends requests and whose CPU it charges."""

    kind: str  # direct | router | a peer's name
    base: str
    cpu_pid: int
    key: str = "-"


def upstream_requests(nginx: Nginx) -> int:
    """Requests nginx has handled so far (stub_status; this one included)."""
    text = httpx.get(nginx.base + "/nginx_status", timeout=5).text
    return int(text.splitlines()[2].split()[2])


def _rusage_seconds(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def run_wrk(
    target: Target,
    load: Load,
    *,
    connections: int,
    duration: float,
    label: str,
    nginx: Nginx,
) -> dict[str, Any]:
    """wrk at `connections` for `duration` s; its percentiles, req/s, errors and
    the target's CPU per request (per chunk for a stream)."""
    threads = 1 if connections == 1 else 2
    args = [
        "wrk", f"-t{threads}", f"-c{connections}", f"-d{duration:g}s", "--latency",
        "--timeout", "10s", "-s", str(WRK / load.script), target.base + load.path,
        "--", target.key, load.model, "true" if load.stream else "false", *load.headers,
    ]  # fmt: skip
    upstream_before = upstream_requests(nginx)
    ours = (
        [target.cpu_pid] if target.cpu_pid == nginx.proc.pid else [target.cpu_pid, nginx.proc.pid]
    )
    ours_before = [cpu_seconds(pid) for pid in ours]
    wrk_before = _rusage_seconds(resource.RUSAGE_CHILDREN)
    self_before = _rusage_seconds(resource.RUSAGE_SELF)
    busy_before = machine_busy_seconds()
    done = subprocess.run(args, capture_output=True, text=True, timeout=duration + 60)
    busy = machine_busy_seconds() - busy_before
    ours_cpu = [cpu_seconds(pid) - before for pid, before in zip(ours, ours_before, strict=True)]
    cpu = ours_cpu[0]
    wrk_cpu = _rusage_seconds(resource.RUSAGE_CHILDREN) - wrk_before
    self_cpu = _rusage_seconds(resource.RUSAGE_SELF) - self_before
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
        path=load.path,
        model=load.model,
        stream=load.stream,
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
    if load.stream and result["requests"]:
        result["cpu_us_per_chunk"] = round(cpu * 1e6 / (result["requests"] * CHUNKS), 2)
    log(
        f"{label:38} {result['rps']:>9.0f} req/s  p50 {result['p50_ms']:.3f} ms  "
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
        head = f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\n"
        head += f"Content-Length: {len(body)}\r\n"
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


@dataclass(frozen=True)
class StreamTarget:
    kind: str  # "direct", "router", a peer's name
    port: int
    load: Load
    key: str = "-"


def paired_streams(
    targets: tuple[StreamTarget, StreamTarget], n: int, warmup: int
) -> tuple[dict[str, Any], dict[str, bytes]]:
    """N sequential streams to each target, alternating; medians per target
    (`<kind>_ttfb_ms`, `_total_ms`, `_after_first_ms`) and each one's last body."""
    clients = [(t, RawClient(t.port), t.load.body(), t.load.header_dict(t.key)) for t in targets]
    samples: dict[str, list[tuple[float, float]]] = {t.kind: [] for t in targets}
    last: dict[str, bytes] = {}
    try:
        for i in range(warmup + n):
            for target, client, body, headers in clients:
                ttfb, total, data = client.post(target.load.path, body, headers)
                if i >= warmup:
                    samples[target.kind].append((ttfb, total))
                last[target.kind] = data
    finally:
        for _, client, _, _ in clients:
            client.close()
    out: dict[str, Any] = {"n": n, "requests": warmup + n}
    for kind, rows in samples.items():
        out[f"{kind}_ttfb_ms"] = round(statistics.median(t for t, _ in rows) * 1000, 3)
        out[f"{kind}_total_ms"] = round(statistics.median(t for _, t in rows) * 1000, 3)
        out[f"{kind}_after_first_ms"] = round(statistics.median(t - f for f, t in rows) * 1000, 3)
    return out, last


def added_stream(out: dict[str, Any], kind: str, base: str = "direct") -> dict[str, Any]:
    """`kind`'s stream timings less `base`'s: TTFB, whole stream, per chunk."""
    out["added_ttfb_ms"] = round(out[f"{kind}_ttfb_ms"] - out[f"{base}_ttfb_ms"], 3)
    out["added_total_ms"] = round(out[f"{kind}_total_ms"] - out[f"{base}_total_ms"], 3)
    out["added_us_per_chunk"] = round(
        (out[f"{kind}_after_first_ms"] - out[f"{base}_after_first_ms"]) * 1000 / CHUNKS, 2
    )
    return out
