"""What every front door's route shares: read the body, hand the call to the
completion service, answer whole or streamed, and the plain-ASGI fast path.

Errors raised here are `RouterError`s; `serve_fast` (and the routes that do
not go through FastAPI's handlers) render them in the door's own shape.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel
from starlette.requests import ClientDisconnect
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from model_router.api.deps import AppState, api_key_in
from model_router.api.errors import door_error_response, unexpected_error_response
from model_router.calls import Call
from model_router.domain.keys import KeyInfo
from model_router.errors import InvalidRequest, PayloadTooLarge, RouterError
from model_router.frontdoors.base import Door
from model_router.jsonutil import JSONDecodeError, loads

MAX_JSON_DEPTH = 64

_REFS = "#/components/schemas/{model}"


def body_schema(model: type[BaseModel]) -> dict[str, Any]:
    """`openapi_extra` giving a route `model` as its JSON request body; the
    schemas it nests are the document's components (`install_body_schemas`)."""
    schema = model.model_json_schema(ref_template=_REFS)
    schema.pop("$defs", None)
    content = {"application/json": {"schema": schema}}
    return {"requestBody": {"required": True, "content": content}}


def install_body_schemas(app: FastAPI, models: list[type[BaseModel]]) -> None:
    """Add the schemas the bodies of `models` nest to the app's OpenAPI document."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = build()
            schemas = document.setdefault("components", {}).setdefault("schemas", {})
            for model in models:
                nested = model.model_json_schema(ref_template=_REFS).get("$defs", {})
                for name, schema in nested.items():
                    schemas.setdefault(name, schema)
        return app.openapi_schema or build()

    app.openapi = openapi  # type: ignore[method-assign]


async def read_json_object(
    headers: Mapping[str, str], chunks: AsyncIterator[bytes], limit: int
) -> dict[str, Any]:
    length = headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > limit:
        raise PayloadTooLarge(f"Request body is larger than {limit} bytes.")
    raw = bytearray()
    async for chunk in chunks:
        raw += chunk
        if len(raw) > limit:
            raise PayloadTooLarge(f"Request body is larger than {limit} bytes.")
    try:
        body = loads(raw)
    except JSONDecodeError as exc:
        raise InvalidRequest(f"The body is not valid JSON: {exc}", code="invalid_json") from None
    if not isinstance(body, dict):
        raise InvalidRequest("The body must be a JSON object.", code="invalid_json")
    # Nesting needs brackets: a body with few cannot be too deep, and is not walked.
    brackets = raw.count(b"{") + raw.count(b"[")
    if brackets > MAX_JSON_DEPTH and _nested_deeper_than(body, MAX_JSON_DEPTH):
        raise InvalidRequest(
            f"The body is nested more than {MAX_JSON_DEPTH} levels deep.", code="invalid_json"
        )
    return body


def _nested_deeper_than(value: dict[str, Any], limit: int) -> bool:
    """Whether objects and arrays nest deeper than `limit` (no recursion)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        children = node.values() if isinstance(node, dict) else node
        for child in children:
            if isinstance(child, dict | list):
                if depth >= limit:
                    return True
                stack.append((child, depth + 1))
    return False


async def respond(
    door: Door,
    headers: Mapping[str, str],
    chunks: AsyncIterator[bytes],
    key: KeyInfo,
    state: AppState,
) -> Response:
    """The call through `door`: a JSON answer, or an SSE stream; errors raise, recorded."""
    state.ops.saw_key(key)  # rows carry the key's id; metrics and logs show its prefix
    try:
        body = await read_json_object(headers, chunks, state.settings.max_request_bytes)
    except RouterError as exc:
        state.completions.reject(key, exc, door)
        raise
    return await answer(
        state, Call(key=key, body=body, front_door=door.name, headers=headers), door
    )


def _raw(headers: Mapping[str, str]) -> list[tuple[bytes, bytes]]:
    return [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]


_JSON = (b"content-type", b"application/json")
_SSE = [
    (b"cache-control", b"no-cache"),
    (b"x-accel-buffering", b"no"),
    (b"content-type", b"text/event-stream; charset=utf-8"),
]


