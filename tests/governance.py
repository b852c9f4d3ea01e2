"""Helpers for the governance and webhook tests (issue 6)."""

from __future__ import annotations

import time
import uuid
from decimal import Decimal
from typing import Any

import httpx
from sqlalchemy import func, select

from model_router.db.models import Request
from tests.conftest import Router


def make_key(admin: httpx.Client, **fields: Any) -> dict[str, Any]:
    """A key made through the admin API; the answer includes "key"."""
    body = {"name": f"gov-{uuid.uuid4().hex[:8]}", **fields}
    response = admin.post("/v1/admin/keys", json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


def key_state(admin: httpx.Client, key_id: str) -> dict[str, Any]:
    response = admin.get(f"/v1/admin/keys/{key_id}")
    assert response.status_code == 200, response.text
    return dict(response.json())


def rows_of(router: Router, key_id: str, expected: int, timeout: float = 10.0) -> list[Any]:
    """The key's request rows, once `expected` of them are in the database."""

    async def fetch(sessions: Any) -> list[Any]:
        async with sessions() as session:
            query = select(Request).where(Request.user_id == uuid.UUID(key_id))
            return list(await session.scalars(query))

    deadline = time.monotonic() + timeout
    while True:
        rows: list[Any] = router.run(fetch)
        if len(rows) >= expected or time.monotonic() > deadline:
            assert len(rows) == expected, f"{len(rows)} rows, expected {expected}"
            return rows
        time.sleep(0.05)


def logged_cost(router: Router, key_id: str) -> Decimal:
    async def fetch(sessions: Any) -> Decimal:
        async with sessions() as session:
            query = select(func.sum(Request.total_cost_usd)).where(
                Request.user_id == uuid.UUID(key_id)
            )
            value = await session.scalar(query)
            return value if value is not None else Decimal(0)

    return Decimal(router.run(fetch))


def settled(admin: httpx.Client, key_id: str, timeout: float = 5.0) -> dict[str, Any]:
    """The key once no reservation is outstanding (settlement is asynchronous)."""
    deadline = time.monotonic() + timeout
    while True:
        state = key_state(admin, key_id)
        if Decimal(state["reserved_usd"]) == 0 or time.monotonic() > deadline:
            return state
        time.sleep(0.05)


def fresh_minute(margin: float = 6.0) -> None:
    """Wait for a new rate-limit window if this one ends within `margin` seconds,
    so a test's requests all fall in one window."""
    left = 60 - time.time() % 60
    if left < margin:
        time.sleep(left + 0.05)
