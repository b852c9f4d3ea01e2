"""Python calls per request inside the router: a measure without wall-clock noise.

    .venv/bin/python bench/calls.py [-n 300] [--top 25] [--path chat]

Serves the real app (`create_app`, default settings, request log on, a temp
SQLite database) with uvicorn (uvloop, httptools, as `serve` does) in a thread
of this process, in front of a static upstream (an asyncio server in another
thread answering with the files in `bench/bodies/`, like the nginx of `make
bench`). A client in the main thread sends N sequential requests per path while
cProfile counts the calls made on the router's event-loop thread only (the
upstream's and the client's threads are not counted; neither is the SQLite
driver's thread, where the request log's inserts run in C). The request log's
flush falls inside the window and is shared by the N requests. Timers that
run per second, not per request (the key cache's refresh, the request log's
flush interval), are slowed so that a slow run does not count more of them.

Printed per path: function calls per request (cProfile's count: Python functions
and C builtins), of which Python functions, and for streams the calls per chunk
(from a 50-chunk and a 10-chunk stream of the same reply: the difference / 40).
`--top K` also prints the K functions with the most calls per request.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import http.client
import os
import pstats
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # `tests.mocks` is not installed

BODIES = ROOT / "bench" / "bodies"
KEY_SETTING = "BENCH_UPSTREAM_KEY"

SYSTEM = "You are a concise assistant for a database engineering team. Answer in plain prose."
QUESTION = "What is a write-ahead log, and why do databases use one?"
# The catalogue's own embedding model, its provider ("openai") pointed at the upstream.
EMBEDDING_MODEL = "text-embedding-3-small"


def _chat(model: str, stream: bool) -> dict[str, Any]:
    return {
        "model": model,
        "stream": stream,
        **({"stream_options": {"include_usage": True}} if stream else {}),
        "temperature": 0.2,
        "max_tokens": 256,
        "user": "bench-user-17",
        "messages": [
            {"role": "system", "content": SYSTEM},
            {"role": "user", "content": QUESTION},
        ],
    }


def _messages(model: str, stream: bool) -> dict[str, Any]:
    return {
        "model": model,
        "stream": stream,
        "max_tokens": 256,
        "temperature": 0.2,
        "system": SYSTEM,
        "messages": [{"role": "user", "content": [{"type": "text", "text": QUESTION}]}],
    }


def _responses(model: str, stream: bool) -> dict[str, Any]:
    return {"model": model, "stream": stream, "instructions": SYSTEM, "input": QUESTION}


def _embeddings(encoding: str) -> dict[str, Any]:
    return {"model": EMBEDDING_MODEL, "input": QUESTION, "encoding_format": encoding}


@dataclass(frozen=True)
class Path_:
    name: str
    url: str
    body: dict[str, Any]
    chunks: int = 0  # a stream of this many content chunks


def paths() -> list[Path_]:
    return [
        Path_("chat", "/v1/chat/completions", _chat("b-openai", False)),
        Path_("chat stream", "/v1/chat/completions", _chat("b-openai-s50", True), 50),
        Path_("chat stream (10)", "/v1/chat/completions", _chat("b-openai-s10", True), 10),
        Path_("messages (anthropic)", "/v1/messages", _messages("b-claude", False)),
        Path_("messages stream", "/v1/messages", _messages("b-claude-s50", True), 50),
        Path_("messages stream (10)", "/v1/messages", _messages("b-claude-s10", True), 10),
        Path_("messages -> openai", "/v1/messages", _messages("b-openai", False)),
        Path_("chat -> anthropic", "/v1/chat/completions", _chat("b-claude", False)),
        Path_("responses", "/v1/responses", _responses("b-openai", False)),
        Path_("responses stream", "/v1/responses", _responses("b-openai-s50", True), 50),
        Path_("responses stream (10)", "/v1/responses", _responses("b-openai-s10", True), 10),
        Path_("embeddings", "/v1/embeddings", _embeddings("float")),
        Path_("embeddings base64", "/v1/embeddings", _embeddings("base64")),
    ]


# --- the static upstream -------------------------------------------------------------


def _trim(sse: bytes, keep: int, is_content: Any) -> bytes:
    """The stream with only its first `keep` content events."""
    events = [e for e in sse.split(b"\n\n") if e.strip()]
    out, seen = [], 0
    for event in events:
        if is_content(event):
            seen += 1
            if seen > keep:
                continue
        out.append(event)
    return b"\n\n".join(out) + b"\n\n"


def _base64_embeddings() -> bytes:
    import orjson

    from model_router.domain.embeddings import encode_base64

    body = orjson.loads((BODIES / "embeddings.json").read_bytes())
    for item in body["data"]:
        item["embedding"] = encode_base64(item["embedding"])
    return orjson.dumps(body)


def upstream_bodies() -> dict[str, tuple[bytes, bytes]]:
    """URL prefix -> (content type, body), the first prefix that matches."""
    oai_sse = (BODIES / "openai.sse").read_bytes()
    ant_sse = (BODIES / "anthropic.sse").read_bytes()

    def oai_content(e: bytes) -> bool:
        return b'"delta":{"content"' in e

    def ant_content(e: bytes) -> bool:
        return e.startswith(b"event: content_block_delta")

    sse, js = b"text/event-stream", b"application/json"
    return {
        # An OpenAI upstream encodes the vectors itself when asked (see `_answer`).
        "/openai/v1/embeddings#base64": (js, _base64_embeddings()),
        "/openai/v1/embeddings": (js, (BODIES / "embeddings.json").read_bytes()),
        "/openai/": (js, (BODIES / "openai.json").read_bytes()),
        "/openai-s50/": (sse, _trim(oai_sse, 50, oai_content)),
        "/openai-s10/": (sse, _trim(oai_sse, 10, oai_content)),
        "/anthropic/": (js, (BODIES / "anthropic.json").read_bytes()),
        "/anthropic-s50/": (sse, _trim(ant_sse, 50, ant_content)),
        "/anthropic-s10/": (sse, _trim(ant_sse, 10, ant_content)),
    }


async def _answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, bodies: Any) -> None:
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            path = lines[0].split(" ")[1]
            length = 0
            for line in lines[1:]:
                if line.lower().startswith("content-length:"):
                    length = int(line.split(":", 1)[1])
            if b'"encoding_format":"base64"' in await reader.readexactly(length):
                path += "#base64"
            ctype, body = next(v for k, v in bodies.items() if path.startswith(k))
            writer.write(
                b"HTTP/1.1 200 OK\r\ncontent-type: " + ctype
                + b"\r\ncontent-length: " + str(len(body)).encode() + b"\r\n\r\n" + body
            )  # fmt: skip
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        writer.close()


def start_upstream() -> int:
    bodies = upstream_bodies()
    ready: list[int] = []
    started = threading.Event()

    async def main() -> None:
        server = await asyncio.start_server(lambda r, w: _answer(r, w, bodies), "127.0.0.1", 0)
        ready.append(server.sockets[0].getsockname()[1])
        started.set()
        await server.serve_forever()

    threading.Thread(target=lambda: asyncio.run(main()), daemon=True).start()
    started.wait(10)
    return ready[0]


# --- the router ----------------------------------------------------------------------


async def seed(database_url: str, upstream: str) -> str:
    from sqlalchemy.ext.asyncio import async_sessionmaker

    from model_router.db.engine import make_engine
    from model_router.services.catalogue_admin import (
        ModelSpec,
        add_model,
        add_provider,
        sync_catalogue,
    )
    from model_router.services.keys import create_key

    engine = make_engine(database_url)
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    await sync_catalogue(sessions)
    for name, protocol, upstream_model in (
        ("openai", "openai", "gpt-4o-mini"),
        ("openai-s50", "openai", "gpt-4o-mini"),
        ("openai-s10", "openai", "gpt-4o-mini"),
        ("anthropic", "anthropic", "claude-haiku-4-5"),
        ("anthropic-s50", "anthropic", "claude-haiku-4-5"),
        ("anthropic-s10", "anthropic", "claude-haiku-4-5"),
    ):
        base = f"{upstream}/{name}" + ("/v1" if protocol == "openai" else "")
        await add_provider(
            sessions, f"b-{name}", base_url=base, api_key_setting=KEY_SETTING, protocol=protocol
        )
        model = "b-" + name.replace("anthropic", "claude")
        price = (Decimal("0.15"), Decimal("0.075"), Decimal("0.6"))
        await add_model(
            sessions,
            ModelSpec(
                provider=f"b-{name}",
                model_id=model,
                upstream_model=upstream_model,
                input_price=price[0],
                cached_input_price=price[1],
                output_price=price[2],
            ),
        )
    # The catalogue's embedding model answers from the upstream too (float vectors:
    # base64 when asked).
    await add_provider(
        sessions, "openai", base_url=f"{upstream}/openai/v1", api_key_setting=KEY_SETTING
    )
    _, key = await create_key(sessions, "bench")
    await engine.dispose()
    return str(key)


class RouterThread:
    def __init__(self, settings: Any) -> None:
        import uvicorn
        import uvloop

        from model_router.app import create_app

        config = uvicorn.Config(
            create_app(settings),
            host="127.0.0.1",
            port=0,
            log_level="warning",
            http="httptools",
            lifespan="on",
            access_log=False,
            server_header=False,
        )
        self.server = uvicorn.Server(config)
        self.loop: asyncio.AbstractEventLoop | None = None

        def run() -> None:
            async def main() -> None:
                self.loop = asyncio.get_running_loop()
                await self.server.serve()

            with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
                runner.run(main())

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise SystemExit("the router did not start")
            time.sleep(0.01)
        self.port = self.server.servers[0].sockets[0].getsockname()[1]

    def on_loop(self, fn: Any) -> None:
        """Run `fn()` on the router's loop thread and wait for it."""
        done = threading.Event()

        def call() -> None:
            fn()
            done.set()

        assert self.loop is not None
        self.loop.call_soon_threadsafe(call)
        done.wait(10)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)


