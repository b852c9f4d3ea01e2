"""A real webhook receiver: an aiohttp server on a loopback socket, in a thread."""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import orjson
from aiohttp import web

from tests.mocks.server import free_port


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    at: float
    answered: int

    @property
    def event(self) -> dict[str, Any]:
        return dict(orjson.loads(self.body))


@dataclass
class Receiver:
    """Answers 500 to the first `fail_first` posts (or all, with `fail_all`),
    after `delay` seconds; records each post."""

    port: int = field(default_factory=free_port)
    fail_first: int = 0
    fail_all: bool = False
    delay: float = 0.0
    received: list[Received] = field(default_factory=list)
    finished: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        failing = self.fail_all or len(self.received) < self.fail_first
        status = 500 if failing else 200
        headers = {k.lower(): v for k, v in request.headers.items()}
        self.received.append(Received(headers, body, time.time(), status))
        if self.delay:
            await asyncio.sleep(self.delay)
        self.finished += 1
        return web.Response(status=status, text="no" if failing else "ok")

    def __enter__(self) -> Receiver:
        ready = threading.Event()
        self._loop = asyncio.new_event_loop()

        async def serve() -> None:
            app = web.Application()
            app.router.add_post("/hook", self._handle)
            self._runner = web.AppRunner(app)
            await self._runner.setup()
            await web.TCPSite(self._runner, "127.0.0.1", self.port).start()
            ready.set()

        def run() -> None:
            asyncio.set_event_loop(self._loop)
            self._loop.run_until_complete(serve())
            self._loop.run_forever()

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()
        assert ready.wait(10), "the receiver did not start"
        return self

    def __exit__(self, *exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()

    def wait_for(self, count: int, timeout: float = 15.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while len(self.received) < count:
            assert time.monotonic() < deadline, f"{len(self.received)} posts, expected {count}"
            time.sleep(0.05)
        return list(self.received)
