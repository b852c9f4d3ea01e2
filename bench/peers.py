"""Peer gateways in the same run: Portkey's open-source gateway (npm
`@portkey-ai/gateway`, pinned in bench/peers/package-lock.json and installed
there by bench/install-tools.sh with `npm ci`).

It runs as one Node process (`build/start-server.js --port=N --headless`,
NODE_ENV=production: no UI, no log stream) and reaches the same nginx mock
through its per-request headers `x-portkey-provider` and
`x-portkey-custom-host`. It is measured with the router's own phases where
its API allows, each right after the router's (`PortkeyRun.beside`): c=1
latency, c=64 throughput with CPU per request (its process tree), streams
(time to first byte, CPU per chunk), peak RSS, start-up to its first answer
on `GET /`, and the front doors it has. A door it does not answer right is
listed as unsupported; if it cannot be installed or started, or fails on the
way, the report says why and the benchmark carries on.

bench/peers/package.json pins @hono/node-server to 1.14.1 (an npm override):
with a later one every stream through Portkey 1.15.2 fails ("TypeError:
immutable" when it adds its headers to the upstream's response; Portkey's
issues #1389 and #1550).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from harness import (
    BENCH,
    UPSTREAM_KEY,
    BenchError,
    Children,
    Nginx,
    free_port,
    log,
    peak_rss,
    wait_healthy,
)
from loads import (
    EMBEDDING_MODEL,
    PROTOCOLS,
    Load,
    check_answer,
    check_chat,
    check_chat_stream,
    check_embeddings,
    check_messages,
    check_responses,
    check_responses_stream,
)
from phases import StreamTarget, Target, added_stream, paired_streams, run_wrk

PEERS = BENCH / "peers"
PORTKEY = PEERS / "node_modules" / "@portkey-ai" / "gateway"
PORTKEY_SERVER = PORTKEY / "build" / "start-server.js"
Check = Callable[[bytes], str | None]


def portkey_loads(mock: str) -> dict[str, tuple[Load, Check]]:
    """Portkey's request for each of the router's phases (chat, and the doors by name)."""

    def load(path: str, script: str, model: str, host: str, provider: str = "openai",
             stream: bool = False) -> Load:  # fmt: skip
        headers = (f"x-portkey-provider: {provider}", f"x-portkey-custom-host: {mock}{host}")
        return Load(path, script, model, stream, headers)

    chat = "/v1/chat/completions"
    return {
        "chat": (load(chat, "openai.lua", "gpt-4o-mini", "/openai/v1"),
                 lambda d: check_chat(d, want_cost=False)),
        "chat-stream": (load(chat, "openai.lua", "gpt-4o-mini", "/openai-stream/v1", stream=True),
                        lambda d: check_chat_stream(d, want_cost=False)),
        "messages>openai": (load("/v1/messages", "anthropic.lua", "gpt-4o-mini", "/openai/v1"),
                            check_messages),
        "messages>anthropic": (load("/v1/messages", "anthropic.lua", "claude-haiku-4-5",
                                    "/anthropic/v1", provider="anthropic"), check_messages),
        "responses": (load("/v1/responses", "responses.lua", "gpt-4o-mini", "/openai/v1"),
                      check_responses),
        "responses-stream": (load("/v1/responses", "responses.lua", "gpt-4o-mini",
                                  "/openai-stream/v1", stream=True), check_responses_stream),
        "embeddings": (load("/v1/embeddings", "embeddings.lua", EMBEDDING_MODEL, "/openai/v1"),
                       check_embeddings),
    }  # fmt: skip


def portkey_version() -> str | None:
    import json

    try:
        return str(json.loads((PORTKEY / "package.json").read_text())["version"])
    except (OSError, ValueError, KeyError):
        return None


def start_portkey(children: Children, workdir: Path) -> tuple[subprocess.Popen[bytes], int, float]:
    node = shutil.which("node")
    if node is None:
        raise BenchError("node is not installed (Portkey's gateway runs on Node.js)")
    if not PORTKEY_SERVER.exists():
        raise BenchError(
            f"not installed ({PORTKEY_SERVER.relative_to(BENCH.parent)} is missing; "
            "bench/install-tools.sh runs `npm ci` in bench/peers)"
        )
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PORTKEY", "NODE_OPTIONS"))}
    env["NODE_ENV"] = "production"
    out = open(workdir / f"portkey-{port}.log", "wb")  # noqa: SIM115 (the child keeps it)
    proc = children.spawn(
        [node, str(PORTKEY_SERVER), f"--port={port}", "--headless"],
        cwd=workdir, env=env, stdout=out, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        startup = wait_healthy(f"http://127.0.0.1:{port}/", proc, 60, "Portkey's gateway")
    except BenchError as exc:
        children.stop(proc)
        raise BenchError(f"{exc}\n{portkey_log(workdir, port)}") from None
    return proc, port, startup


def portkey_log(workdir: Path, port: int) -> str:
    try:
        return (workdir / f"portkey-{port}.log").read_text(errors="replace")[-1500:]
    except OSError:
        return ""


class PortkeyRun:
    """Portkey's gateway, started and checked once; its phases run beside the
    router's (`beside(name)` right after the router's phase of that name), and
    `finish()` adds its streams and memory, stops it and returns its figures,
    or {"skipped": why}. Nothing that goes wrong with Portkey stops the run."""

    def __init__(
        self, children: Children, workdir: Path, nginx: Nginx, args: argparse.Namespace,
        doors: bool,
    ) -> None:  # fmt: skip
        self.children, self.workdir, self.nginx, self.args = children, workdir, nginx, args
        self.proc: subprocess.Popen[bytes] | None = None
        self.port = 0
        self.phases: dict[str, Any] = {}
        self.failed = ""
        self.result: dict[str, Any] = {"version": portkey_version()}
        log("--- Portkey's gateway (peer) ---")
        self._guard(lambda: self._start(doors))

    def _guard(self, work: Callable[[], None]) -> None:
        if self.failed:
            return
        try:
            work()
        except Exception as exc:  # a peer's failure, whatever it is, never stops the run
            why = str(exc).strip() or type(exc).__name__
            if self.proc is not None:
                why += f"\n--- Portkey's log ---\n{portkey_log(self.workdir, self.port)}"
                self.children.stop(self.proc)
                self.proc = None
            self.failed = why
            log(f"Portkey skipped: {why[:1500]}")

    def _start(self, doors: bool) -> None:
        startups = []
        for _ in range(self.args.startup_runs - 1):
            proc, _, startup = start_portkey(self.children, self.workdir)
            startups.append(startup)
            self.children.stop(proc)
        self.proc, self.port, startup = start_portkey(self.children, self.workdir)
        startups.append(startup)
        log(
            f"Portkey {portkey_version()} healthy "
            f"{', '.join(f'{s:.2f}' for s in startups)} s after spawn"
        )
        self.result |= {
            "command": "node build/start-server.js --port=N --headless (NODE_ENV=production)",
            "startup_s": round(statistics.median(startups), 3),
            "startup_samples_s": [round(s, 3) for s in startups],
        }
        self.loads = portkey_loads(self.nginx.base)
        if not doors:
            self.loads = {k: v for k, v in self.loads.items() if k.startswith("chat")}
        problems = _supported(f"http://127.0.0.1:{self.port}", self.loads)
        for name, problem in problems.items():
            if problem:
                log(f"  Portkey does not answer {name} right: {problem[:300]}")
        if problems["chat"]:
            raise BenchError(f"chat completions through Portkey: {problems['chat']}")
        self.result["unsupported"] = {k: v for k, v in problems.items() if v}
        self.ok = [name for name, problem in problems.items() if not problem]
        for what in self.ok:
            self._load(f"warm-up {what}", what, 16, self.args.warmup)

    def _load(self, name: str, what: str, connections: int, duration: float) -> dict[str, Any]:
        assert self.proc is not None
        target = Target("portkey", f"http://127.0.0.1:{self.port}", self.proc.pid, UPSTREAM_KEY)
        return run_wrk(
            target, self.loads[what][0], connections=connections, duration=duration,
            label=f"portkey {name}", nginx=self.nginx,
        )  # fmt: skip

    def beside(self, name: str) -> None:
        """Portkey's phase of the same name as the router's that just ran, if it has one."""
        phase, _, c = name.rpartition(" c")
        what = {"openai": "chat", "openai-stream": "chat-stream"}.get(phase, phase)
        if (phase == "openai-stream" and c == "1") or what not in getattr(self, "ok", ()):
            return
        duration = self.args.duration if what.startswith("chat") else self.args.door_duration

        def run() -> None:
            self.phases[name] = self._load(name, what, int(c), duration)

        self._guard(run)

    def finish(self) -> dict[str, Any]:
        self._guard(self._streams)
        if self.failed:
            return self.result | {"skipped": self.failed[:2000], "phases": self.phases}
        assert self.proc is not None
        rss = peak_rss(self.proc.pid)
        self.children.stop(self.proc)
        return self.result | {
            "phases": self.phases,
            "peak_rss": rss,
            "peak_rss_tree_mb": round(sum(r["peak_rss_mb"] for r in rss), 1),
        }

    def _streams(self) -> None:
        self.result["streams"] = {}
        if "chat-stream" not in self.ok:
            return
        pair = (
            StreamTarget("direct", self.nginx.port, PROTOCOLS["openai"].direct(True)),
            StreamTarget("portkey", self.port, self.loads["chat-stream"][0], UPSTREAM_KEY),
        )
        out, _ = paired_streams(pair, max(20, self.args.stream_samples // 2), 5)
        self.result["streams"]["openai"] = added_stream(out, "portkey")
        log(
            f"stream via Portkey: TTFB direct {out['direct_ttfb_ms']:.3f} ms, "
            f"Portkey {out['portkey_ttfb_ms']:.3f} ms; total {out['portkey_total_ms']:.3f} ms"
        )


def _supported(base: str, loads: dict[str, tuple[Load, Check]]) -> dict[str, str]:
    """One call per load: '' where Portkey answers right, else what went wrong."""
    out = {}
    with httpx.Client(timeout=30) as client:
        for name, (load, check) in loads.items():
            try:
                response = client.post(
                    base + load.path, content=load.body(), headers=load.header_dict(UPSTREAM_KEY)
                )
                if response.status_code != 200:
                    raise BenchError(f"{response.status_code} {response.text[:300]}")
                check_answer(name, response.content, check)
                out[name] = ""
            except BenchError as exc:
                out[name] = str(exc)[:400]
    return out
