"""The upstream HTTP client: HTTP/1.1 keep-alive pools on asyncio, parsed by httptools.

A gateway's client does one thing: POST a body to a few origins, again and
again, and read the answer whole or as it streams. General-purpose clients pay
per request for what a gateway never uses (cookie jars, redirects, middleware,
header multi-dicts, payload registries): aiohttp cost about a quarter of a
worker's CPU in the benchmark's profile. This one writes the request in one
`transport.write` and parses the answer with httptools (llhttp, the parser
uvicorn and Node.js use), straight from the protocol callbacks.

- `HttpClient.request()` sends and returns a `Response` once the status line and
  headers are in; its body is read whole (`read()`) or as it arrives (`chunks()`).
- Connections are kept alive per origin (most recently used first) for
  `keepalive` seconds, and at most `max_connections` are in use at once.
- A kept-alive connection the server closed while it sat idle fails before any
  answer: the request is sent again once on a new connection.
- Timeouts: `connect_timeout` for a connection (and a free slot in the pool);
  `read_timeout` for each wait for bytes, so a stream lives as long as tokens
  keep coming; `request(..., whole_within=...)` bounds a whole answer.
- gzip and deflate bodies are decoded, though the client does not ask for them.
- TLS through the standard library's default context (system CAs), made on the
  first https connection.
"""

from __future__ import annotations

import asyncio
import ssl
import time
import zlib
from collections import deque
from collections.abc import AsyncIterator, Mapping
from typing import Any
from urllib.parse import urlsplit

import httptools

HIGH_WATER = 256 * 1024  # buffered body bytes before the socket stops being read
URL_CACHE = 256


class TransportError(Exception):
    """The upstream could not be reached, or broke the exchange."""


class ConnectError(TransportError):
    """No connection could be made."""


class ReadTimeout(TransportError, TimeoutError):
    """The upstream sent nothing for too long."""


class ConnectionClosed(TransportError):
    """The connection ended before the answer did."""


class ProtocolError(TransportError):
    """The upstream's answer was not valid HTTP/1.1."""


class _Origin:
    __slots__ = ("host", "host_header", "key", "port", "secure", "target")

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConnectError(f"not an http(s) URL: {url!r}")
        self.secure = parts.scheme == "https"
        self.host = parts.hostname
        self.port = parts.port or (443 if self.secure else 80)
        default = 443 if self.secure else 80
        name = f"[{self.host}]" if ":" in self.host else self.host
        self.host_header = name if self.port == default else f"{name}:{self.port}"
        self.target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        self.key = (parts.scheme, self.host, self.port)


