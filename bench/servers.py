"""HTTP server experiments (issue 18): the same app under different servers,
against the same nginx mock, load phases interleaved (ABAB...) in one run.

    .venv/bin/python bench/servers.py --variants uvicorn,granian-st --rounds 4
    .venv/bin/python bench/servers.py --startup 6 --old-src /tmp/old/src
                                  # serve --workers 2 start-up, against an older tree

The granian variants need granian in the venv (it is not a dependency: it lost,
see docs/performance.md): `.tools/bin/uv pip install --python .venv/bin/python granian`.
Every variant serves from its own process tree, all started before the first
phase; each round runs c=1 then c=N against each variant in turn, so machine
noise falls on all of them alike. Prints medians and spread per variant.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import (
    CLI,
    VENV_BIN,
    BenchError,
    Children,
    Workdir,
    cleanup_on_exit,
    cpu_seconds,
    free_port,
    log,
    pg_create,
    pg_drop,
    pg_url,
    process_tree,
    router_env,
    run_cli,
    set_up_router_db,
    start_nginx,
    status_kib,
    wait_healthy,
)

WRK_SCRIPT = Path(__file__).resolve().parent / "wrk" / "openai.lua"
APP = "model_router.app:create_app"
GRANIAN_BASE = [
    str(VENV_BIN / "granian"), "--interface", "asgi", "--factory", "--http", "1",
    "--no-ws", "--log-level", "warning", "--no-access-log",
]  # fmt: skip


def granian(*options: str) -> list[str]:
    return [*GRANIAN_BASE, *options]


ST_RUST = ("--runtime-mode", "st", "--task-impl", "rust")
VARIANTS: dict[str, list[str]] = {
    "uvicorn": [CLI, "serve", "--workers", "1"],
    "serve2": [CLI, "serve", "--workers", "2"],
    "serve2-old": [CLI, "serve", "--workers", "2"],  # with --old-src
    "granian": granian(),
    "granian-st": granian(*ST_RUST),
    "granian-st-uvloop": granian(*ST_RUST, "--loop", "uvloop"),
    "granian-st-asyncio-task": granian("--runtime-mode", "st", "--loop", "uvloop"),
    "granian-st-bt1": granian(
        *ST_RUST, "--loop", "uvloop", "--blocking-threads", "1", "--runtime-blocking-threads", "1"
    ),
    "granian-st-bp": granian(*ST_RUST, "--loop", "uvloop", "--backpressure", "32"),
    "granian-mt": granian("--runtime-mode", "mt", "--runtime-threads", "2", "--loop", "uvloop"),
    "granian-rloop": granian(*ST_RUST, "--loop", "rloop"),
    "granian2": granian("--workers", "2"),
    "granian2-st": granian("--workers", "2", *ST_RUST),
}


OLD_SRC = [""]


def start(children: Children, workdir: Path, env: dict[str, str], name: str) -> tuple[Any, int]:
    port = free_port()
    args = [*VARIANTS[name]]
    if args[0] == CLI:
        args += ["--host", "127.0.0.1", "--port", str(port)]
    else:
        args += ["--host", "127.0.0.1", "--port", str(port), APP]
    out = open(workdir / f"{name}.log", "wb")  # noqa: SIM115
    if name.endswith("-old"):
        env = {**env, "PYTHONPATH": OLD_SRC[0]}
    proc = children.spawn(args, cwd=workdir, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_healthy(f"http://127.0.0.1:{port}/health", proc, 60, name)
    except BenchError as exc:
        raise BenchError(f"{exc}\n{(workdir / f'{name}.log').read_text()[-2000:]}") from None
    return proc, port


def wrk(port: int, key: str, connections: int, duration: float) -> dict[str, Any]:
    threads = 1 if connections == 1 else 2
    args = [
        "wrk", f"-t{threads}", f"-c{connections}", f"-d{duration:g}s", "--timeout", "10s",
        "-s", str(WRK_SCRIPT), f"http://127.0.0.1:{port}/v1/chat/completions",
        "--", key, "bench-openai", "false",
    ]  # fmt: skip
    done = subprocess.run(args, capture_output=True, text=True, timeout=duration + 60)
    found = re.search(r"^BENCH (\{.*\})$", done.stdout, re.M)
    if found is None:
        raise BenchError(f"wrk failed: {done.stdout[-1000:]} {done.stderr[-1000:]}")
    result: dict[str, Any] = json.loads(found.group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", done.stdout)
    result["non_2xx"] = int(non2xx.group(1)) if non2xx else 0
    result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
    return result


def context_switches(root: int) -> int:
    """Voluntary + involuntary context switches of every thread in the tree: wake-ups."""
    total = 0
    for pid in process_tree(root):
        for task in Path(f"/proc/{pid}/task").glob("*"):
            try:
                text = (task / "status").read_text()
            except OSError:
                continue
            total += sum(
                int(line.split()[1]) for line in text.splitlines() if "ctxt_switches" in line
            )
    return total


def rss_mb(root: int) -> list[float]:
    return [
        round((status_kib(pid, "VmHWM") or 0) / 1024, 1)
        for pid in process_tree(root)
        if status_kib(pid, "VmHWM")
    ]


def load_experiment(args: argparse.Namespace) -> int:
    names = args.variants.split(",")
    workdir = Workdir()
    samples: dict[str, dict[str, list[float]]] = {n: {} for n in names}
    with cleanup_on_exit() as children:
        nginx = start_nginx(children, workdir.path)
        env = router_env(f"sqlite+aiosqlite:///{workdir.path / 'router.db'}")
        keys = set_up_router_db(workdir.path, env, nginx.base)
        running = {n: start(children, workdir.path, env, n) for n in names}
        for _proc, port in running.values():
            wrk(port, keys["user"], 1, 1)  # warm-up
            wrk(port, keys["user"], args.connections, 1)
        for r in range(args.rounds):
            order = names if r % 2 == 0 else list(reversed(names))
            for n in order:
                proc, port = running[n]
                for c in (1, args.connections):
                    cpu0, switches0 = cpu_seconds(proc.pid), context_switches(proc.pid)
                    res = wrk(port, keys["user"], c, args.duration)
                    cpu = cpu_seconds(proc.pid) - cpu0
                    switches = context_switches(proc.pid) - switches0
                    s = samples[n]
                    s.setdefault(f"c{c}_p50_ms", []).append(res["p50_us"] / 1000)
                    s.setdefault(f"c{c}_p99_ms", []).append(res["p99_us"] / 1000)
                    s.setdefault(f"c{c}_rps", []).append(res["rps"])
                    s.setdefault(f"c{c}_cpu_ms", []).append(cpu * 1000 / max(1, res["requests"]))
                    s.setdefault(f"c{c}_switches", []).append(switches / max(1, res["requests"]))
                    s.setdefault(f"c{c}_errors", []).append(
                        res["non_2xx"] + sum(res["errors"].values())
                    )
                    per_request = cpu * 1000 / max(1, res["requests"])
                    log(
                        f"round {r} {n:24} c={c:<3} p50 {res['p50_us'] / 1000:.3f} ms "
                        f"{res['rps']:7.0f} req/s cpu {per_request:.3f}"
                    )
        for n, (proc, _port) in running.items():
            samples[n]["peak_rss_mb"] = rss_mb(proc.pid)
            samples[n]["rss_pss_mb_now"] = [smaps_mb(pid) for pid in process_tree(proc.pid)]
    workdir.remove()
    report(samples, os.getloadavg())
    return 0


def report(samples: dict[str, dict[str, list[float]]], load: tuple[float, ...]) -> None:
    print(f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    for name, s in samples.items():
        parts = []
        for key, values in s.items():
            if key in ("peak_rss_mb", "rss_pss_mb_now"):
                parts.append(f"rss {values}")
                continue
            med = statistics.median(values)
            parts.append(f"{key} {med:.3f} [{min(values):.3f}-{max(values):.3f}]")
        print(f"{name}: " + "; ".join(parts))


def smaps_mb(pid: int) -> tuple[float, float]:
    """(Rss, Pss) of `pid` now, in MiB: Pss shares each page among the processes mapping it."""
    fields = {}
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
            name, value = line.split(":", 1)
            fields[name] = int(value.split()[0])
    except OSError:
        return (0.0, 0.0)
    return (round(fields.get("Rss", 0) / 1024, 1), round(fields.get("Pss", 0) / 1024, 1))


def startup_experiment(args: argparse.Namespace) -> int:
    """Spawn to first 200 on /health for `serve --workers N`, variants interleaved.

    --old-src DIR runs the variant "old" from another source tree (e.g. a
    `git archive HEAD src` of the previous commit) with the same venv."""
    workdir = Workdir()
    variants: dict[str, dict[str, str]] = {"new": {}}
    if args.old_src:
        variants = {"old": {"PYTHONPATH": args.old_src}, "new": {}}
    times: dict[str, list[float]] = {n: [] for n in variants}
    cpu: dict[str, list[float]] = {n: [] for n in variants}
    memory: dict[str, list[Any]] = {n: [] for n in variants}
    pg = pg_create() if args.postgres else None
    url = pg_url(pg) if pg else f"sqlite+aiosqlite:///{workdir.path / 'router.db'}"
    with cleanup_on_exit() as children:
        env = router_env(url)
        set_up_router_db(workdir.path, env, None)
        for i in range(args.startup):
            for name in variants if i % 2 == 0 else reversed(list(variants)):
                port = free_port()
                proc = children.spawn(
                    [str(VENV_BIN / "python"), "-m", "model_router", "serve", "--workers",
                     str(args.workers), "--host", "127.0.0.1", "--port", str(port)],
                    cwd=workdir.path, env={**env, **variants[name]},
                    stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
                )  # fmt: skip
                health = f"http://127.0.0.1:{port}/health"
                times[name].append(wait_healthy(health, proc, 60, "serve"))
                cpu[name].append(cpu_seconds(proc.pid))  # the whole tree's, spawn to healthy
                time.sleep(2)
                memory[name].append(
                    {pid: (rss_mb(pid)[0], *smaps_mb(pid)) for pid in process_tree(proc.pid)}
                )
                children.stop(proc)
                log(f"{name}: {times[name][-1]:.3f} s; (VmHWM, Rss, Pss) {memory[name][-1]}")
    workdir.remove()
    if pg:
        pg_drop(pg)
    print(f"load average {os.getloadavg()}")
    for name, values in times.items():
        print(
            f"{name}: start-up to healthy median {statistics.median(values):.3f} s, "
            f"spread {min(values):.3f}-{max(values):.3f}; CPU to healthy median "
            f"{statistics.median(cpu[name]):.3f} s [{min(cpu[name]):.3f}-{max(cpu[name]):.3f}]; "
            f"memory {memory[name][-1]}"
        )
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--variants", default="uvicorn,granian-st-uvloop")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--duration", type=float, default=4)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--startup", type=int, default=0, help="start-up runs (0: load runs)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--postgres", action="store_true", help="a scratch PostgreSQL database")
    parser.add_argument("--old-src", default=None, help="source tree of the 'old' variant")
    args = parser.parse_args()
    OLD_SRC[0] = args.old_src or ""
    if args.startup:
        return startup_experiment(args)
    return load_experiment(args)


if __name__ == "__main__":
    run_cli(main, "servers")
