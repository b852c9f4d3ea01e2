"""Webhook subscriptions and their delivery log: the admin operations.

A subscription belongs to the owner of the admin key that made it: an admin
key with an owner label sees only its owner's subscriptions (others are 404)
and gets only events about its owner's keys; one without sees everything.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from model_router.db.models import WebhookDelivery, WebhookSubscription
from model_router.errors import NotFound

Sessions = async_sessionmaker[AsyncSession]


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def subscription_object(row: WebhookSubscription, *, with_secret: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": str(row.id),
        "url": row.url,
        "events": list(row.events or []),
        "description": row.description,
        "owner": row.owner,
        "is_active": row.is_active,
        "secret_prefix": row.secret[:10],
        "created_at": row.created_at.isoformat(),
        "deleted_at": row.deleted_at.isoformat() if row.deleted_at else None,
    }
    if with_secret:
        out["secret"] = row.secret
    return out


def delivery_object(row: WebhookDelivery) -> dict[str, Any]:
    return {
        "id": str(row.id),
        "subscription_id": str(row.subscription_id),
        "event_id": str(row.event_id),
        "event_type": row.event_type,
        "status": row.status,
        "attempts": row.attempts,
        "last_status_code": row.last_status_code,
        "last_error": row.last_error,
        "attempt_log": row.attempt_log or [],
        "next_attempt_at": row.next_attempt_at.isoformat() if row.status == "pending" else None,
        "created_at": row.created_at.isoformat(),
        "delivered_at": row.delivered_at.isoformat() if row.delivered_at else None,
    }


async def create_subscription(
    sessions: Sessions,
    *,
    url: str,
    events: list[str],
    secret: str | None,
    description: str | None,
    owner: str | None,
) -> WebhookSubscription:
    row = WebhookSubscription(
        url=url,
        events=sorted(set(events)),
        secret=secret or new_secret(),
        description=description,
        owner=owner,
        is_active=True,
        created_at=datetime.now(UTC),
    )
    async with sessions.begin() as session:
        session.add(row)
    return row


async def list_subscriptions(sessions: Sessions, owner: str | None) -> list[WebhookSubscription]:
    query = select(WebhookSubscription).where(WebhookSubscription.is_active)
    if owner is not None:
        query = query.where(WebhookSubscription.owner == owner)
    async with sessions() as session:
        return list(await session.scalars(query.order_by(WebhookSubscription.created_at)))


async def get_subscription(
    sessions: Sessions, subscription_id: uuid.UUID, owner: str | None
) -> WebhookSubscription:
    async with sessions() as session:
        row = await session.get(WebhookSubscription, subscription_id)
    if row is None or not row.is_active or (owner is not None and row.owner != owner):
        raise NotFound(
            f"No webhook subscription with id '{subscription_id}'.",
            param="id",
            code="webhook_not_found",
        )
    return row


async def delete_subscription(
    sessions: Sessions, subscription_id: uuid.UUID, owner: str | None
) -> WebhookSubscription:
    """Deactivate: nothing more is sent to it; its delivery log stays."""
    row = await get_subscription(sessions, subscription_id, owner)
    async with sessions.begin() as session:
        stored = await session.get(WebhookSubscription, row.id)
        assert stored is not None
        stored.is_active = False
        stored.deleted_at = datetime.now(UTC)
        pending = await session.scalars(
            select(WebhookDelivery).where(
                WebhookDelivery.subscription_id == row.id, WebhookDelivery.status == "pending"
            )
        )
        for delivery in pending:
            delivery.status = "cancelled"
    return stored


async def list_deliveries(
    sessions: Sessions, subscription_id: uuid.UUID, owner: str | None, limit: int
) -> list[WebhookDelivery]:
    await get_subscription(sessions, subscription_id, owner)
    query = (
        select(WebhookDelivery)
        .where(WebhookDelivery.subscription_id == subscription_id)
        .order_by(WebhookDelivery.created_at.desc(), WebhookDelivery.id)
        .limit(limit)
    )
    async with sessions() as session:
        return list(await session.scalars(query))


async def redeliver(
    sessions: Sessions, subscription_id: uuid.UUID, delivery_id: uuid.UUID, owner: str | None
) -> WebhookDelivery:
    """Send an event again, as a new delivery with the same event id and body."""
    await get_subscription(sessions, subscription_id, owner)
    async with sessions.begin() as session:
        old = await session.get(WebhookDelivery, delivery_id)
        if old is None or old.subscription_id != subscription_id:
            raise NotFound(
                f"No delivery with id '{delivery_id}' for this webhook.",
                param="delivery_id",
                code="delivery_not_found",
            )
        now = datetime.now(UTC)
        row = WebhookDelivery(
            subscription_id=subscription_id,
            event_id=old.event_id,
            event_type=old.event_type,
            body=old.body,
            status="pending",
            attempts=0,
            next_attempt_at=now,
            created_at=now,
        )
        session.add(row)
    return row
