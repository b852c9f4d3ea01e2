"""GET /v1/analytics/routing/pools: the configured learned routing pools (admin);
GET /v1/analytics/routing/pools/{name}: a learned routing pool's report (admin);
GET /v1/analytics/routing/decisions/{request_id}: one request's decision
(its features, class, candidates and probabilities), for its key or an admin.

The numbers behind `model-router routing report`: per task class, the
models chosen, their quality with 95 % intervals, cost per request, and the
savings against the default model, estimated off-policy
(`model_router.routing.learned.report`).
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query
from starlette.responses import Response

from model_router.api.deps import AdminKey, CurrentKey, State
from model_router.errors import NotFound
from model_router.jsonutil import dumps
from model_router.schemas.learned_routing import DecisionOut, PoolList, PoolReport

router = APIRouter(tags=["analytics"])


@router.get(
    "/v1/analytics/routing/pools",
    response_model=PoolList,
    summary="The learned routing pools, with candidates and default model (admin)",
)
async def list_pools(_admin: AdminKey, state: State) -> Response:
    return Response(dumps(state.learned.listing().model_dump()), media_type="application/json")


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


@router.get(
    "/v1/analytics/routing/decisions/{request_id}",
    response_model=DecisionOut,
    summary="One request's learned-routing decision",
    responses={404: {"description": "No decision for that request, or not yours."}},
)
async def decision(request_id: uuid.UUID, key: CurrentKey, state: State) -> Response:
    await state.learned.flush()
    found = await state.learned.store.decision(request_id)
    if found is None or not (key.is_admin or found.key_id == key.id):
        raise NotFound(
            f"No routing decision for request '{request_id}'.",
            param="request_id",
            code="decision_not_found",
        )
    out = DecisionOut(
        request_id=found.request_id,
        created_at=found.created_at,
        pool=found.pool,
        task_class=found.task_class,
        features=found.features,
        chosen_model=found.chosen,
        answered_by=found.answered_by,
        probability=found.probability,
        explored=found.explored,
        default_model=found.default_model,
        default_probability=found.default_probability,
        candidates=found.candidates,
        estimated_cost_usd=found.estimated_cost_usd,
        default_cost_usd=found.default_cost_usd,
        cost_usd=found.cost_usd,
        quality=found.quality,
        quality_source=found.quality_source,
        reason=found.reason,
    )
    return Response(dumps(out.model_dump()), media_type="application/json")
