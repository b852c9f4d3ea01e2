"""`"model": "auto"` through the real app: the choice, its explanation, the
400 when nothing qualifies, the costs on the row and the money saved."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest

from model_router.costs.catalogue import MODELS
from tests.conftest import Routed
from tests.helpers import assert_error, chat, request_detail, sse_lines

QUALITY = {(s.provider, s.model_id): s.quality for s in MODELS}
IMAGE = {"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}}
TOOL = {"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}


@pytest.fixture
def api(routed: Routed, user_key: str) -> Iterator[httpx.Client]:
    with routed.client(user_key) as client:
        yield client


def _catalogue(api: httpx.Client) -> list[dict[str, Any]]:
    response = api.get("/v1/analytics/models")
    assert response.status_code == 200
    return list(response.json())


def _cost(model: dict[str, Any], prompt: int, output: int) -> Decimal:
    rate_in = Decimal(str(model["input_price_per_1m_tokens"]))
    rate_out = Decimal(str(model["output_price_per_1m_tokens"]))
    return (prompt * rate_in + output * rate_out) / 1_000_000


def test_auto_picks_the_cheapest_model_meeting_the_constraints(api: httpx.Client) -> None:
    routing = {"providers": ["openai"], "min_quality": 4}
    response = chat(api, "hello", model="auto", routing=routing, max_tokens=100)
    assert response.status_code == 200, response.text
    body = response.json()
    chosen = body["model"]
    assert body["provider"] == "openai"
    assert QUALITY[("openai", chosen)] >= 4
    # Cheapest for this request among the openai models of tier 4 or more.
    prompt = 3 + 4 + 2  # the router's documented estimate for "hello"
    rivals = [
        m
        for m in _catalogue(api)
        if m["provider"] == "openai"
        and (QUALITY.get(("openai", m["model_id"])) or 0) >= 4
        and m["input_price_per_1m_tokens"] is not None
    ]
    costs = {m["model_id"]: _cost(m, prompt, 100) for m in rivals}
    assert costs[chosen] == min(costs.values()), costs
    reason = response.headers["x-router-reason"]
    assert reason.startswith(f"auto: {chosen} is the cheapest of {len(rivals)} qualifying models")
    assert "vs default gpt-4o" in reason
    detail = request_detail(api, body["id"])
    assert detail["requested_model"] == "auto" and detail["model"] == chosen
    assert detail["route_reason"] == reason
    assert Decimal(str(detail["estimated_cost_usd"])) == costs[chosen]


def test_auto_takes_the_capabilities_the_request_uses(api: httpx.Client) -> None:
    body = {
        "model": "auto",
        "messages": [{"role": "user", "content": [{"type": "text", "text": "hi"}, IMAGE]}],
        "tools": [TOOL],
        "routing": {"providers": ["deepseek", "anthropic"]},
    }
    response = api.post("/v1/chat/completions", json=body)
    assert response.status_code == 200, response.text
    # DeepSeek's models have no vision, so only Anthropic's qualify.
    assert response.json()["provider"] == "anthropic"
    assert "(tools, vision)" in response.headers["x-router-reason"]


def test_nothing_qualifying_is_a_400_saying_which_constraint_excluded_what(
    api: httpx.Client,
) -> None:
    body = {
        "model": "auto",
        "messages": [{"role": "user", "content": [{"type": "text", "text": "hi"}, IMAGE]}],
        "routing": {"providers": ["deepseek"], "max_input_price_per_1m": 100},
    }
    response = api.post("/v1/chat/completions", json=body)
    error = assert_error(response, 400, param="routing")
    assert error["code"] == "no_model_satisfies"
    assert response.headers["x-router-reason"] == "no route: no_model_satisfies"
    assert "vision excluded deepseek-chat, deepseek-flash" in error["message"]
    assert "providers ['deepseek'] excluded" in error["message"]


def test_a_bad_routing_object_is_a_400_naming_the_field(api: httpx.Client) -> None:
    response = chat(api, "hi", model="auto", routing={"min_quality": "best"})
    assert_error(response, 400, param="routing.min_quality")


def test_auto_streams_and_names_the_chosen_model(api: httpx.Client) -> None:
    body = {
        "model": "auto",
        "messages": [{"role": "user", "content": "hello"}],
        "stream": True,
        "routing": {"providers": ["gemini"]},
    }
    with api.stream("POST", "/v1/chat/completions", json=body) as response:
        assert response.status_code == 200
        reason = response.headers["x-router-reason"]
        lines = sse_lines(response)
    assert lines[-1] == "[DONE]"
    models = {json.loads(line)["model"] for line in lines[:-1]}
    assert len(models) == 1
    (chosen,) = models
    assert chosen.startswith("gemini-") and reason.startswith(f"auto: {chosen} ")


def test_usage_reports_the_money_auto_saved_against_the_default_model(
    api: httpx.Client,
) -> None:
    ids = []
    for _ in range(2):
        response = chat(api, "hello", model="auto", routing={"providers": ["openai"]})
        assert response.status_code == 200, response.text
        ids.append(response.json()["id"])
    assert chat(api, "hello", model="solo").status_code == 200  # not routed by auto
    saved = Decimal(0)
    for request_id in ids:
        detail = request_detail(api, request_id)
        default = Decimal(str(detail["default_cost_usd"]))
        actual = Decimal(str(detail["total_cost_usd"]))
        # gpt-4o (the default) for the same 10 in / 5 out tokens: 2.5 and 10 per 1M.
        assert default == Decimal("0.000075")
        assert actual < default
        saved += default - actual
    usage = api.get("/v1/analytics/usage", params={"days": 1}).json()
    assert usage["auto_routed_requests"] == 2
    assert Decimal(str(usage["routing_saved_usd"])) == saved
