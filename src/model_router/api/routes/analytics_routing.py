"""GET /v1/analytics/routing/pools/{name}: a learned routing pool's report (admin).

The numbers behind `model-router routing report`: per task class, the
models chosen, their quality with 95 % intervals, cost per request, and the
savings against the default model, estimated off-policy
(`model_router.routing.learned.report`).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from starlette.responses import Response

from model_router.api.deps import AdminKey, State
from model_router.errors import NotFound
from model_router.jsonutil import dumps
from model_router.schemas.learned_routing import PoolReport

router = APIRouter(tags=["analytics"])


@router.get(
    "/v1/analytics/routing/pools/{name}",
    response_model=PoolReport,
    summary="A learned routing pool's report (admin)",
    responses={404: {"description": "No pool of that name in the routing file."}},
)
async def pool_report(
    name: str,
    _admin: AdminKey,
    state: State,
    days: Annotated[int, Query(ge=1, le=365, description="The last N days.")] = 7,
) -> Response:
    report = await state.learned.report(name, days)
    if report is None:
        raise NotFound(
            f"No routing pool named '{name[:100]}'.", param="name", code="pool_not_found"
        )
    return Response(dumps(report.model_dump()), media_type="application/json")
