"""HTTP plumbing shared by the adapters: sending, error mapping, SSE framing.

The upstream client is our own (`providers/transport.py`): measured on this
project's benchmark, httpx 0.28 cost ~2.2 ms of client time per call, aiohttp
~0.3 ms (a quarter of a worker's CPU under load), and the gateway's own
overhead is the product.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager, suppress
from typing import Any

import orjson

from model_router.errors import (
    UpstreamError,
    UpstreamRateLimited,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from model_router.providers.transport import ConnectError, HttpClient, Response, TransportError

# (message, type, code, param) read from a provider's error body.
ErrorFields = tuple[str | None, str | None, str | None, str | None]
ErrorParser = Callable[[Any], ErrorFields]
# (provider, status, headers, raw body) -> error: for providers whose error
# mapping needs more than `error_from_response` reads (status rewrites, retry-after
# from the body).
ErrorMapper = Callable[[str, int, Mapping[str, str], bytes], UpstreamError]
Client = HttpClient
NO_HEADERS: Mapping[str, str] = {}

_SECRET = re.compile(
    r"(sk-[A-Za-z0-9_\-]{6})[A-Za-z0-9_\-]+|(AIza[0-9A-Za-z_\-]{4})[0-9A-Za-z_\-]+"
)
MAX_ERROR_BODY = 2000


def redact(text: str) -> str:
    """Cut anything that looks like a provider key out of an upstream body."""
    return _SECRET.sub(lambda m: (m.group(1) or m.group(2)) + "…", text)[:MAX_ERROR_BODY]


def retry_after_seconds(headers: Mapping[str, str]) -> str | None:
    if value := headers.get("retry-after"):
        return str(value)
    if value := headers.get("retry-after-ms"):
        try:
            return str(max(1, round(float(value) / 1000)))
        except ValueError:
            return None
    return None


def error_from_response(
    provider: str,
    status: int,
    headers: Mapping[str, str],
    raw: bytes,
    parse: ErrorParser,
    retry_after: str | None = None,
) -> UpstreamError:
    """Map an upstream error response to our hierarchy, keeping its message."""
    text = redact(raw.decode("utf-8", "replace"))
    message: str | None = None
    etype = code = param = None
    with suppress(orjson.JSONDecodeError, TypeError, KeyError, AttributeError, IndexError):
        message, etype, code, param = parse(orjson.loads(raw))
    message = redact(message) if message else f"{provider} returned HTTP {status}"
    message = f"{provider}: {message}"
    retry_after = retry_after or retry_after_seconds(headers)
    common: dict[str, Any] = {
        "provider": provider,
        "upstream_status": status,
        "code": code,
        "param": param,
        "body": text,
    }
    if status == 429:
        return UpstreamRateLimited(
            message,
            status_code=429,
            error_type="rate_limit_error",
            retryable=True,
            headers={"retry-after": retry_after} if retry_after else None,
            **common,
        )
    if status in (400, 401, 403, 404, 409, 413, 422):
        return UpstreamError(
            message, status_code=status, error_type=etype or _TYPES.get(status), **common
        )
    if status in (408, 504):
        return UpstreamTimeout(message, status_code=504, error_type="timeout_error", **common)
    if status in (503, 529):
        return UpstreamUnavailable(
            message,
            status_code=503,
            error_type="service_unavailable",
            retryable=True,
            headers={"retry-after": retry_after} if retry_after else None,
            **common,
        )
    if status >= 500:
        return UpstreamUnavailable(
            message, status_code=502, error_type="upstream_error", retryable=True, **common
        )
    return UpstreamError(message, status_code=502, error_type="upstream_error", **common)


_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    409: "invalid_request_error",
    413: "invalid_request_error",
    422: "invalid_request_error",
}


TRANSPORT_ERRORS = (TransportError, TimeoutError)


def transport_error(provider: str, exc: BaseException) -> UpstreamError:
    """Map a failure to talk to the upstream at all."""
    if isinstance(exc, TimeoutError):
        return UpstreamTimeout(
            f"{provider}: the upstream did not answer in time ({type(exc).__name__})",
            provider=provider,
            status_code=504,
            error_type="timeout_error",
            retryable=True,
        )
    what = (
        "could not reach the upstream"
        if isinstance(exc, ConnectError)
        else "the upstream broke off"
    )
    return UpstreamUnavailable(
        f"{provider}: {what} ({type(exc).__name__})",
        provider=provider,
        status_code=502,
        error_type="upstream_error",
        retryable=True,
    )


def malformed(provider: str, what: str, status: int | None = 200) -> UpstreamError:
    return UpstreamUnavailable(
        f"{provider}: malformed upstream response ({what})",
        provider=provider,
        status_code=502,
        upstream_status=status,
        error_type="upstream_error",
    )


async def post(
    client: Client,
    provider: str,
    url: str,
    payload: dict[str, Any],
    headers: dict[str, str],
    parse_error: ErrorParser,
    *,
    map_error: ErrorMapper | None = None,
) -> bytes:
    """POST JSON, return the body of a success as it came (`decoded` reads it),
    or raise an UpstreamError."""
    try:
        # A whole non-streamed answer within the read timeout: a slow drip of bytes
        # restarts each wait for bytes and would hold the call forever.
        response = await client.request(
            "POST", url, orjson.dumps(payload), headers, whole_within=client.read_timeout
        )
        raw = await response.read()
        status = response.status
    except TRANSPORT_ERRORS as exc:
        raise transport_error(provider, exc) from exc
    if status >= 400:  # the headers are decoded only for an error (its retry-after)
        if map_error is not None:
            raise map_error(provider, status, response.headers, raw)
        raise error_from_response(provider, status, response.headers, raw, parse_error)
    return raw


def decoded(raw: bytes, provider: str) -> Any:
    """A success's JSON body, decoded; not JSON is a 502."""
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise malformed(provider, "body is not JSON") from exc


