"""POST /v1/embeddings: OpenAI's embeddings API, for OpenAI-compatible and
Gemini embedding models (frontdoors/openai_embeddings.py, services/embeddings.py)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from model_router.api.deps import CurrentKey, State
from model_router.api.routes.serving import read_json_object
from model_router.calls import Call
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
    state.ops.saw_key(key)
    try:
        body = await read_json_object(
            request.headers, request.stream(), state.settings.max_request_bytes
        )
    except RouterError as exc:
        state.embeddings.reject(key, exc)
        raise
    call = Call(key=key, body=body, front_door=DOOR.name, headers=request.headers)
    try:
        result = await state.embeddings.create(call, DOOR)
    except RouterError as exc:
        exc.headers = {**call.response_headers, **exc.headers}
        raise
    return Response(result, media_type="application/json", headers=call.response_headers)
