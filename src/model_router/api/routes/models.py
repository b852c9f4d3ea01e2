"""GET /v1/models: the catalogue in OpenAI's list format, or in Anthropic's
when the request carries `anthropic-version` (as Anthropic's SDKs send it)."""

from __future__ import annotations

from datetime import UTC

from fastapi import APIRouter, Request
from starlette.responses import Response

from model_router.api.deps import CurrentKey, State
from model_router.costs.models import ModelInfo
from model_router.jsonutil import dumps

router = APIRouter(tags=["models"])


@router.get("/v1/models", summary="List models (OpenAI-compatible, or Anthropic's format)")
async def list_models(request: Request, _key: CurrentKey, state: State) -> Response:
    models = state.catalogue.list_models()
    if "anthropic-version" in request.headers:
        body = anthropic_list(models)
    else:
        body = {
            "object": "list",
            "data": [
                {
                    "id": m.name,
                    "object": "model",
                    "created": int(m.updated_at.timestamp()),
                    "owned_by": m.provider,
                }
                for m in models
            ],
        }
    return Response(dumps(body), media_type="application/json")


def anthropic_list(models: list[ModelInfo]) -> dict[str, object]:
    """Anthropic's `GET /v1/models` page: every model on one page."""
    data = [
        {
            "type": "model",
            "id": m.name,
            "display_name": m.name,
            "created_at": m.updated_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        }
        for m in models
    ]
    return {
        "data": data,
        "has_more": False,
        "first_id": data[0]["id"] if data else None,
        "last_id": data[-1]["id"] if data else None,
    }
