"""Two versions of the router side by side at c=1 (ABAB...), each on its own
SQLite (or PostgreSQL) database, against one nginx mock: added latency and
CPU per request, phases interleaved so both see the same machine.

    .venv/bin/python bench/c1_ab.py SRC_A SRC_B [--rounds N] [--seconds S] [--connections C]

SRC_A and SRC_B are `src` folders (e.g. a `git archive` of another revision):
each router runs with PYTHONPATH set to its folder.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import (
    Workdir,
    cleanup_on_exit,
    log,
    router_env,
    set_up_router_db,
    start_nginx,
    start_router,
)
from loads import PROTOCOLS
from phases import Target, run_wrk


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("sources", nargs=2)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--connections", type=int, default=1)
    args = parser.parse_args()
    workdir = Workdir()
    protocol = PROTOCOLS["openai"]
    try:
        with cleanup_on_exit() as children:
            nginx = start_nginx(children, workdir.path)
            direct = Target("direct", nginx.base, nginx.proc.pid)
            routers = []
            for tag, source in zip("AB", args.sources, strict=True):
                env = router_env(f"sqlite:///{workdir.path / f'{tag}.db'}") | {"PYTHONPATH": source}
                keys = set_up_router_db(workdir.path, env, nginx.base)
                router = start_router(children, workdir.path, env, 2, tag)
                routers.append((tag, router, keys["user"]))
            results: dict[str, list[dict[str, float]]] = {"A": [], "B": [], "direct": []}
            for _ in range(args.rounds):
                got = run_wrk(direct, protocol.direct(False), connections=args.connections,
                              duration=args.seconds, label="direct", nginx=nginx)  # fmt: skip
                results["direct"].append(got)
                for tag, router, key in routers:
                    target = Target("router", router.base, router.proc.pid, key)
                    got = run_wrk(target, protocol.chat(False), connections=args.connections,
                                  duration=args.seconds, label=f"{tag} c{args.connections}",
                                  nginx=nginx)  # fmt: skip
                    results[tag].append(got)
    finally:
        workdir.remove()
    base_p50 = statistics.median(r["p50_ms"] for r in results["direct"])
    base_p99 = statistics.median(r["p99_ms"] for r in results["direct"])
    for tag in "AB":
        rows = results[tag]
        p50 = statistics.median(r["p50_ms"] for r in rows)
        p99 = statistics.median(r["p99_ms"] for r in rows)
        cpu = statistics.median(r["cpu_ms_per_request"] for r in rows)
        log(f"{tag}: added p50 {p50 - base_p50:.3f} ms, added p99 {p99 - base_p99:.3f} ms, "
            f"cpu {cpu:.3f} ms/req, rps {statistics.median(r['rps'] for r in rows):.0f} "
            f"(medians of {len(rows)})")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