class _Connection(asyncio.Protocol):
    """One socket and the answer being read from it (httptools calls back here)."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self.idle_since = 0.0
        self.deadline: float | None = None  # the whole answer's, when bounded
        self._reset()

    def _reset(self) -> None:
        self._parser = httptools.HttpResponseParser(self)
        self.status = 0
        self.raw_headers: list[tuple[bytes, bytes]] = []  # decoded only when read
        self.headers_done = False
        self.complete = False
        self.keep_alive = False
        self.received = False  # any byte of the answer
        self.error: BaseException | None = None
        self._body: deque[bytes] = deque()
        self._buffered = 0
        self._paused = False
        self._waiter: asyncio.Future[None] | None = None
        self._decoder: Any = None
        self._until_eof = False

    # -- asyncio.Protocol --------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.received = True
        try:
            self._parser.feed_data(data)
        except (httptools.HttpParserError, httptools.HttpParserUpgrade) as exc:
            self._fail(ProtocolError(f"invalid HTTP from the upstream: {exc}"))
            self.close()

    def eof_received(self) -> bool:
        return False  # close our side too: connection_lost follows

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self.complete:
            return
        if exc is None and self.headers_done and self._until_eof:
            self.complete = True  # a body delimited by the end of the connection
            self._flush_decoder()
            self._wake()
            return
        self._fail(ConnectionClosed(f"the upstream closed the connection ({exc or 'EOF'})"))

    def pause_writing(self) -> None:  # bodies are written whole; nothing to pause
        pass

    def resume_writing(self) -> None:
        pass

    # -- httptools callbacks -----------------------------------------------------
    def on_header(self, name: bytes, value: bytes) -> None:
        self.raw_headers.append((name, value))

    def on_headers_complete(self) -> None:
        self.status = self._parser.get_status_code()
        self.keep_alive = self._parser.should_keep_alive()
        sized = chunked = False
        encoding = b""
        for name, value in self.raw_headers:  # only what frames the body
            key = name.lower()
            if key == b"content-length":
                sized = True
            elif key == b"transfer-encoding":
                chunked = chunked or b"chunked" in value.lower()
            elif key == b"content-encoding":
                encoding = value.strip().lower()
        self._until_eof = not sized and not chunked
        if encoding in (b"gzip", b"x-gzip"):
            self._decoder = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif encoding == b"deflate":
            self._decoder = zlib.decompressobj()
        self.headers_done = True
        self._wake()

    def on_body(self, body: bytes) -> None:
        if self._decoder is not None:
            try:
                body = self._decoder.decompress(body)
            except zlib.error as exc:
                self._fail(ProtocolError(f"undecodable body (content-encoding): {exc}"))
                self.close()
                return
            if not body:
                return
        self._body.append(body)
        self._buffered += len(body)
        if self._buffered > HIGH_WATER and not self._paused and self.transport is not None:
            self._paused = True
            self.transport.pause_reading()
        self._wake()

    def on_message_complete(self) -> None:
        self._flush_decoder()
        self.complete = True
        self._wake()

    # -- our side ----------------------------------------------------------------
    def _flush_decoder(self) -> None:
        if self._decoder is not None:
            rest = self._decoder.flush()
            if rest:
                self._body.append(rest)
            self._decoder = None

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _fail(self, error: BaseException) -> None:
        if self.error is None:
            self.error = error
        self._wake()

    async def wait(self, within: float) -> None:
        """Until the next callback, or `ReadTimeout` after `within` seconds.

        (A timer on one future: cheaper than `asyncio.timeout`, which this runs
        once per network read.)"""
        if self.error is not None:
            raise self.error
        if self.deadline is not None:
            within = min(within, self.deadline - self._loop.time())
            if within <= 0:
                raise ReadTimeout("the upstream's answer took too long")
        waiter = self._waiter = self._loop.create_future()
        timer = self._loop.call_later(within, _expire, waiter)
        try:
            await waiter
        finally:
            timer.cancel()
            self._waiter = None
        if self.error is not None:
            raise self.error

    def take(self) -> bytes | None:
        """The body bytes received so far (None if none)."""
        if not self._body:
            return None
        data = self._body.popleft() if len(self._body) == 1 else b"".join(self._body)
        self._body.clear()
        self._buffered = 0
        if self._paused and self.transport is not None:
            self._paused = False
            self.transport.resume_reading()
        return data

    def send(self, data: bytes) -> None:
        assert self.transport is not None
        if self._paused:  # the last answer was left unread past the high-water mark
            self.transport.resume_reading()
        self._reset()
        self.transport.write(data)

    def reusable(self) -> bool:
        return self.complete and self.keep_alive and not self.closed and self.error is None

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()


def _expire(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_exception(ReadTimeout("the upstream sent nothing in time"))


class Response:
    """Status and headers of an answer; the body is read with `read()` or `chunks()`.

    `close()` hands the connection back to the pool when the answer was read to
    its end, and closes it otherwise (which, mid-stream, tells the upstream to
    stop generating).
    """

    def __init__(self, client: HttpClient, origin: _Origin, conn: _Connection) -> None:
        self._client = client
        self._origin = origin
        self._conn: _Connection | None = conn
        self.status = conn.status
        self._raw_headers = conn.raw_headers
        self._headers: dict[str, str] | None = None

    @property
    def headers(self) -> Mapping[str, str]:
        """Lower-case names; a repeated header's values joined with ", "."""
        if self._headers is None:
            headers: dict[str, str] = {}
            for name, value in self._raw_headers:
                key, text = name.decode("latin-1").lower(), value.decode("latin-1")
                previous = headers.get(key)
                headers[key] = text if previous is None else f"{previous}, {text}"
            self._headers = headers
        return self._headers

    async def read(self) -> bytes:
        """The whole body (each wait for bytes bounded by the read timeout)."""
        conn = self._conn
        if conn is None:
            raise ConnectionClosed("the response was closed")
        parts: list[bytes] = []
        read_timeout = self._client.read_timeout
        try:
            while True:
                data = conn.take()
                if data is not None:
                    parts.append(data)
                if conn.complete:
                    break
                await conn.wait(read_timeout)
        finally:
            self.close()
        return parts[0] if len(parts) == 1 else b"".join(parts)

    async def chunks(self) -> AsyncIterator[bytes]:
        """The body as it arrives: one item per network read (or what piled up)."""
        conn = self._conn
        if conn is None:
            raise ConnectionClosed("the response was closed")
        read_timeout = self._client.read_timeout
        while True:
            data = conn.take()
            if data is not None:
                yield data
            elif conn.complete:
                return
            else:
                await conn.wait(read_timeout)

    def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            self._client.release(self._origin, conn)


