"""The real `model-router serve`: draining on SIGTERM, waiting for the database,
and configuration errors that name the setting."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import subprocess
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from tests.conftest import PG_ADMIN_URL, _pg_admin
from tests.integration._serve import CLI, cli, new_key, router_env, serve
from tests.mocks.server import ServerThread, free_port

CHUNKS = 8
PACE = 0.25  # seconds between chunks: the stream lasts about two seconds


def _slow_upstream() -> Starlette:
    """An OpenAI-compatible upstream whose streams take a while."""

    async def chat(request: Request) -> Response:
        body = await request.json()
        base = {"id": "chatcmpl-slow", "object": "chat.completion.chunk", "created": 1}
        base["model"] = body["model"]
        if not body.get("stream"):
            message = {"role": "assistant", "content": "quick"}
            usage = {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4}
            return JSONResponse(
                {
                    **base,
                    "object": "chat.completion",
                    "usage": usage,
                    "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
                }
            )

        async def frames() -> AsyncIterator[bytes]:
            for i in range(CHUNKS):
                delta = {"content": f"part{i} "}
                choice = {"index": 0, "delta": delta, "finish_reason": None}
                yield f"data: {json.dumps({**base, 'choices': [choice]})}\n\n".encode()
                await asyncio.sleep(PACE)
            done = {"index": 0, "delta": {}, "finish_reason": "stop"}
            yield f"data: {json.dumps({**base, 'choices': [done]})}\n\n".encode()
            usage = {"prompt_tokens": 7, "completion_tokens": CHUNKS, "total_tokens": 7 + CHUNKS}
            yield f"data: {json.dumps({**base, 'choices': [], 'usage': usage})}\n\n".encode()
            yield b"data: [DONE]\n\n"

        return StreamingResponse(frames(), media_type="text/event-stream")

    return Starlette(routes=[Route("/v1/chat/completions", chat, methods=["POST"])])


@pytest.fixture(scope="module")
def slow_upstream() -> Iterator[str]:
    with ServerThread(_slow_upstream()) as server:
        yield f"{server.url}/v1"


def _rows(db: Path) -> list[tuple[str, int, int]]:
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT status, is_stream, output_tokens FROM requests").fetchall()
    return [(str(s), int(i), int(o)) for s, i, o in rows]


def test_an_in_flight_stream_finishes_during_sigterm_and_its_row_is_stored(
    tmp_path: Path, slow_upstream: str
) -> None:
    env = router_env(tmp_path, slow_upstream)
    cli(env, "bootstrap")
    key = new_key(env)
    body = {
        "model": "gpt-4o-mini",
        "stream": True,
        "messages": [{"role": "user", "content": "take your time"}],
    }
    with serve(env) as served:
        headers = {"authorization": f"Bearer {key}"}
        with (
            httpx.Client(base_url=served.url, headers=headers, timeout=30) as client,
            client.stream("POST", "/v1/chat/completions", json=body) as response,
        ):
            assert response.status_code == 200
            lines = response.iter_lines()
            first = next(line for line in lines if line.startswith("data: "))
            # The stream has begun: ask the server to stop now.
            served.process.send_signal(15)
            rest = [line for line in lines if line.startswith("data: ")]
        assert served.process.wait(timeout=30) in (0, -15)
    content = "".join(
        json.loads(line[6:])["choices"][0]["delta"].get("content") or ""
        for line in [first, *rest[:-1]]
        if json.loads(line[6:])["choices"]
    )
    assert content == "".join(f"part{i} " for i in range(CHUNKS))
    assert rest[-1] == "data: [DONE]"
    assert _rows(tmp_path / "router.db") == [("success", 1, CHUNKS)]


def test_ready_turns_503_while_draining_and_calls_still_succeed(
    tmp_path: Path, slow_upstream: str
) -> None:
    env = router_env(tmp_path, slow_upstream, SHUTDOWN_DRAIN_SECONDS="3")
    cli(env, "bootstrap")
    key = new_key(env)
    with serve(env) as served:
        assert httpx.get(f"{served.url}/ready").json()["status"] == "ready"
        served.process.send_signal(15)
        deadline = time.monotonic() + 2
        while (ready := httpx.get(f"{served.url}/ready")).status_code == 200:
            assert time.monotonic() < deadline, "/ready never turned 503"
            time.sleep(0.05)
        assert ready.status_code == 503 and ready.json() == {"status": "draining"}
        # Still serving until the drain period is over.
        body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "late"}]}
        reply = httpx.post(
            f"{served.url}/v1/chat/completions",
            json=body,
            headers={"authorization": f"Bearer {key}"},
        )
        assert reply.status_code == 200
        assert served.process.wait(timeout=30) in (0, -15)
    assert _rows(tmp_path / "router.db") == [("success", 0, 1)]


@pytest.mark.parametrize(
    ("name", "value", "reason"),
    [
        ("PORT", "70000", "less than or equal to 65535"),
        ("LOG_FORMAT", "xml", "'text' or 'json'"),
        ("SHUTDOWN_TIMEOUT", "-1", "greater than 0"),
        ("DATABASE_URL", "mysql://db/x", "sqlite:// or postgresql://"),
    ],
)
def test_a_bad_setting_stops_start_up_with_its_name_and_reason(
    tmp_path: Path, name: str, value: str, reason: str
) -> None:
    env = router_env(tmp_path, "http://127.0.0.1:9/v1", **{name: value})
    done = subprocess.run([*CLI, "serve"], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    (message,) = [line for line in done.stderr.splitlines() if line.strip()]
    assert name in message and reason in message
    assert "Traceback" not in done.stderr


def test_every_bad_setting_is_named_and_key_like_values_are_not_echoed(tmp_path: Path) -> None:
    env = router_env(
        tmp_path,
        "http://127.0.0.1:9/v1",
        OTEL_BSP_SCHEDULE_DELAY="soon",
        REDIS_KEY_PREFIX="hidden" * 30,
    )
    done = subprocess.run([*CLI, "serve"], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert "OTEL_BSP_SCHEDULE_DELAY" in done.stderr and "'soon'" in done.stderr
    assert "REDIS_KEY_PREFIX" in done.stderr and "hidden" not in done.stderr


class _Forwarder:
    """A TCP port that forwards to PostgreSQL once opened: a database coming up late."""

    def __init__(self, port: int, target: tuple[str, int]) -> None:
        self.port = port
        self.target = target
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        finally:
            writer.close()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(*self.target)
        try:
            await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))
        finally:
            writer.close()
            up_writer.close()

    def open(self) -> None:
        self.thread.start()
        started = asyncio.run_coroutine_threadsafe(
            asyncio.start_server(self._handle, "127.0.0.1", self.port), self.loop
        )
        self.server = started.result(timeout=5)

    def close(self) -> None:
        asyncio.run_coroutine_threadsafe(self._stop(), self.loop).result(timeout=5)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=5)
        self.loop.close()

    async def _stop(self) -> None:
        self.server.close()
        await self.server.wait_closed()
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def _pg_target() -> tuple[str, int]:
    hostport = PG_ADMIN_URL.split("@", 1)[1].split("/", 1)[0]
    host, _, port = hostport.partition(":")
    return host, int(port or 5432)


def test_start_up_waits_for_an_unreachable_database_and_says_so(tmp_path: Path) -> None:
    port = free_port()
    name = f"mr_test_{uuid.uuid4().hex[:10]}"
    _pg_admin(f'CREATE DATABASE "{name}"')
    user = PG_ADMIN_URL.split("//", 1)[1].split("@", 1)[0]
    try:
        direct = f"postgresql://{user}@{_pg_target()[0]}:{_pg_target()[1]}/{name}"
        cli(router_env(tmp_path, "http://127.0.0.1:9/v1", DATABASE_URL=direct), "bootstrap")
        late = f"postgresql://{user}@127.0.0.1:{port}/{name}"
        env = router_env(tmp_path, "http://127.0.0.1:9/v1", DATABASE_URL=late)
        env["STARTUP_DB_WAIT"] = "60"
        forwarder = _Forwarder(port, _pg_target())
        with serve(env, healthy=False) as served:
            deadline = time.monotonic() + 30
            while served.output().count("waiting for the database") < 2:
                assert served.process.poll() is None, served.output()
                assert time.monotonic() < deadline, served.output()
                time.sleep(0.1)
            assert f"127.0.0.1:{port}/{name}" in served.output()
            forwarder.open()
            try:
                served.wait_healthy(timeout=40)
                assert httpx.get(f"{served.url}/ready").json()["status"] == "ready"
                assert served.stop() in (0, -15)
            finally:
                forwarder.close()
    finally:
        _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_start_up_gives_up_after_the_wait_and_names_the_database(tmp_path: Path) -> None:
    port = free_port()
    url = f"postgresql://router:s3cret@127.0.0.1:{port}/model_router"
    env = router_env(tmp_path, "http://127.0.0.1:9/v1", DATABASE_URL=url, STARTUP_DB_WAIT="2")
    done = subprocess.run([*CLI, "serve"], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert "waiting for the database at" in done.stderr
    assert f"127.0.0.1:{port}/model_router did not answer within 2 s" in done.stderr
    assert "s3cret" not in done.stderr
