"""HTTP plumbing shared by the adapters: sending, error mapping, SSE framing."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from typing import Any

import httpx
import orjson

from model_router.errors import (
    UpstreamError,
    UpstreamRateLimited,
    UpstreamTimeout,
    UpstreamUnavailable,
)

# (message, type, code, param) read from a provider's error body.
ErrorFields = tuple[str | None, str | None, str | None, str | None]
ErrorParser = Callable[[Any], ErrorFields]
# (provider, status, headers, raw body) -> error: for providers whose error
# mapping needs more than `error_from_response` reads (status rewrites, retry-after
# from the body).
ErrorMapper = Callable[[str, int, httpx.Headers, bytes], UpstreamError]

_SECRET = re.compile(
    r"(sk-[A-Za-z0-9_\-]{6})[A-Za-z0-9_\-]+|(AIza[0-9A-Za-z_\-]{4})[0-9A-Za-z_\-]+"
)
MAX_ERROR_BODY = 2000


def redact(text: str) -> str:
    """Cut anything that looks like a provider key out of an upstream body."""
    return _SECRET.sub(lambda m: (m.group(1) or m.group(2)) + "…", text)[:MAX_ERROR_BODY]


def retry_after_seconds(headers: httpx.Headers) -> str | None:
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
    headers: httpx.Headers,
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


def transport_error(provider: str, exc: httpx.HTTPError) -> UpstreamError:
    """Map a failure to talk to the upstream at all."""
    if isinstance(exc, httpx.TimeoutException):
        return UpstreamTimeout(
            f"{provider}: the upstream did not answer in time ({type(exc).__name__})",
            provider=provider,
            status_code=504,
            error_type="timeout_error",
            retryable=True,
        )
    return UpstreamUnavailable(
        f"{provider}: could not reach the upstream ({type(exc).__name__})",
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


async def post_json(
    client: httpx.AsyncClient,
    provider: str,
    url: str,
    payload: dict[str, Any],
    headers: dict[str, str],
    parse_error: ErrorParser,
    *,
    map_error: ErrorMapper | None = None,
) -> Any:
    """POST JSON, return the decoded JSON body or raise an UpstreamError."""
    try:
        response = await client.post(url, content=orjson.dumps(payload), headers=headers)
    except httpx.HTTPError as exc:
        raise transport_error(provider, exc) from exc
    if response.status_code >= 400:
        if map_error is not None:
            raise map_error(provider, response.status_code, response.headers, response.content)
        raise error_from_response(
            provider, response.status_code, response.headers, response.content, parse_error
        )
    try:
        return orjson.loads(response.content)
    except orjson.JSONDecodeError as exc:
        raise malformed(provider, "body is not JSON", response.status_code) from exc


@asynccontextmanager
async def open_stream(
    client: httpx.AsyncClient,
    provider: str,
    url: str,
    payload: dict[str, Any],
    headers: dict[str, str],
    parse_error: ErrorParser,
    *,
    map_error: ErrorMapper | None = None,
) -> AsyncIterator[httpx.Response]:
    """POST and hold the response open for streaming; errors before the body raise."""
    request = client.build_request("POST", url, content=orjson.dumps(payload), headers=headers)
    try:
        response = await client.send(request, stream=True)
    except httpx.HTTPError as exc:
        raise transport_error(provider, exc) from exc
    try:
        if response.status_code >= 400:
            raw = await response.aread()
            if map_error is not None:
                raise map_error(provider, response.status_code, response.headers, raw)
            raise error_from_response(
                provider, response.status_code, response.headers, raw, parse_error
            )
        yield response
    finally:
        await response.aclose()


async def sse_events(
    response: httpx.Response, provider: str
) -> AsyncIterator[tuple[str | None, bytes]]:
    """Yield (event name, data) for each Server-Sent Event of a response."""
    event: str | None = None
    data: list[bytes] = []
    buffer = b""
    try:
        async for chunk in response.aiter_bytes():
            buffer += chunk
            while True:
                newline = buffer.find(b"\n")
                if newline < 0:
                    break
                line = buffer[:newline].rstrip(b"\r")
                buffer = buffer[newline + 1 :]
                if not line:
                    if data:
                        yield event, b"\n".join(data)
                    event, data = None, []
                elif line.startswith(b"data:"):
                    data.append(line[5:].lstrip(b" "))
                elif line.startswith(b"event:"):
                    event = line[6:].strip().decode()
    except httpx.HTTPError as exc:
        raise transport_error(provider, exc) from exc
    if data:
        yield event, b"\n".join(data)