# --- the client and the count ----------------------------------------------------------


def send(conn: http.client.HTTPConnection, key: str, path: Path_, body: bytes) -> None:
    conn.request(
        "POST",
        path.url,
        body,
        {"authorization": f"Bearer {key}", "x-api-key": key, "content-type": "application/json"},
    )
    response = conn.getresponse()
    data = response.read()
    if response.status != 200:
        raise SystemExit(f"{path.name}: {response.status} {data[:300]!r}")


def measure(
    router: RouterThread, key: str, path: Path_, n: int, flush: float
) -> tuple[pstats.Stats, float]:
    """The calls made for `n` requests, and the router thread's CPU seconds for
    another `n` without the profiler (CPU time, not wall clock: less sensitive to
    the machine's other load, yet still noisy)."""
    import orjson

    body = orjson.dumps(path.body)
    conn = http.client.HTTPConnection("127.0.0.1", router.port)
    for _ in range(20):
        send(conn, key, path, body)
    time.sleep(flush * 2)  # the warm-up's rows written
    assert router.thread.ident is not None
    clock = time.pthread_getcpuclockid(router.thread.ident)
    cpu = time.clock_gettime(clock)
    for _ in range(n):
        send(conn, key, path, body)
    time.sleep(flush * 2.5)
    cpu = time.clock_gettime(clock) - cpu
    profile = cProfile.Profile()
    router.on_loop(profile.enable)
    for _ in range(n):
        send(conn, key, path, body)
    time.sleep(flush * 2.5)  # this window's rows written
    router.on_loop(profile.disable)
    conn.close()
    return pstats.Stats(profile), cpu


