"""GET /v1/models: the catalogue in OpenAI's list format."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from model_router.api.deps import CurrentKey, State
from model_router.jsonutil import dumps

router = APIRouter(tags=["models"])


@router.get("/v1/models", summary="List models (OpenAI-compatible)")
async def list_models(_key: CurrentKey, state: State) -> Response:
    data = [
        {
            "id": m.name,
            "object": "model",
            "created": int(m.updated_at.timestamp()),
            "owned_by": m.provider,
        }
        for m in state.catalogue.list_models()
    ]
    return Response(dumps({"object": "list", "data": data}), media_type="application/json")
