"""Non-streamed chat through the OpenAI adapter, against the OpenAI mock."""

from __future__ import annotations

from decimal import Decimal

import httpx
import orjson
import pytest

from tests.conftest import KEYS, Router
from tests.helpers import assert_error, chat, request_detail
from tests.openapi import assert_valid


def test_completion_is_openai_shaped_with_the_router_fields(api: httpx.Client) -> None:
    response = chat(api, "What is the answer?")
    assert response.status_code == 200, response.text
    body = response.json()
    assert_valid(body, "CreateChatCompletionResponse")
    assert body["object"] == "chat.completion"
    assert body["model"] == "gpt-4o-mini"
    assert body["provider"] == "openai"
    assert body["choices"][0]["message"]["content"] == "Echo: What is the answer?"
    assert body["content"] == "Echo: What is the answer?"
    assert body["finish_reason"] == "stop"
    assert isinstance(body["latency_ms"], int)
    assert body["created_at"].endswith("+00:00")
    assert body["usage"]["prompt_tokens"] == 10
    assert body["usage"]["completion_tokens"] == 5


def test_cost_is_exact_at_the_catalogue_price(api: httpx.Client) -> None:
    body = chat(api, "price me").json()
    usage = orjson.loads(orjson.dumps(body["usage"]))
    # gpt-4o-mini: 0.15 / 0.60 USD per 1M tokens; 10 in, 5 out.
    assert Decimal(str(usage["input_cost_usd"])) == Decimal("0.0000015")
    assert Decimal(str(usage["output_cost_usd"])) == Decimal("0.000003")
    assert Decimal(str(usage["total_cost_usd"])) == Decimal("0.0000045")


def test_cost_json_numbers_carry_every_digit(api: httpx.Client) -> None:
    raw = chat(api, "digits").content
    assert b'"total_cost_usd":0.0000045' in raw


def test_cached_prompt_tokens_are_charged_at_the_cached_rate(api: httpx.Client) -> None:
    body = chat(api, "mock:cached", model="gpt-4o").json()
    usage = body["usage"]
    assert usage["prompt_tokens_details"]["cached_tokens"] == 1500
    # gpt-4o: 2.50 in, 1.25 cached, 10 out. 500 fresh + 1500 cached + 100 out.
    expected_in = (Decimal(500) * Decimal("2.5") + Decimal(1500) * Decimal("1.25")) / 10**6
    assert Decimal(str(usage["input_cost_usd"])) == expected_in == Decimal("0.003125")
    assert Decimal(str(usage["total_cost_usd"])) == Decimal("0.004125")


def test_request_is_forwarded_with_the_key_and_unknown_fields(
    router: Router, api: httpx.Client
) -> None:
    response = chat(api, "forward me", temperature=0.2, seed=7, logit_bias={"50256": -100})
    assert response.status_code == 200, response.text
    sent = router.openai.state.last()
    assert sent.headers["authorization"] == f"Bearer {KEYS['openai']}"
    assert sent.body["model"] == "gpt-4o-mini"
    assert sent.body["temperature"] == 0.2
    assert sent.body["seed"] == 7
    assert sent.body["logit_bias"] == {"50256": -100}


def test_tool_call_comes_back_in_openai_form(api: httpx.Client) -> None:
    tools = [
        {"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}
    ]
    body = chat(api, "mock:tool_call", tools=tools).json()
    assert_valid(body, "CreateChatCompletionResponse")
    choice = body["choices"][0]
    assert choice["finish_reason"] == "tool_calls"
    call = choice["message"]["tool_calls"][0]
    assert call["function"] == {"name": "get_weather", "arguments": '{"city": "Paris"}'}


def test_response_id_is_the_request_log_id(api: httpx.Client) -> None:
    body = chat(api, "find me later").json()
    detail = request_detail(api, body["id"])
    assert detail["id"] == body["id"]
    assert detail["status"] == "success"
    assert detail["input_tokens"] == 10 and detail["output_tokens"] == 5
    assert Decimal(str(detail["total_cost_usd"])) == Decimal("0.0000045")
    assert detail["response_text"] == "Echo: find me later"


def test_models_list_is_openai_shaped(api: httpx.Client) -> None:
    body = api.get("/v1/models").json()
    assert body["object"] == "list"
    ids = {m["id"] for m in body["data"]}
    assert {"gpt-4o-mini", "claude-sonnet-4-5", "gemini-2.5-flash", "deepseek-flash"} <= ids
    assert all(m["object"] == "model" for m in body["data"])


def test_model_without_a_price_is_never_charged_zero(api: httpx.Client) -> None:
    body = chat(api, "free?", model="mystery-model").json()
    assert body["usage"]["total_cost_usd"] is None
    detail = request_detail(api, body["id"])
    assert detail["total_cost_usd"] is None
    assert detail["cost_unknown"] is True


@pytest.mark.parametrize(
    ("scenario", "status", "error_type"),
    [
        ("error_400", 400, "invalid_request_error"),
        ("error_401", 401, None),
        ("error_404", 404, None),
        ("error_429", 429, "rate_limit_error"),
        ("error_500", 502, "upstream_error"),
        ("error_503", 503, "service_unavailable"),
        ("bad_json", 502, "upstream_error"),
        ("slow", 504, "timeout_error"),
    ],
)
def test_upstream_failures_map_to_clear_errors_and_are_recorded(
    router: Router,
    admin: httpx.Client,
    api: httpx.Client,
    scenario: str,
    status: int,
    error_type: str | None,
) -> None:
    response = chat(api, f"mock:{scenario}")
    error = assert_error(response, status)
    if error_type:
        assert error["type"] == error_type
    assert "openai" in error["message"]
    if status == 429:
        assert response.headers["retry-after"] == "7"
    rows = admin.get(
        "/v1/analytics/requests", params={"search": f"mock:{scenario}", "per_page": 100}
    )
    assert rows.status_code == 200, rows.text
    mine = [r for r in rows.json()["requests"] if r["status"] == "error"]
    assert mine, "the failed call was not recorded"