def counts(stats: pstats.Stats) -> tuple[int, int]:
    total = python = 0
    for (filename, _line, _name), (_cc, nc, *_rest) in stats.stats.items():  # type: ignore[attr-defined]
        total += nc
        if filename != "~":
            python += nc
    return total, python


def top(stats: pstats.Stats, n_requests: int, k: int) -> list[str]:
    rows = sorted(stats.stats.items(), key=lambda item: -item[1][1])  # type: ignore[attr-defined]
    out = []
    for (filename, line, name), (_cc, nc, *_rest) in rows[:k]:
        where = name if filename == "~" else f"{_short(filename)}:{line}({name})"
        out.append(f"    {nc / n_requests:8.2f}  {where}")
    return out


def _short(filename: str) -> str:
    for marker in ("/model_router/", "/site-packages/", "/lib/python3"):
        if marker in filename:
            return filename.split(marker, 1)[1]
    return filename


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=300, help="requests per path (default 300)")
    parser.add_argument("--top", type=int, default=0, help="print the K most called functions")
    parser.add_argument("--path", action="append", help="only the paths whose name starts so")
    parser.add_argument("--dump", type=Path, help="write each path's cProfile stats in this folder")
    args = parser.parse_args()

    from model_router.cli import upgrade_database
    from model_router.settings import Settings

    os.environ[KEY_SETTING] = "sk-bench-upstream-key-not-secret"
    workdir = tempfile.TemporaryDirectory(prefix="mr-calls-")
    database_url = f"sqlite+aiosqlite:///{workdir.name}/router.db"
    upgrade_database(database_url)
    upstream = f"http://127.0.0.1:{start_upstream()}"
    key = asyncio.run(seed(database_url, upstream))
    # Production defaults, but the timers that run per second rather than per
    # request slowed down: a slower run (a busy machine) would count more of them.
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        database_url=database_url,
        log_level="warning",
        request_log_flush_interval=1.0,
        key_cache_refresh_seconds=3600,
        experiments_refresh_seconds=3600,
        learned_routing_refresh_seconds=3600,
        webhook_poll_seconds=3600,
    )
    router = RouterThread(settings)
    results: dict[str, tuple[int, int]] = {}
    try:
        chosen = [
            p for p in paths() if not args.path or any(p.name.startswith(x) for x in args.path)
        ]
        print(f"{'path':<22} {'calls/req':>10} {'python/req':>11} {'cpu us/req':>11}")
        for path in chosen:
            stats, cpu = measure(router, key, path, args.n, settings.request_log_flush_interval)
            total, python = counts(stats)
            results[path.name] = (total, python)
            if args.dump:
                args.dump.mkdir(parents=True, exist_ok=True)
                stats.dump_stats(str(args.dump / (path.name.replace(" ", "_") + ".prof")))
            print(
                f"{path.name:<22} {total / args.n:>10.1f} {python / args.n:>11.1f}"
                f" {cpu / args.n * 1e6:>11.0f}"
            )
            if args.top:
                print("\n".join(top(stats, args.n, args.top)))
        for name in ("chat stream", "messages stream", "responses stream"):
            if name in results and f"{name} (10)" in results:
                long, short = results[name], results[f"{name} (10)"]
                per = [(a - b) / args.n / 40 for a, b in zip(long, short, strict=True)]
                print(f"{name + ' per chunk':<22} {per[0]:>10.1f} {per[1]:>11.1f}")
    finally:
        router.stop()
        workdir.cleanup()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
