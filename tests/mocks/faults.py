"""Servers that misbehave on purpose, on raw asyncio sockets.

`FaultServer` speaks just enough HTTP/1.1 to be an OpenAI-compatible upstream
gone wrong; the first path segment picks the fault, so a provider whose base
URL is `<url>/reset/v1` is reset mid-body on every call:

    reset       200 and half a JSON body, then a TCP reset
    reset-sse   200 text/event-stream, one chunk, then a TCP reset
    hang        reads the request, never answers
    drip        200 and a body that never ends, one byte every 50 ms
    badjson     200 application/json that is not JSON
    html        200 text/html (a proxy's error page)
    errorbody   200 application/json carrying an error object, no choices
    leaky       401 whose error message echoes the request's headers (its key)
    ok          a valid chat.completion (the control)

`TcpProxy` forwards a port to another (a database) until `cut()`, which resets
every connection and refuses new ones until `restore()`.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from typing import Any

import orjson

OK_BODY = orjson.dumps(
    {
        "id": "chatcmpl-fault-ok",
        "object": "chat.completion",
        "created": 1700000000,
        "model": "fault",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "fine"},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4},
    }
)
SCENARIOS = ("reset", "reset-sse", "hang", "drip", "badjson", "html", "errorbody", "leaky", "ok")


def _head(status: str, content_type: str, length: int | None = None) -> bytes:
    lines = [f"HTTP/1.1 {status}", f"content-type: {content_type}"]
    lines.append(f"content-length: {length}" if length is not None else "connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


class _LoopThread:
    """An asyncio loop in a daemon thread, for servers the tests start and stop."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def call(self, coro: Any, timeout: float = 10) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def stop(self) -> None:
        async def cancel_all() -> None:
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        with contextlib.suppress(Exception):
            self.call(cancel_all())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=10)
        self.loop.close()


class FaultServer:
    def __init__(self) -> None:
        self._runner = _LoopThread()
        self._server: asyncio.Server | None = None
        self.port = 0
        self.calls: dict[str, int] = {}
        self._live: set[asyncio.StreamWriter] = set()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> FaultServer:
        self._runner.start()
        self._server = self._runner.call(
            asyncio.start_server(self._serve, "127.0.0.1", 0, backlog=1024)
        )
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    def __exit__(self, *exc: object) -> None:
        async def close() -> None:
            if self._server is not None:
                self._server.close()
            for writer in list(self._live):
                writer.transport.abort()
            await asyncio.sleep(0.2)  # the handlers see their connection gone and end

        self._runner.call(close())
        self._runner.stop()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._live.add(writer)
        try:
            while True:  # keep-alive: one request after another on the connection
                head = await reader.readuntil(b"\r\n\r\n")
                request_line, *header_lines = head.decode("latin-1").split("\r\n")
                length = 0
                for line in header_lines:
                    name, _, value = line.partition(":")
                    if name.strip().lower() == "content-length":
                        length = int(value.strip())
                await reader.readexactly(length)
                scenario = request_line.split(" ")[1].split("/")[1]
                self.calls[scenario] = self.calls.get(scenario, 0) + 1
                if scenario == "leaky":  # echoes every request header, keys included
                    echo = " | ".join(header_lines)
                    body = orjson.dumps(
                        {"error": {"message": f"Bad key. You sent: {echo}", "type": "auth"}}
                    )
                    writer.write(_head("401 Unauthorized", "application/json", len(body)) + body)
                    await writer.drain()
                    continue
                if not await self._answer(scenario, reader, writer):
                    return
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
            pass
        finally:
            self._live.discard(writer)
            writer.transport.abort()

    async def _answer(
        self, scenario: str, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> bool:
        """Misbehave; True if the connection may serve another request."""
        if scenario == "ok":
            writer.write(_head("200 OK", "application/json", len(OK_BODY)) + OK_BODY)
            await writer.drain()
            return True
        if scenario == "reset":
            writer.write(_head("200 OK", "application/json", len(OK_BODY)) + OK_BODY[:40])
            await writer.drain()
            return False
        if scenario == "reset-sse":
            chunk = b'data: {"id":"c","object":"chat.completion.chunk","created":1,'
            chunk += b'"model":"f","choices":[{"index":0,"delta":{"content":"hi"}}]}\n\n'
            writer.write(_head("200 OK", "text/event-stream") + chunk)
            await writer.drain()
            await asyncio.sleep(0.01)
            return False
        if scenario == "hang":
            with contextlib.suppress(ConnectionError):
                await reader.read()  # until the client gives up and closes
            return False
        if scenario == "drip":
            writer.write(_head("200 OK", "application/json", 10_000_000) + b"{")
            while True:
                await asyncio.sleep(0.05)
                writer.write(b" ")
                await writer.drain()
        bodies = {
            "badjson": ("application/json", b'{"id": "chatcmpl-x", "choices": [{'),
            "html": ("text/html", b"<html><body><h1>502 Bad Gateway</h1></body></html>"),
            "errorbody": (
                "application/json",
                b'{"error": {"message": "The server is overloaded", "type": "server_error"}}',
            ),
        }
        content_type, body = bodies[scenario]
        writer.write(_head("200 OK", content_type, len(body)) + body)
        await writer.drain()
        return True


def refused_url() -> str:
    """A loopback URL where nothing listens: connections are refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


class TcpProxy:
    """127.0.0.1:<port> -> target, with a switch the test controls."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self._target = (target_host, target_port)
        self._runner = _LoopThread()
        self._server: asyncio.Server | None = None
        self._live: set[asyncio.StreamWriter] = set()
        self._open = True
        self.port = 0

    def __enter__(self) -> TcpProxy:
        self._runner.start()
        self._server = self._runner.call(asyncio.start_server(self._serve, "127.0.0.1", 0))
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    def __exit__(self, *exc: object) -> None:
        self.cut()
        if self._server is not None:
            self._server.close()
        self._runner.stop()

    def cut(self) -> None:
        """Reset every connection through the proxy; refuse new ones."""

        async def run() -> None:
            self._open = False
            for writer in list(self._live):
                writer.transport.abort()
            self._live.clear()

        self._runner.call(run())

    def restore(self) -> None:
        async def run() -> None:
            self._open = True

        self._runner.call(run())

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if not self._open:
            writer.transport.abort()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(*self._target)
        except OSError:
            writer.transport.abort()
            return
        self._live.update((writer, up_writer))
        try:
            await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))
        finally:
            for end in (writer, up_writer):
                self._live.discard(end)
                end.transport.abort()

    @staticmethod
    async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, OSError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        writer.transport.abort()
