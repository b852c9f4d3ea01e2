"""Where a router worker's CPU goes under load: py-spy samples, summed by layer.

`make bench` with BENCH_PROFILE=1 (or `run.py --profile`) runs one more
c=64 phase of non-streamed OpenAI calls on the SQLite pass while py-spy
samples a worker, then attributes each sample to the layer of its innermost
frame that belongs to a known package (below). The shares go into the JSON
and under the table, so a missed target comes with the profile that explains
it. py-spy is installed into bench/data/tools (a venv of its own, git-ignored)
the first time.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

BENCH = Path(__file__).resolve().parent
TOOLS = BENCH / "data" / "tools"

# Innermost frame's file path -> layer; first match wins, checked in this order.
LAYERS: tuple[tuple[str, str], ...] = (
    ("/model_router/providers/transport.py", "upstream HTTP client (providers/transport.py)"),
    ("/model_router/services/request_log.py", "request log (ours, SQLAlchemy, the drivers)"),
    ("/model_router/db/inserts.py", "request log (ours, SQLAlchemy, the drivers)"),
    ("/model_router/db/rollup.py", "request log (ours, SQLAlchemy, the drivers)"),
    ("/model_router/observability/", "metrics, logs and traces (ours, prometheus-client)"),
    ("/model_router/", "router's own code (the rest)"),
    ("/uvicorn/", "HTTP server (uvicorn, httptools, Starlette)"),
    ("/httptools/", "HTTP server (uvicorn, httptools, Starlette)"),
    ("/starlette/", "HTTP server (uvicorn, httptools, Starlette)"),
    ("/fastapi/", "HTTP server (uvicorn, httptools, Starlette)"),
    ("/sqlalchemy/", "request log (ours, SQLAlchemy, the drivers)"),
    ("/aiosqlite/", "request log (ours, SQLAlchemy, the drivers)"),
    ("/sqlite3/", "request log (ours, SQLAlchemy, the drivers)"),
    ("/asyncpg/", "request log (ours, SQLAlchemy, the drivers)"),
    ("/pydantic", "validation and JSON (pydantic, orjson)"),
    ("/orjson", "validation and JSON (pydantic, orjson)"),
    ("/prometheus_client/", "metrics, logs and traces (ours, prometheus-client)"),
    ("/logging/", "logging"),
    ("/asyncio/", "event loop (asyncio, uvloop)"),
    ("/uvloop/", "event loop (asyncio, uvloop)"),
)
_FRAME = re.compile(r"\(([^)]*?):\d+\)$")


def py_spy() -> Path:
    """py-spy, installed into a venv of the bench's own on first use."""
    exe = TOOLS / "bin" / "py-spy"
    if not exe.exists():
        subprocess.run([sys.executable, "-m", "venv", str(TOOLS)], check=True)
        subprocess.run([str(TOOLS / "bin" / "pip"), "install", "-q", "py-spy"], check=True)
    return exe


THREAD = "not in the shares above: the database driver's thread, % of all samples"


def layer_of(stack: str) -> str:
    """The layer of the innermost frame that belongs to a known package; samples
    of a thread other than the event loop's (aiosqlite's) are kept apart: py-spy
    counts a thread waiting for the GIL as busy, which overstates it (by /proc,
    the SQLite writer thread used about 3% of a worker's CPU, not 20%)."""
    if "threading.py" in stack:
        return THREAD
    for frame in reversed(stack.split(";")):
        found = _FRAME.search(frame)
        # py-spy shortens paths to the package: "aiohttp/client.py".
        path = "/" + (found.group(1) if found else frame)
        for needle, layer in LAYERS:
            if needle in path:
                return layer
    return "other (interpreter, C code without Python frames)"


def summarize(collapsed: str) -> dict[str, float]:
    """Percent of the event loop thread's samples per layer, largest first, from
    py-spy's raw output; then the share of other threads' samples (`THREAD`)."""
    counts: Counter[str] = Counter()
    for line in collapsed.splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit():
            counts[layer_of(stack)] += int(count)
    apart = counts.pop(THREAD, 0)
    total = sum(counts.values()) or 1
    shares = {layer: round(100 * n / total, 1) for layer, n in counts.most_common()}
    shares[THREAD] = round(100 * apart / ((total + apart) or 1), 1)
    return shares


def record(pid: int, seconds: int, out: Path) -> subprocess.Popen[bytes]:
    """Start sampling `pid` for `seconds` (all its threads, 250 samples a second)."""
    return subprocess.Popen(
        [
            str(py_spy()),
            "record",
            "--pid",
            str(pid),
            "--duration",
            str(seconds),
            "--rate",
            "250",
            "--format",
            "raw",
            "--nonblocking",
            "--output",
            str(out),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