class JSONAnswer(Response):
    """A JSON body already encoded, with the call's headers: Starlette's
    `Response` without its per-response header normalisation. `after` (the
    call's row) runs once the body is handed to the server, sent or not."""

    def __init__(self, body: bytes, headers: Mapping[str, str], after: Callable[[], None]) -> None:
        self.status_code = 200
        self.background = None
        self.body = body
        self.after = after
        raw = _raw(headers) if headers else []
        raw.append((b"content-length", str(len(body)).encode()))
        raw.append(_JSON)
        self.raw_headers = raw

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await send({"type": "http.response.start", "status": 200, "headers": self.raw_headers})
            await send({"type": "http.response.body", "body": self.body})
        finally:
            self.after()


class EventStream(Response):
    """Server-sent events, each frame sent as it comes. A client that goes away
    cancels the stream where it waits (its row says "client disconnected"),
    watched by one plain task rather than Starlette's task group."""

    def __init__(self, frames: AsyncIterator[bytes], headers: Mapping[str, str]) -> None:
        self.status_code = 200
        self.background = None
        self.frames = frames
        extra = _raw(headers) if headers else []
        names = {name for name, _ in extra}
        self.raw_headers = [h for h in _SSE if h[0] not in names] + extra

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        task = asyncio.current_task()
        assert task is not None
        gone = done = False

        async def watch() -> None:
            nonlocal gone
            while (await receive())["type"] != "http.disconnect":
                pass
            if not done:
                gone = True
                task.cancel()

        watcher = asyncio.ensure_future(watch())
        try:
            await send({"type": "http.response.start", "status": 200, "headers": self.raw_headers})
            async for chunk in self.frames:
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        except asyncio.CancelledError:
            if not gone:
                raise
            task.uncancel()
        finally:
            done = True
            watcher.cancel()
            aclose = getattr(self.frames, "aclose", None)
            if aclose is not None:  # a stream left between frames still writes its row
                await aclose()


async def answer(state: AppState, call: Call, door: Door) -> Response:
    """The service's answer to `call` as HTTP: server-sent events when the body
    asks for a stream, else JSON; an error keeps the call's response headers."""
    try:
        if call.body.get("stream") is True:
            frames = await state.completions.stream(call, door)
            return EventStream(frames, call.response_headers)
        result, record = await state.completions.complete(call, door)
    except RouterError as exc:
        exc.headers = {**call.response_headers, **exc.headers}
        raise
    return JSONAnswer(result, call.response_headers, record)


def headers_of(scope: Scope) -> dict[str, str]:
    """The request's headers as a dict, read once (ASGI gives names in lower case):
    a dozen lookups per call, each a scan of the list through Starlette's `Headers`."""
    return {name.decode("latin-1"): value.decode("latin-1") for name, value in scope["headers"]}


async def body_of(receive: Receive) -> AsyncIterator[bytes]:
    """The request body's chunks, straight from the ASGI messages."""
    while True:
        message = await receive()
        if message["type"] != "http.request":
            raise ClientDisconnect()
        yield message.get("body", b"")
        if not message.get("more_body", False):
            return


Create = Callable[[AppState, KeyInfo, Mapping[str, str], AsyncIterator[bytes]], Awaitable[Response]]
"""A route's own steps from an authenticated key to its response."""


async def serve_fast(
    door: Door | None,
    state: AppState,
    scope: Scope,
    receive: Receive,
    send: Send,
    create: Create | None = None,
) -> None:
    """A door's endpoint as plain ASGI, for the hot path: authenticate, respond
    (through `door`, or `create` for a route with steps of its own), and every
    error in the door's shape (OpenAI's without a door)."""
    headers = headers_of(scope)
    try:
        key = await state.keys.authenticate(api_key_in(headers))
        if create is not None:
            response = await create(state, key, headers, body_of(receive))
        else:
            assert door is not None
            response = await respond(door, headers, body_of(receive), key, state)
    except RouterError as exc:
        response = door_error_response(exc, door)
    except Exception as exc:
        response = unexpected_error_response(exc, door)
    await response(scope, receive, send)
