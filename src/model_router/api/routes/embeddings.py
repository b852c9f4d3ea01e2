"""POST /v1/embeddings: OpenAI's embeddings API, for OpenAI-compatible and
Gemini embedding models (frontdoors/openai_embeddings.py, services/embeddings.py).

Served like chat: the FastAPI route is declared for the docs, and
`fast_embeddings` answers on the hot path (`app.py`), its errors in OpenAI's
shape as FastAPI's handlers render them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping

from fastapi import APIRouter, Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from model_router.api.deps import AppState, CurrentKey, State
from model_router.api.routes.serving import JSONAnswer, read_json_object, serve_fast
from model_router.calls import Call
from model_router.domain.keys import KeyInfo
from model_router.errors import RouterError
from model_router.frontdoors.openai_embeddings import OpenAIEmbeddingsDoor

router = APIRouter(tags=["embeddings"])

_TOKENS = {"type": "array", "items": {"type": "integer", "minimum": 0}, "minItems": 1}
_BODY_SCHEMA = {
    "type": "object",
    "required": ["model", "input"],
    "properties": {
        "model": {"type": "string", "examples": ["text-embedding-3-small"]},
        "input": {
            "anyOf": [
                {"type": "string", "minLength": 1},
                {"type": "array", "items": {"type": "string", "minLength": 1}, "minItems": 1},
                _TOKENS,
                {"type": "array", "items": _TOKENS, "minItems": 1},
            ]
        },
        "dimensions": {"type": "integer", "minimum": 1},
        "encoding_format": {"enum": ["float", "base64"], "default": "float"},
        "user": {"type": "string"},
        "metadata": {"type": "object", "additionalProperties": {"type": "string"}},
    },
}
DOOR = OpenAIEmbeddingsDoor()  # stateless


@router.post(
    "/v1/embeddings",
    summary="Create embeddings (OpenAI-compatible)",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": _BODY_SCHEMA}},
        }
    },
)
async def create_embeddings(request: Request, key: CurrentKey, state: State) -> Response:
    return await _create(state, key, request.headers, request.stream())


async def fast_embeddings(state: AppState, scope: Scope, receive: Receive, send: Send) -> None:
    """The same endpoint as plain ASGI, for the hot path."""
    await serve_fast(None, state, scope, receive, send, _create)


async def _create(
    state: AppState, key: KeyInfo, headers: Mapping[str, str], chunks: AsyncIterator[bytes]
) -> Response:
    state.ops.saw_key(key)
    try:
        body = await read_json_object(headers, chunks, state.settings.max_request_bytes)
    except RouterError as exc:
        state.embeddings.reject(key, exc)
        raise
    call = Call(key=key, body=body, front_door=DOOR.name, headers=headers)
    try:
        result, record = await state.embeddings.create(call, DOOR)
    except RouterError as exc:
        exc.headers = {**call.response_headers, **exc.headers}
        raise
    return JSONAnswer(result, call.response_headers, record)
