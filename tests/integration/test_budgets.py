"""Budgets: reserved before the call, settled to the actual cost after it;
never overshot under parallel load, never leaked, never double counted."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import httpx

from tests.conftest import Router
from tests.governance import logged_cost, make_key, rows_of, settled
from tests.helpers import assert_error, chat


async def _fire(url: str, key: str, count: int, **extra: Any) -> list[httpx.Response]:
    body = {
        "model": "gpt-4o-mini",
        "messages": [{"role": "user", "content": "budget"}],
        "max_tokens": 5,
        **extra,
    }
    headers = {"authorization": f"Bearer {key}"}
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=30) as client:
        return list(
            await asyncio.gather(
                *(client.post("/v1/chat/completions", json=body) for _ in range(count))
            )
        )


def test_parallel_requests_never_overshoot_a_small_budget(
    router: Router, admin: httpx.Client
) -> None:
    budget = Decimal("0.00005")  # room for about ten of these calls
    created = make_key(admin, budget_usd=str(budget), budget_period="total")
    responses = asyncio.run(_fire(router.url, created["key"], 50))
    ok = [r for r in responses if r.status_code == 200]
    refused = [r for r in responses if r.status_code != 200]
    assert ok and refused
    for response in refused:
        assert assert_error(response, 429)["code"] == "budget_exceeded"
    rows_of(router, created["id"], 50)
    state = settled(admin, created["id"])
    spent = Decimal(state["spend_usd"])
    assert spent <= budget
    assert spent == logged_cost(router, created["id"])
    assert spent == sum(Decimal(str(r.json()["usage"]["total_cost_usd"])) for r in ok)
    assert state["reserved_usd"] == "0"


def test_budget_refusal_names_the_reset_time(router: Router, admin: httpx.Client) -> None:
    created = make_key(admin, budget_usd="0.00001", budget_period="day")
    with router.client(created["key"]) as client:
        assert chat(client, "first", max_tokens=5).status_code == 200
        response = chat(client, "second", max_tokens=5)
        response = response if response.status_code == 429 else chat(client, "3", max_tokens=5)
    error = assert_error(response, 429)
    assert error["code"] == "budget_exceeded" and error["type"] == "insufficient_quota"
    resets = settled(admin, created["id"])["period_resets_at"]
    assert resets in error["message"]
    assert response.headers["x-budget-reset"] == resets
    assert int(response.headers["retry-after"]) > 0


def test_failed_and_abandoned_calls_release_their_reservation(
    router: Router, admin: httpx.Client
) -> None:
    created = make_key(admin, budget_usd="5", budget_period="month")
    with router.client(created["key"]) as client:
        assert chat(client, "mock:error_500").status_code >= 500
        body = {
            "model": "gpt-4o-mini",
            "stream": True,
            "messages": [{"role": "user", "content": "mock:chunks=200"}],
        }
        with client.stream("POST", "/v1/chat/completions", json=body) as stream:
            next(stream.iter_lines())  # the first chunk, then hang up
    rows = rows_of(router, created["id"], 2)
    state = settled(admin, created["id"])
    assert state["reserved_usd"] == "0"
    assert Decimal(state["spend_usd"]) == logged_cost(router, created["id"])
    assert {r.status for r in rows} == {"error"}


def test_streams_are_settled_at_their_reported_cost(router: Router, admin: httpx.Client) -> None:
    created = make_key(admin, budget_usd="5")
    body = {
        "model": "gpt-4o-mini",
        "stream": True,
        "stream_options": {"include_usage": True},
        "messages": [{"role": "user", "content": "mock:chunks=3"}],
    }
    with router.client(created["key"]) as client:
        response = client.post("/v1/chat/completions", json=body)
    assert response.status_code == 200
    rows_of(router, created["id"], 1)
    state = settled(admin, created["id"])
    assert Decimal(state["spend_usd"]) == logged_cost(router, created["id"]) > 0


def test_budget_key_cannot_call_an_unpriced_model(router: Router, admin: httpx.Client) -> None:
    limited = make_key(admin, budget_usd="5")
    with router.client(limited["key"]) as client:
        error = assert_error(chat(client, "hi", model="mystery-model"), 403, param="model")
    assert error["code"] == "price_unknown"
    unlimited = make_key(admin)
    with router.client(unlimited["key"]) as client:
        assert chat(client, "hi", model="mystery-model").status_code == 200


def test_raising_a_budget_admits_again(router: Router, admin: httpx.Client) -> None:
    created = make_key(admin, budget_usd="0")
    with router.client(created["key"]) as client:
        assert assert_error(chat(client, "hi"), 429)["code"] == "budget_exceeded"
        patched = admin.patch(f"/v1/admin/keys/{created['id']}", json={"budget_usd": "1"})
        assert patched.status_code == 200
        assert chat(client, "hi").status_code == 200
