"""POST /v1/chat/completions: OpenAI's Chat Completions, streamed or not.

The route is declared on the FastAPI router for the docs, and also served by
`fast_chat_completions`, a plain ASGI endpoint that `app.py` puts in front of
FastAPI: the hot path skips FastAPI's middleware stack and dependency solving
(about half of the router's own time per request when measured), and keeps
the same authentication and the same error mapping (`api/errors.py`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response, StreamingResponse
from starlette.types import Receive, Scope, Send

from model_router.api.deps import AppState, CurrentKey, State, api_key_in
from model_router.api.errors import router_error_response, unexpected_error_response
from model_router.calls import Call
from model_router.domain.keys import KeyInfo
from model_router.errors import InvalidRequest, PayloadTooLarge, RouterError
from model_router.frontdoors.base import Door
from model_router.frontdoors.openai_chat import OpenAIChatDoor
from model_router.jsonutil import JSONDecodeError, loads
from model_router.schemas.chat import ChatCompletionRequest

router = APIRouter(tags=["chat"])

_BODY_SCHEMA = ChatCompletionRequest.model_json_schema(ref_template="#/components/schemas/{model}")
_DEFS = _BODY_SCHEMA.pop("$defs", {})
DOOR = OpenAIChatDoor()  # stateless


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


MAX_JSON_DEPTH = 64


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


@router.post(
    "/v1/chat/completions",
    summary="Create a chat completion (OpenAI-compatible)",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": _BODY_SCHEMA}},
        }
    },
)
async def chat_completions(request: Request, key: CurrentKey, state: State) -> Response:
    return await _respond(request.headers, request.stream(), key, state)


async def _respond(
    headers: Mapping[str, str], chunks: AsyncIterator[bytes], key: KeyInfo, state: AppState
) -> Response:
    state.ops.saw_key(key)  # rows carry the key's id; metrics and logs show its prefix
    try:
        body = await read_json_object(headers, chunks, state.settings.max_request_bytes)
    except RouterError as exc:
        state.completions.reject(key, exc, DOOR)
        raise
    call = Call(key=key, body=body, front_door=DOOR.name, headers=headers)
    return await answer(state, call, DOOR)


async def answer(state: AppState, call: Call, door: Door) -> Response:
    """The service's answer to `call` as HTTP: server-sent events when the body
    asks for a stream, else JSON; an error keeps the call's response headers."""
    try:
        if call.body.get("stream") is True:
            frames = await state.completions.stream(call, door)
            return StreamingResponse(
                frames,
                media_type="text/event-stream",
                headers={
                    "cache-control": "no-cache",
                    "x-accel-buffering": "no",
                    **call.response_headers,
                },
            )
        result = await state.completions.complete(call, door)
    except RouterError as exc:
        exc.headers = {**call.response_headers, **exc.headers}
        raise
    return Response(result, media_type="application/json", headers=call.response_headers)


async def fast_chat_completions(
    state: AppState, scope: Scope, receive: Receive, send: Send
) -> None:
    """The same endpoint as plain ASGI, for the hot path.

    The headers are read into a dict once (ASGI gives their names in lower case):
    a dozen lookups per call, each a scan of the list through Starlette's `Headers`.
    """
    headers = {name.decode("latin-1"): value.decode("latin-1") for name, value in scope["headers"]}
    try:
        key = await state.keys.authenticate(api_key_in(headers))
        response = await _respond(headers, Request(scope, receive).stream(), key, state)
    except RouterError as exc:
        response = router_error_response(exc)
    except Exception as exc:
        response = unexpected_error_response(exc)
    await response(scope, receive, send)
