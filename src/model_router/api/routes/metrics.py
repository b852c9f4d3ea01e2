"""GET /metrics: Prometheus text format. METRICS_ACCESS=admin (the default)
wants an admin key, `open` lets anyone on the network scrape."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request
from starlette.responses import Response

from model_router.api.deps import State, api_key_of
from model_router.errors import PermissionDenied

router = APIRouter(tags=["operations"])


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    response_class=Response,
    responses={200: {"content": {"text/plain": {}}}},
)
async def metrics(request: Request, state: State) -> Response:
    if state.settings.metrics_access == "admin":
        key = await state.keys.authenticate(api_key_of(request))
        if not key.is_admin:
            raise PermissionDenied(
                "GET /metrics needs an admin key (or METRICS_ACCESS=open).",
                code="admin_required",
            )
    # Reading every worker's files (multi-process mode) is file I/O: off the loop.
    body, content_type = await asyncio.to_thread(state.ops.metrics.render)
    return Response(body, media_type=content_type)