@asynccontextmanager
async def open_stream(
    client: Client,
    provider: str,
    url: str,
    payload: dict[str, Any],
    headers: dict[str, str],
    parse_error: ErrorParser,
    *,
    map_error: ErrorMapper | None = None,
) -> AsyncIterator[Response]:
    """POST and hold the response open for streaming; errors before the body raise.

    Leaving the block early (the client went away) closes the connection, which
    cancels the generation upstream.
    """
    try:
        response = await client.request("POST", url, orjson.dumps(payload), headers)
    except TRANSPORT_ERRORS as exc:
        raise transport_error(provider, exc) from exc
    try:
        if response.status >= 400:
            try:
                raw = await response.read()
            except TRANSPORT_ERRORS as exc:
                raise transport_error(provider, exc) from exc
            if map_error is not None:
                raise map_error(provider, response.status, response.headers, raw)
            raise error_from_response(provider, response.status, response.headers, raw, parse_error)
        yield response
    finally:
        response.close()


async def sse_batches(
    response: Response, provider: str
) -> AsyncIterator[list[tuple[str | None, bytes]]]:
    """Yield, for each network read, the (event name, data) of the Server-Sent
    Events it completed: one await per read, not one per event or line."""
    event: str | None = None
    data: list[bytes] = []
    pending = b""
    try:
        async for received in response.chunks():
            lines = (pending + received).split(b"\n") if pending else received.split(b"\n")
            pending = lines.pop()
            batch: list[tuple[str | None, bytes]] = []
            for raw in lines:
                line = raw[:-1] if raw.endswith(b"\r") else raw
                if not line:
                    if data:
                        batch.append((event, b"\n".join(data) if len(data) > 1 else data[0]))
                    event, data = None, []
                elif line.startswith(b"data:"):
                    data.append(line[6:] if line.startswith(b"data: ") else line[5:])
                elif line.startswith(b"event:"):
                    event = line[6:].strip().decode()
            if batch:
                yield batch
    except TRANSPORT_ERRORS as exc:
        raise transport_error(provider, exc) from exc
    if pending.startswith(b"data:"):
        data.append(pending[5:].lstrip(b" "))
    if data:
        yield [(event, b"\n".join(data))]


async def sse_json_batches(
    response: Response, provider: str, what: str
) -> AsyncIterator[list[tuple[str | None, Any, bytes]]]:
    """`sse_batches` with each event's data decoded from JSON, and as received
    (for a pass-through); `what` names an event in the error when one is not JSON."""
    async for batch in sse_batches(response, provider):
        decoded: list[tuple[str | None, Any, bytes]] = []
        for event, data in batch:
            try:
                decoded.append((event, orjson.loads(data), data))
            except orjson.JSONDecodeError as exc:
                raise malformed(provider, f"{what} is not JSON") from exc
        yield decoded
