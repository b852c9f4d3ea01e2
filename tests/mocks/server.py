"""Run an ASGI app on a real loopback socket, in a background thread."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import uvicorn


@dataclass
class Recorded:
    """One request a mock received."""

    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: Any
    at: float = field(default_factory=time.monotonic)  # when it arrived


@dataclass
class MockState:
    requests: list[Recorded] = field(default_factory=list)
    # Set by a mock when a streaming client went away before the end.
    disconnects: int = 0
    # Scenarios the next requests take, first first, whatever their message says.
    script: list[str] = field(default_factory=list)

    def next_scenario(self, default: str) -> str:
        return self.script.pop(0) if self.script else default

    def last(self) -> Recorded:
        assert self.requests, "the mock received no request"
        return self.requests[-1]

    def clear(self) -> None:
        self.requests.clear()
        self.disconnects = 0
        self.script.clear()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ServerThread:
    """uvicorn in a thread: `with ServerThread(app) as s: s.url`."""

    def __init__(self, app: Any, *, lifespan: str = "off") -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(
            app,
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
            lifespan=lifespan,
            loop="asyncio",
            timeout_graceful_shutdown=5,
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        asyncio.run(self.server.serve())

    def __enter__(self) -> ServerThread:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the server thread did not start")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)
