"""/v1/admin/webhooks: subscriptions, their delivery log, and redelivery (admin keys)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, field_validator
from starlette.responses import Response

from model_router.api.deps import AdminKey, State
from model_router.errors import NotFound
from model_router.jsonutil import dumps
from model_router.services.webhooks import EVENT_TYPES
from model_router.services.webhooks import subscriptions as subs

router = APIRouter(tags=["admin: webhooks"])
NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"description": "No such webhook, or not yours."}
}


class WebhookCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: AnyHttpUrl
    events: list[str] = Field(
        min_length=1, max_length=20, description=f"Any of {', '.join(EVENT_TYPES)}, or '*'."
    )
    secret: str | None = Field(
        default=None, min_length=16, max_length=200, description="Generated when absent."
    )
    description: str | None = Field(default=None, max_length=500)

    @field_validator("events")
    @classmethod
    def _known(cls, events: list[str]) -> list[str]:
        unknown = [e for e in events if e != "*" and e not in EVENT_TYPES]
        if unknown:
            raise ValueError(f"unknown event type {unknown[0]!r}; known: {', '.join(EVENT_TYPES)}")
        return events


def _json(body: Any, status: int = 200) -> Response:
    return Response(dumps(body), status_code=status, media_type="application/json")


def _id(value: str, what: str = "webhook") -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise NotFound(
            f"No {what} with id '{value[:100]}'.", param="id", code=f"{what}_not_found"
        ) from None


@router.post("/v1/admin/webhooks", status_code=201, summary="Subscribe a URL to events")
async def create_webhook(spec: WebhookCreate, admin: AdminKey, state: State) -> Response:
    row = await subs.create_subscription(
        state.sessions,
        url=str(spec.url),
        events=spec.events,
        secret=spec.secret,
        description=spec.description,
        owner=admin.owner,
    )
    await state.webhooks.load()
    return _json(subs.subscription_object(row, with_secret=True), 201)


@router.get("/v1/admin/webhooks", summary="Active subscriptions")
async def list_webhooks(admin: AdminKey, state: State) -> Response:
    rows = await subs.list_subscriptions(state.sessions, admin.owner)
    return _json({"data": [subs.subscription_object(r) for r in rows]})


@router.get("/v1/admin/webhooks/{webhook_id}", responses=NOT_FOUND, summary="One subscription")
async def get_webhook(webhook_id: str, admin: AdminKey, state: State) -> Response:
    row = await subs.get_subscription(state.sessions, _id(webhook_id), admin.owner)
    return _json(subs.subscription_object(row))


@router.delete("/v1/admin/webhooks/{webhook_id}", responses=NOT_FOUND, summary="Unsubscribe")
async def delete_webhook(webhook_id: str, admin: AdminKey, state: State) -> Response:
    row = await subs.delete_subscription(state.sessions, _id(webhook_id), admin.owner)
    await state.webhooks.load()
    return _json(subs.subscription_object(row))


@router.get(
    "/v1/admin/webhooks/{webhook_id}/deliveries",
    responses=NOT_FOUND,
    summary="The delivery log, newest first",
)
async def list_deliveries(
    webhook_id: str,
    admin: AdminKey,
    state: State,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> Response:
    rows = await subs.list_deliveries(state.sessions, _id(webhook_id), admin.owner, limit)
    return _json({"data": [subs.delivery_object(r) for r in rows]})


@router.post(
    "/v1/admin/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver",
    status_code=202,
    responses=NOT_FOUND,
    summary="Send a delivery's event again",
)
async def redeliver(webhook_id: str, delivery_id: str, admin: AdminKey, state: State) -> Response:
    row = await subs.redeliver(
        state.sessions, _id(webhook_id), _id(delivery_id, "delivery"), admin.owner
    )
    state.webhooks.wake()
    return _json(subs.delivery_object(row), 202)