class HttpClient:
    """Keep-alive connection pools, one per origin; see the module's docstring."""

    def __init__(
        self,
        *,
        connect_timeout: float,
        read_timeout: float,
        max_connections: int,
        keepalive: float = 60.0,
        user_agent: str = "model-router",
    ) -> None:
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.keepalive = keepalive
        self._slots = asyncio.Semaphore(max_connections)
        self._idle: dict[tuple[str, str, int], deque[_Connection]] = {}
        self._origins: dict[str, _Origin] = {}
        self._ssl: ssl.SSLContext | None = None
        self._user_agent = user_agent
        self._open: set[_Connection] = set()
        self.closed = False

    def _origin(self, url: str) -> _Origin:
        origin = self._origins.get(url)
        if origin is None:
            if len(self._origins) >= URL_CACHE:
                self._origins.clear()
            origin = self._origins[url] = _Origin(url)
        return origin

    def _head(self, method: str, origin: _Origin, headers: Mapping[str, str], length: int) -> bytes:
        lines = [f"{method} {origin.target} HTTP/1.1\r\nhost: {origin.host_header}\r\n"]
        agent = True
        for name, value in headers.items():
            if "\n" in value or "\r" in value or "\n" in name or "\r" in name:
                raise ConnectError(f"header {name!r} holds a line break")
            if agent and name.lower() == "user-agent":
                agent = False
            lines.append(f"{name}: {value}\r\n")
        if agent:
            lines.append(f"user-agent: {self._user_agent}\r\n")
        lines.append(f"content-length: {length}\r\n\r\n")
        try:
            return "".join(lines).encode("latin-1")
        except UnicodeEncodeError:
            raise ConnectError("a header holds a character HTTP/1.1 cannot carry") from None

    async def request(
        self,
        method: str,
        url: str,
        body: bytes,
        headers: Mapping[str, str],
        *,
        whole_within: float | None = None,
    ) -> Response:
        """Send the request; return once the status line and headers are in.

        `whole_within`: seconds for the whole answer, body included (`ReadTimeout`
        after); otherwise each wait for bytes is bounded, not the whole."""
        if self.closed:
            raise ConnectError("the client is closed")
        origin = self._origin(url)
        data = self._head(method, origin, headers, len(body)) + body
        loop = asyncio.get_running_loop()
        if self._slots.locked():  # a full pool: wait for a slot, within the connect timeout
            try:
                async with asyncio.timeout(self.connect_timeout):
                    await self._slots.acquire()
            except TimeoutError:
                raise ConnectError("no free connection in the pool in time") from None
        else:
            await self._slots.acquire()  # free: returns at once, no timer on the hot path
        try:
            for reused in (True, False):
                conn = self._idle_connection(origin) if reused else None
                if conn is None:
                    reused = False
                    conn = await self._connect(origin)
                conn.deadline = None if whole_within is None else loop.time() + whole_within
                conn.send(data)
                try:
                    while not conn.headers_done:
                        await conn.wait(self.read_timeout)
                except ConnectionClosed:
                    self._discard(conn)
                    if reused and not conn.received:
                        continue  # the server had closed it while idle: once more, anew
                    raise
                except BaseException:
                    self._discard(conn)
                    raise
                return Response(self, origin, conn)
            raise AssertionError("unreachable")  # pragma: no cover
        except BaseException:
            self._slots.release()
            raise

    def _idle_connection(self, origin: _Origin) -> _Connection | None:
        idle = self._idle.get(origin.key)
        if not idle:
            return None
        stale = time.monotonic() - self.keepalive
        while idle:
            conn = idle.pop()
            if not conn.closed and conn.idle_since > stale:
                return conn
            self._discard(conn)
        return None

    async def _connect(self, origin: _Origin) -> _Connection:
        loop = asyncio.get_running_loop()
        context: ssl.SSLContext | None = None
        if origin.secure:
            if self._ssl is None:
                self._ssl = ssl.create_default_context()
            context = self._ssl
        try:
            async with asyncio.timeout(self.connect_timeout):
                _, conn = await loop.create_connection(
                    lambda: _Connection(loop),
                    origin.host,
                    origin.port,
                    ssl=context,
                    server_hostname=origin.host if context else None,
                )
        except TimeoutError:
            raise ConnectError(f"connecting to {origin.host}:{origin.port} timed out") from None
        except OSError as exc:  # refused, unreachable, DNS, TLS
            raise ConnectError(f"could not connect to {origin.host}:{origin.port}: {exc}") from exc
        self._open.add(conn)
        return conn

    def release(self, origin: _Origin, conn: _Connection) -> None:
        """A response is done with its connection: back to the pool, or closed."""
        self._slots.release()
        if conn.reusable() and not self.closed:
            conn.idle_since = time.monotonic()
            self._idle.setdefault(origin.key, deque()).append(conn)
        else:
            self._discard(conn)

    def _discard(self, conn: _Connection) -> None:
        self._open.discard(conn)
        conn.close()

    async def __aenter__(self) -> HttpClient:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        self.closed = True
        for conn in list(self._open):
            conn.close()
        self._open.clear()
        self._idle.clear()
        await asyncio.sleep(0)  # let the transports finish closing
