"""`make bench`: the router against a static upstream, side by side with the
upstream alone and with Portkey's open-source gateway, in one run.

  nginx (bench/nginx.conf.template, answers from bench/bodies/) is the mock
  upstream; wrk (bench/wrk/*.lua) is the load; the router runs as in
  production (`model-router serve --workers <cores>`, default settings, request
  log on, LOG_LEVEL=warning) on a fresh SQLite database, then again on a
  scratch PostgreSQL database when one answers at BENCH_PG_DSN
  (default postgresql://postgres@127.0.0.1:5432/postgres; dropped afterwards).
  Portkey's gateway (bench/peers/, peers.py) is measured on the same mock.

Modules: loads.py (what is sent, and the checks of the answers), phases.py
(a wrk phase, timed streams), passes.py (direct and router passes), peers.py
(Portkey), report.py (targets and tables), harness.py (processes, /proc,
PostgreSQL).

Writes bench/results/latest.json and latest.md, updates the table in
bench/README.md, and prints the table. Options: --duration (default 10 s;
BENCH_QUICK=1 or --quick: 3 s), --door-duration (each front door and the chat
phase beside it; default 4 s, quick 3 s), --workers, --no-postgres, --no-peers,
--no-doors, --keep (keep the temp directory). Numbers are for comparing runs
on one machine: the load generator, the mock and the gateways share its cores.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import (
    RESULTS,
    Workdir,
    cleanup_on_exit,
    log,
    machine,
    pg_create,
    pg_drop,
    pg_reachable,
    pg_url,
    publish,
    require_tool,
    run_cli,
    start_nginx,
)
from loads import CHUNKS
from passes import check_direct, direct_pass, router_pass
from peers import PortkeyRun
from render import door_rows, markdown, peer_ratios
from report import TARGETS, summary_rows


def flag(name: str) -> bool:
    return os.environ.get(name, "") not in ("", "0")


def parse_args() -> argparse.Namespace:
    quick = flag("BENCH_QUICK")
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--duration", type=float, default=None, help="seconds per load phase (10; 3 with --quick)"
    )
    parser.add_argument(
        "--door-duration", type=float, default=None,
        help="seconds per front-door phase and its chat phase beside it (4; 3 with --quick)",
    )  # fmt: skip
    parser.add_argument(
        "--quick", action="store_true", default=quick, help="3 s phases (also BENCH_QUICK=1)"
    )
    parser.add_argument(
        "--workers", type=int, default=os.cpu_count() or 1, help="router workers (cores)"
    )
    parser.add_argument("--no-postgres", action="store_true", help="SQLite only")
    parser.add_argument(
        "--no-peers", action="store_true", default=flag("BENCH_NO_PEERS"),
        help="skip Portkey's gateway (also BENCH_NO_PEERS=1)",
    )  # fmt: skip
    parser.add_argument(
        "--no-doors", action="store_true", help="skip /v1/messages, /v1/responses, /v1/embeddings"
    )
    parser.add_argument(
        "--openai-only", action="store_true", help="skip the Anthropic and Gemini chat phases"
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the temp directory (logs, databases)"
    )
    parser.add_argument(
        "--profile", action="store_true", default=flag("BENCH_PROFILE"),
        help="also sample a worker with py-spy during an extra c=64 phase (also BENCH_PROFILE=1)",
    )  # fmt: skip
    args = parser.parse_args()
    if args.duration is None:
        args.duration = 3.0 if args.quick else 10.0
    if args.door_duration is None:
        args.door_duration = min(args.duration, 3.0 if args.quick else 4.0)
    args.warmup = 1.0
    args.startup_runs = 3
    args.stream_samples = 50 if args.quick else 200
    return args


def main() -> int:
    args = parse_args()
    require_tool("nginx", "nginx")
    require_tool("wrk", "wrk")
    protocols = ["openai"] if args.openai_only else ["openai", "anthropic", "gemini"]
    doors = not args.no_doors
    workdir = Workdir()
    began = time.perf_counter()
    results: dict[str, Any] = {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "config": {
            "duration_s": args.duration,
            "door_duration_s": args.door_duration,
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
            results["direct"] = direct_pass(nginx, args, protocols, doors)
            # Portkey starts now and runs each of its phases right after the
            # router's of the same name, so the two share the machine's state.
            peer = None if args.no_peers else PortkeyRun(children, workdir.path, nginx, args, doors)
            sqlite_url = f"sqlite:///{workdir.path / 'bench.db'}"
            results["router"]["SQLite"] = router_pass(
                children, workdir.path, nginx, sqlite_url, "SQLite", args, protocols, doors,
                None if peer is None else peer.beside,
            )  # fmt: skip
            if peer is not None:
                results["peers"] = {"portkey": peer.finish()}
            why = "--no-postgres" if args.no_postgres else pg_reachable()
            if why is None:
                pg_database = pg_create()
                log(f"scratch PostgreSQL database {pg_database}")
                results["router"]["PostgreSQL"] = router_pass(
                    children, workdir.path, nginx, pg_url(pg_database), "PostgreSQL", args,
                    ["openai"], False,
                )  # fmt: skip
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
    results["doors"] = door_rows(results)
    results["peer_ratios"] = peer_ratios(results)
    table = markdown(results)
    publish("latest", results, table, "latest")
    print()
    print(table)
    log(f"done in {results['elapsed_s']:.0f} s; wrote {RESULTS / 'latest.json'} and latest.md")
    return 0


if __name__ == "__main__":
    run_cli(main, "bench")
