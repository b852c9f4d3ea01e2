"""GET /v1/analytics/*: usage, the request log, the priced catalogue.

Every endpoint needs a key. A normal key sees only its own requests; an admin
key sees everyone's and may narrow them with `user_id`. The queries live in
`model_router.db.queries`; this module parses, scopes and writes JSON.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Literal, get_args

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel
from starlette.responses import Response

from model_router.api.deps import AdminKey, CurrentKey, FreshLog, State
from model_router.db import cost_queries, listings, queries, request_detail
from model_router.db.request_order import RequestSort
from model_router.domain.request import FrontDoor
from model_router.errors import InvalidRequest, NotFound, PermissionDenied
from model_router.jsonutil import dumps
from model_router.schemas.analytics import (
    Caller,
    CatalogueModel,
    CostBreakdown,
    RequestDetail,
    RequestPage,
    UsageResponse,
    UserList,
    When,
)

router = APIRouter(tags=["analytics"])

NO_NUL = r"^[^\x00]*$"
MAX_PAGE = 2**31 - 1


async def analytics_scope(
    key: CurrentKey,
    user_id: Annotated[
        uuid.UUID | None,
        Query(description="Admin keys only: limit to this user's requests."),
    ] = None,
) -> uuid.UUID | None:
    """The user whose rows the caller may see; None for all (admin, no filter)."""
    if key.is_admin:
        return user_id
    if user_id is not None and user_id != key.id:
        raise PermissionDenied(
            "Only an admin key may read another user's requests.",
            param="user_id",
            code="admin_required",
        )
    return key.id


Scope = Annotated[uuid.UUID | None, Depends(analytics_scope)]


def tag_filter(
    tag: Annotated[
        list[str] | None,
        Query(
            max_length=20,
            description="Only requests with this tag: NAME (present) or NAME=VALUE. "
            "Repeatable; every one must match.",
        ),
    ] = None,
) -> list[str]:
    """The `tag` filters of /costs and /requests, checked alike."""
    for item in tag or []:
        if not item.partition("=")[0].strip() or "\x00" in item or len(item) > 300:
            raise InvalidRequest(f"Invalid tag filter '{item[:50]}'.", param="tag")
    return tag or []


Tags = Annotated[list[str], Depends(tag_filter)]

FRONT_DOORS: tuple[str, ...] = get_args(FrontDoor)


def front_door_filter(
    front_door: Annotated[
        str | None,
        Query(description="Only calls through this API: " + ", ".join(FRONT_DOORS) + "."),
    ] = None,
) -> str | None:
    """The request log's `front_door` filter: one of the router's inbound APIs."""
    if front_door is not None and front_door not in FRONT_DOORS:
        raise InvalidRequest(
            f"Invalid front_door '{front_door[:50]}': expected one of {', '.join(FRONT_DOORS)}.",
            param="front_door",
        )
    return front_door


Door = Annotated[str | None, Depends(front_door_filter)]


def _json(model: BaseModel) -> Response:
    return Response(dumps(model.model_dump()), media_type="application/json")


@router.get("/v1/analytics/usage", response_model=UsageResponse, summary="Usage and cost")
async def usage(
    scope: Scope,
    state: State,
    _fresh: FreshLog,
    days: Annotated[int, Query(ge=1, le=365, description="Today (UTC) and the days before.")] = 30,
    end_date: Annotated[
        date | None,
        Query(description="The window's last UTC day instead of today: a custom range."),
    ] = None,
) -> Response:
    if end_date is not None and end_date.toordinal() < days:
        raise InvalidRequest(
            "end_date is too early for a window of that many days.", param="end_date"
        )
    async with state.sessions() as session:
        return _json(await queries.usage_summary(session, scope, days=days, today=end_date))


@router.get(
    "/v1/analytics/costs", response_model=CostBreakdown, summary="Cost by tag, key or end user"
)
async def costs(
    scope: Scope,
    state: State,
    _fresh: FreshLog,
    tags: Tags,
    group_by: Annotated[
        str,
        Query(
            pattern=r"^(key|end_user|model|tag:[^\x00]{1,64})$",
            description="key, end_user, model, or tag:NAME (a tag from metadata/x-router-tags).",
        ),
    ] = "key",
    model: Annotated[str | None, Query(max_length=200, pattern=NO_NUL)] = None,
    days: Annotated[int, Query(ge=1, le=3650)] = 30,
) -> Response:
    async with state.sessions() as session:
        breakdown = await cost_queries.cost_breakdown(
            session, scope, group_by=group_by, days=days, tags=tags, model=model
        )
    return _json(breakdown)


@router.get("/v1/analytics/requests", response_model=RequestPage, summary="The request log")
async def list_requests(
    scope: Scope,
    state: State,
    _fresh: FreshLog,
    tags: Tags,
    front_door: Door,
    page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
    per_page: Annotated[int, Query(ge=1, le=100)] = 20,
    model: Annotated[str | None, Query(max_length=200, pattern=NO_NUL)] = None,
    status: Literal["success", "error"] | None = None,
    search: Annotated[
        str | None,
        Query(max_length=1000, pattern=NO_NUL, description="Case-insensitive, in the prompt."),
    ] = None,
    start_date: Annotated[When | None, Query(description="Inclusive.")] = None,
    end_date: Annotated[
        When | None, Query(description="Inclusive; a date covers that whole UTC day.")
    ] = None,
    sort: Annotated[
        RequestSort,
        Query(description="created_at, total_cost_usd or latency_ms; '-' for descending."),
    ] = "-created_at",
) -> Response:
    filters = queries.RequestFilter(
        model=model,
        status=status,
        search=search,
        start=start_date,
        end=end_date,
        tags=tuple(tags),
        front_door=front_door,
    )
    async with state.sessions() as session:
        return _json(
            await queries.list_requests(
                session, scope, filters, page=page, per_page=per_page, sort=sort
            )
        )


@router.get(
    "/v1/analytics/requests/{request_id}",
    response_model=RequestDetail,
    summary="One request, in full",
    responses={404: {"description": "No such request, or not yours."}},
)
async def get_request(request_id: str, key: CurrentKey, state: State) -> Response:
    try:
        parsed: uuid.UUID | None = uuid.UUID(request_id)
    except ValueError:
        parsed = None
    if parsed is not None and str(parsed) != request_id.lower():
        parsed = None  # the canonical form only: one URL per request
    detail = None
    if parsed is not None:
        async with state.sessions() as session:
            detail = await request_detail.get_request(
                session,
                None if key.is_admin else key.id,
                parsed,
                pending=state.request_log.pending,
            )
    if detail is None:
        raise NotFound(
            f"No request with id '{request_id[:100]}'.",
            param="request_id",
            code="request_not_found",
        )
    return _json(detail)


@router.get(
    "/v1/analytics/models",
    response_model=list[CatalogueModel],
    summary="Models and prices",
    description="A bare JSON array, as the original design has it.",
)
async def list_models(_key: CurrentKey, state: State) -> Response:
    async with state.sessions() as session:
        models = await listings.list_catalogue(session)
    return Response(dumps([m.model_dump() for m in models]), media_type="application/json")


@router.get("/v1/analytics/me", response_model=Caller, summary="The calling key")
async def me(key: CurrentKey) -> Response:
    return _json(Caller(id=key.id, name=key.name, prefix=key.prefix, is_admin=key.is_admin))


@router.get(
    "/v1/analytics/users",
    response_model=UserList,
    summary="Every key, for the user_id filter (admin)",
)
async def list_users(_admin: AdminKey, state: State) -> Response:
    async with state.sessions() as session:
        return _json(UserList(users=await listings.list_users(session)))
