"""The upstream HTTP client's own guarantees, against a server written byte by byte.

`RawServer` listens on loopback in the test's own event loop; each connection
runs the test's handler, which reads requests and writes exactly the bytes the
test wants (a cut head, a stalled body, garbage). No database, no router.
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import anyio
import pytest

from model_router.providers.transport import (
    HIGH_WATER,
    ConnectError,
    ConnectionClosed,
    HttpClient,
    ProtocolError,
    ReadTimeout,
)

pytestmark = pytest.mark.anyio

BOUND = 5.0  # seconds before a wait that should end at once is a failure, not a hang


@dataclass
class Request:
    method: str
    target: str
    version: str
    headers: list[tuple[str, str]]
    body: bytes

    def values(self, name: str) -> list[str]:
        return [value for key, value in self.headers if key.lower() == name]


@dataclass
class Peer:
    """One accepted connection, as the handler sees it."""

    index: int
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    server: RawServer

    async def next_request(self) -> Request | None:
        """The next request on this connection; None at EOF (or a reset)."""
        try:
            head = await self.reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, ConnectionError):
            return None
        line, *lines = head[:-4].decode("latin-1").split("\r\n")
        method, target, version = line.split(" ")
        headers = [(n.strip(), v.strip()) for n, _, v in (h.partition(":") for h in lines)]
        length = sum(int(v) for n, v in headers if n.lower() == "content-length")
        body = await self.reader.readexactly(length)
        request = Request(method, target, version, headers, body)
        self.server.requests.append((self.index, request))
        self.server.raw += head + body
        return request

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def until_eof(self) -> None:
        """Read (and drop) until the client closes its side."""
        with contextlib.suppress(ConnectionError):
            while await self.reader.read(65536):
                pass
        self.server.eof.set()

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(ConnectionError):
            await self.writer.wait_closed()


Handler = Callable[[Peer], Awaitable[None]]


@dataclass
class RawServer:
    handler: Handler
    port: int = 0
    connections: int = 0
    requests: list[tuple[int, Request]] = field(default_factory=list)
    raw: bytes = b""  # every request byte received, on every connection
    eof: asyncio.Event = field(default_factory=asyncio.Event)  # a client closed its side
    errors: list[Exception] = field(default_factory=list)
    _tasks: set[asyncio.Task[Any]] = field(default_factory=set)
    _writers: set[asyncio.StreamWriter] = field(default_factory=set)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self._writers.add(writer)
        peer = Peer(self.connections, reader, writer, self)
        self.connections += 1
        try:
            await self.handler(peer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        except Exception as exc:  # a handler's own assertion: the test fails on it
            self.errors.append(exc)
        finally:
            writer.transport.abort()


@asynccontextmanager
async def serving(handler: Handler) -> AsyncIterator[RawServer]:
    server = RawServer(handler)
    listener = await asyncio.start_server(server._serve, "127.0.0.1", 0)
    server.port = listener.sockets[0].getsockname()[1]
    try:
        yield server
    finally:
        listener.close()
        for writer in server._writers:
            writer.transport.abort()  # the handlers see their connection gone and end
        if server._tasks:
            _, stuck = await asyncio.wait(server._tasks, timeout=BOUND)
            for task in stuck:
                task.cancel()
        await listener.wait_closed()
    assert not server.errors, server.errors


@asynccontextmanager
async def http_client(
    *, read_timeout: float = BOUND, max_connections: int = 10
) -> AsyncIterator[HttpClient]:
    client = HttpClient(
        connect_timeout=BOUND, read_timeout=read_timeout, max_connections=max_connections
    )
    try:
        yield client
    finally:
        await client.aclose()


def ok(body: bytes, *extra: str) -> bytes:
    head = ["HTTP/1.1 200 OK", f"content-length: {len(body)}", *extra]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


def chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


async def echo(peer: Peer) -> None:
    """Keep-alive: answer every request with its own body."""
    while (request := await peer.next_request()) is not None:
        await peer.send(ok(request.body))


async def answer_all(peer: Peer, body: bytes) -> None:
    """Keep-alive: answer every request with `body`, in one write."""
    while await peer.next_request() is not None:
        await peer.send(ok(body))


async def hang(peer: Peer) -> None:
    """Read the request, never answer."""
    await peer.next_request()
    await peer.until_eof()


async def fetch(client: HttpClient, url: str, body: bytes = b"") -> bytes:
    response = await client.request("POST", url, body, {})
    assert response.status == 200
    return await response.read()


async def collect(client: HttpClient, url: str, body: bytes = b"") -> list[bytes]:
    response = await client.request("POST", url, body, {})
    try:
        return [data async for data in response.chunks()]
    finally:
        response.close()


# -- 1. keep-alive ---------------------------------------------------------------


async def test_sequential_requests_share_one_connection() -> None:
    async with serving(echo) as server, http_client() as client:
        for n in range(20):
            body = b"request %d " % n * (n + 1)
            if n % 2:
                assert b"".join(await collect(client, f"{server.url}/v1", body)) == body
            else:
                assert await fetch(client, f"{server.url}/v1", body) == body
        assert server.connections == 1
        assert [request.body for _, request in server.requests] == [
            b"request %d " % n * (n + 1) for n in range(20)
        ]


# -- 2. a connection the server closed -------------------------------------------


async def test_connection_closed_while_idle_is_replaced() -> None:
    closed = asyncio.Event()

    async def answer_once(peer: Peer) -> None:
        request = await peer.next_request()
        assert request is not None
        await peer.send(ok(request.body))  # keep-alive, then gone
        await peer.close()
        closed.set()

    async with serving(answer_once) as server, http_client() as client:
        assert await fetch(client, server.url, b"one") == b"one"
        with anyio.fail_after(BOUND):
            await closed.wait()
        assert await fetch(client, server.url, b"two") == b"two"
        assert await fetch(client, server.url, b"three") == b"three"
        assert server.connections == 3


async def test_request_on_a_connection_closed_before_answering_is_sent_once_more() -> None:
    async def close_second_unanswered(peer: Peer) -> None:
        request = await peer.next_request()
        assert request is not None
        await peer.send(ok(request.body))
        if peer.index == 0:
            await peer.next_request()  # the race: closed just as the request came
            return
        await echo(peer)

    async with serving(close_second_unanswered) as server, http_client() as client:
        assert await fetch(client, server.url, b"first") == b"first"
        assert await fetch(client, server.url, b"second") == b"second"
        assert server.connections == 2
        bodies = [(index, request.body) for index, request in server.requests]
        assert bodies == [(0, b"first"), (0, b"second"), (1, b"second")]


async def test_a_request_is_sent_at_most_twice() -> None:
    async def answer_first_only(peer: Peer) -> None:
        request = await peer.next_request()
        if peer.index == 0 and request is not None:
            await peer.send(ok(b"first"))
            await peer.next_request()
        # every later request: closed unanswered

    async with serving(answer_first_only) as server, http_client() as client:
        assert await fetch(client, server.url) == b"first"
        with pytest.raises(ConnectionClosed):
            await client.request("POST", server.url, b"again", {})
        assert [request.body for _, request in server.requests] == [b"", b"again", b"again"]


@pytest.mark.parametrize(
    "partial",
    [b"HTTP/1.1 200 OK\r\ncontent-le", b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nabc"],
    ids=["in-head", "in-body"],
)
async def test_connection_closed_after_the_answer_began_is_not_retried(partial: bytes) -> None:
    async def cut_second(peer: Peer) -> None:
        await peer.next_request()
        await peer.send(ok(b"first"))
        if peer.index == 0:
            await peer.next_request()
            await peer.send(partial)
            return
        await echo(peer)  # a retry would succeed here

    async with serving(cut_second) as server, http_client() as client:
        assert await fetch(client, server.url) == b"first"
        with pytest.raises(ConnectionClosed):
            await fetch(client, server.url, b"second")
        assert server.connections == 1
        assert [index for index, _ in server.requests] == [0, 0]


@pytest.mark.parametrize(
    "head",
    [
        b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n",
        b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n" + chunk(b"y") + b"64\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked\r\n\r\n" + chunk(b"y") + b"64\r\n",
    ],
    ids=["content-length", "chunked", "chunked-capitalised"],
)
async def test_body_cut_short_raises_connection_closed(head: bytes) -> None:
    async def cut(peer: Peer) -> None:
        await peer.next_request()
        await peer.send(head + b"x" * 10)

    async with serving(cut) as server, http_client() as client:
        response = await client.request("POST", server.url, b"", {})
        with pytest.raises(ConnectionClosed):
            await response.read()


# -- 3. bodies -------------------------------------------------------------------

BODY = b"".join(b"line %d: %s\n" % (n, b"abcdefgh"[: n % 8] * 20) for n in range(500))


async def send_framed(peer: Peer, kind: str) -> None:
    parts = [BODY[i : i + 3000] for i in range(0, len(BODY), 3000)]
    if kind == "content-length":
        await peer.send(b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n\r\n" % len(BODY))
        for part in parts:
            await peer.send(part)
    elif kind == "chunked":
        await peer.send(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n")
        for part in parts:
            await peer.send(chunk(part))
        await peer.send(b"0\r\n\r\n")
    elif kind == "until-close":
        await peer.send(b"HTTP/1.1 200 OK\r\nconnection: close\r\n\r\n")
        for part in parts:
            await peer.send(part)
        await peer.close()
    elif kind == "gzip":
        packed = gzip.compress(BODY)
        head = b"HTTP/1.1 200 OK\r\ncontent-encoding: gzip\r\ncontent-length: %d\r\n\r\n"
        await peer.send(head % len(packed))
        for i in range(0, len(packed), 500):
            await peer.send(packed[i : i + 500])
    elif kind == "gzip-chunked":
        packed = gzip.compress(BODY)
        head = b"HTTP/1.1 200 OK\r\ncontent-encoding: gzip\r\ntransfer-encoding: chunked\r\n\r\n"
        await peer.send(head)
        for i in range(0, len(packed), 500):
            await peer.send(chunk(packed[i : i + 500]))
        await peer.send(b"0\r\n\r\n")
    else:
        raise AssertionError(kind)


@pytest.mark.parametrize("reading", ["read", "chunks"])
@pytest.mark.parametrize(
    "kind", ["content-length", "chunked", "until-close", "gzip", "gzip-chunked"]
)
async def test_bodies_are_read_whole(kind: str, reading: str) -> None:
    async def answer(peer: Peer) -> None:
        while await peer.next_request() is not None:
            await send_framed(peer, kind)

    async with serving(answer) as server, http_client() as client:
        for _ in range(2):  # and the connection is fit for the next answer (or replaced)
            if reading == "read":
                assert await fetch(client, server.url) == BODY
            else:
                assert b"".join(await collect(client, server.url)) == BODY
        assert server.connections == (2 if kind == "until-close" else 1)


async def test_chunks_yields_events_as_they_arrive() -> None:
    first = b'data: {"n": 1}\n\n'
    second = b'data: {"n": 2}\n\n'
    go = asyncio.Event()

    async def stream(peer: Peer) -> None:
        await peer.next_request()
        await peer.send(
            b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
            b"transfer-encoding: chunked\r\n\r\n" + chunk(first)
        )
        await go.wait()  # the second event only once the first was seen
        await peer.send(chunk(second) + b"0\r\n\r\n")
        await peer.until_eof()

    async with serving(stream) as server, http_client() as client:
        response = await client.request("POST", server.url, b"", {})
        assert response.headers["content-type"] == "text/event-stream"
        items = response.chunks()
        with anyio.fail_after(BOUND):
            assert await anext(items) == first
        go.set()
        with anyio.fail_after(BOUND):
            assert [data async for data in items] == [second]
        response.close()


# -- 4. read timeout -------------------------------------------------------------


async def test_silent_server_raises_read_timeout_and_frees_the_slot() -> None:
    async with (
        serving(hang) as silent,
        serving(echo) as healthy,
        http_client(read_timeout=0.2, max_connections=1) as client,
    ):
        with pytest.raises(ReadTimeout) as raised:
            await client.request("POST", silent.url, b"anyone?", {})
        assert isinstance(raised.value, TimeoutError)
        assert await fetch(client, healthy.url, b"yes") == b"yes"
        with anyio.fail_after(BOUND):
            await silent.eof.wait()  # the silent connection was closed, not kept


async def test_stalled_body_raises_read_timeout_and_frees_the_slot() -> None:
    async def stall(peer: Peer) -> None:
        await peer.next_request()
        await peer.send(b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nhalf")
        await peer.until_eof()

    async with (
        serving(stall) as stalled,
        serving(echo) as healthy,
        http_client(read_timeout=0.2, max_connections=1) as client,
    ):
        response = await client.request("POST", stalled.url, b"", {})
        with pytest.raises(ReadTimeout):
            await response.read()
        assert await fetch(client, healthy.url, b"yes") == b"yes"
        with anyio.fail_after(BOUND):
            await stalled.eof.wait()


# -- 5. closing a stream early ---------------------------------------------------


async def test_closing_a_stream_early_closes_its_connection() -> None:
    async def endless(peer: Peer) -> None:
        await peer.next_request()
        if peer.index == 0:
            head = b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n"
            await peer.send(head + chunk(b"data: 1\n\n"))
            await peer.until_eof()  # and no more tokens: the client went away
            return
        await peer.send(ok(b"fresh"))

    async with serving(endless) as server, http_client() as client:
        response = await client.request("POST", server.url, b"", {})
        items = response.chunks()
        with anyio.fail_after(BOUND):
            assert await anext(items) == b"data: 1\n\n"
        response.close()
        with anyio.fail_after(BOUND):
            await server.eof.wait()
        assert await fetch(client, server.url) == b"fresh"
        assert server.connections == 2


async def test_a_response_closed_unread_leaves_a_usable_connection() -> None:
    # More than the client buffers before it stops reading the socket, all arrived
    # but never read: the connection goes back to the pool and must still answer.
    body = b"a" * (HIGH_WATER + 10)
    async with (
        serving(lambda peer: answer_all(peer, body)) as server,
        http_client(read_timeout=0.5) as client,
    ):
        response = await client.request("POST", server.url, b"", {})
        conn = response._conn
        assert conn is not None
        for _ in range(500):  # until the whole body is in (the client's state: no clock)
            if conn.complete:
                break
            await asyncio.sleep(0.01)
        assert conn.complete
        response.close()
        assert await fetch(client, server.url) == body


# -- 6. header injection ---------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {"x-note": "a\r\nx-injected: 1"},
        {"x-note": "a\nx-injected: 1"},
        {"x-note": "a\rx-injected: 1"},
        {"x-note\r\nx-injected": "1"},
        {"x-note": "price in \u20ac"},
    ],
    ids=["crlf-value", "lf-value", "cr-value", "crlf-name", "not-latin-1"],
)
async def test_header_with_a_line_break_is_refused_unsent(headers: dict[str, str]) -> None:
    async with serving(echo) as server, http_client(max_connections=1) as client:
        for _ in range(2):
            with pytest.raises(ConnectError):
                await client.request("POST", server.url, b"bad", headers)
        assert await fetch(client, server.url, b"good") == b"good"
        assert server.connections == 1
        assert [request.body for _, request in server.requests] == [b"good"]
        assert b"injected" not in server.raw


# -- 7. the request on the wire --------------------------------------------------


async def test_request_on_the_wire() -> None:
    async with serving(echo) as server, http_client() as client:
        body = b'{"model": "m", "messages": []}'
        headers = {"authorization": "Bearer sk-1", "Content-Type": "application/json"}
        url = f"{server.url}/v1/chat/completions?stream=true&q=a%20b"
        assert await (await client.request("POST", url, body, headers)).read() == body
        assert await fetch(client, server.url) == b""
        await (await client.request("GET", f"{server.url}?x=1", b"", {})).read()

    (_, sent), (_, bare), (_, get) = server.requests
    assert (sent.method, sent.target, sent.version) == (
        "POST",
        "/v1/chat/completions?stream=true&q=a%20b",
        "HTTP/1.1",
    )
    assert sent.values("host") == [f"127.0.0.1:{server.port}"]
    assert sent.values("content-length") == [str(len(body))]
    assert sent.values("authorization") == ["Bearer sk-1"]
    assert sent.values("content-type") == ["application/json"]
    assert sent.values("user-agent") == ["model-router"]
    assert sent.body == body
    assert (bare.method, bare.target, bare.values("content-length")) == ("POST", "/", ["0"])
    assert (get.method, get.target) == ("GET", "/?x=1")


async def test_given_user_agent_replaces_the_default() -> None:
    async with serving(echo) as server, http_client() as client:
        await (await client.request("POST", server.url, b"", {"User-Agent": "app/2"})).read()
    [(_, sent)] = server.requests
    assert sent.values("user-agent") == ["app/2"]


@pytest.mark.parametrize(
    ("url", "host"),
    [
        ("https://api.example.com/v1/chat", "api.example.com"),
        ("https://api.example.com:443/v1", "api.example.com"),
        ("http://example.com:80/v1", "example.com"),
        ("https://example.com:8443/v1", "example.com:8443"),
        ("http://[::1]:8080/v1", "[::1]:8080"),
    ],
)
async def test_host_header_names_the_port_only_when_not_the_default(url: str, host: str) -> None:
    async with http_client() as client:
        head = client._head("POST", client._origin(url), {}, 0).decode("latin-1").split("\r\n")
    assert f"host: {host}" in head


# -- 8. invalid HTTP -------------------------------------------------------------


@pytest.mark.parametrize(
    "answer",
    [
        b"SSH-2.0-OpenSSH_9.6\r\n\r\n",
        b"HTTP/1.1 2x0 OK\r\ncontent-length: 0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\ncontent-length: ten\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nno colon here\r\ncontent-length: 0\r\n\r\n",
        b"HTTP/1.1 101 Switching Protocols\r\nconnection: upgrade\r\nupgrade: h2c\r\n\r\n",
    ],
    ids=["not-http", "bad-status", "bad-length", "bad-header", "upgrade"],
)
async def test_invalid_head_raises_protocol_error(answer: bytes) -> None:
    async def garbage(peer: Peer) -> None:
        await peer.next_request()
        await peer.send(answer)
        await peer.until_eof()

    async with serving(garbage) as server, http_client() as client:
        with pytest.raises(ProtocolError):
            await client.request("POST", server.url, b"", {})


@pytest.mark.parametrize(
    "answer",
    [
        b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\nzz\r\n",
        b"HTTP/1.1 200 OK\r\ncontent-encoding: gzip\r\ncontent-length: 9\r\n\r\nnot gzip!",
    ],
    ids=["bad-chunk-size", "bad-gzip"],
)
@pytest.mark.parametrize("reading", ["read", "chunks"])
async def test_invalid_body_raises_protocol_error(answer: bytes, reading: str) -> None:
    async def garbage(peer: Peer) -> None:
        await peer.next_request()
        await peer.send(answer)
        await peer.until_eof()

    async with serving(garbage) as server, http_client() as client:
        read = fetch if reading == "read" else collect
        with pytest.raises(ProtocolError):
            await read(client, server.url)
