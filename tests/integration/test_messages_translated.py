"""POST /v1/messages to models that do not speak Anthropic (an OpenAI-compatible
one, a Gemini one), through the Anthropic SDK; and every error of the endpoint
in Anthropic's shape, never OpenAI's."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import anthropic
import httpx
import pytest
from anthropic.types import Message

from model_router.costs.catalogue import default_catalogue
from model_router.costs.pricing import Rates
from tests.conftest import Router
from tests.governance import make_key
from tests.helpers import anthropic_client, latest_rows
from tests.integration.cache_app import serve

CLAUDE_CODE = Path(__file__).parents[1] / "fixtures" / "claude_code"
TARGETS = {"gpt-4o-mini": "openai", "gemini-2.5-flash": "gemini"}


@pytest.fixture
def client(router: Router, user_key: str) -> Iterator[anthropic.Anthropic]:
    with anthropic_client(router.url, user_key) as sdk:
        yield sdk


def _rates(model: str) -> Rates:
    (entry,) = [e for e in default_catalogue(datetime.now(UTC)) if e.model_id == model]
    assert entry.price is not None
    return entry.price.base


def claude_code_body(name: str, model: str) -> dict[str, Any]:
    body: dict[str, Any] = json.loads((CLAUDE_CODE / name).read_text())
    return {**body, "model": model}


@pytest.mark.parametrize("model", TARGETS)
def test_a_claude_code_request_is_answered_by_another_provider(
    router: Router, api: httpx.Client, user_key: str, model: str
) -> None:
    body = claude_code_body("read_tool_followup_request.json", model) | {"stream": False}
    response = api.post(
        "/v1/messages?beta=true",
        json=body,
        headers={
            "anthropic-version": "2023-06-01",
            "anthropic-beta": "context-management-2025-06-27",
        },
    )
    assert response.status_code == 200, response.text
    message = Message.model_validate(response.json())
    assert message.role == "assistant" and message.content
    (row,) = latest_rows(api)
    assert row["front_door"] == "messages" and row["model"] == model
    assert row["provider"] == TARGETS[model]
    dropped = set(row["dropped_hints"])
    assert {"cache_control", "context_management", "thinking blocks of earlier turns"} <= dropped
    assert "metadata.user_id (longer than 64 characters)" in dropped or model != "gpt-4o-mini"
    rates = _rates(model)
    assert rates.input is not None and rates.output is not None
    cached = rates.cached_input if rates.cached_input is not None else rates.input
    fresh = row["input_tokens"] - row["cached_input_tokens"]
    expected = (
        fresh * rates.input
        + row["cached_input_tokens"] * cached
        + row["output_tokens"] * rates.output
    ) / Decimal(1_000_000)
    assert row["total_cost_usd"] == expected


@pytest.mark.parametrize("model", TARGETS)
def test_sdk_calls_and_streams_reach_another_provider(
    client: anthropic.Anthropic, api: httpx.Client, model: str
) -> None:
    message = client.messages.create(
        model=model, max_tokens=50, messages=[{"role": "user", "content": "Bonjour"}]
    )
    assert isinstance(message, Message) and message.content[0].type == "text"
    assert "Bonjour" in message.content[0].text
    with client.messages.stream(
        model=model, max_tokens=50, messages=[{"role": "user", "content": "Salut"}]
    ) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert "Salut" in text and final.stop_reason == "end_turn"
    rows = latest_rows(api, 2)
    assert [r["front_door"] for r in rows] == ["messages", "messages"]
    assert all(r["total_cost_usd"] > 0 for r in rows)


@pytest.mark.parametrize("model", TARGETS)
def test_a_tool_round_trip_through_another_provider(
    client: anthropic.Anthropic, model: str
) -> None:
    tools: Any = [
        {
            "name": "get_weather",
            "description": "Weather in a city",
            "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}},
        }
    ]
    first = client.messages.create(
        model=model,
        max_tokens=50,
        tools=tools,
        messages=[{"role": "user", "content": "mock:tool_call weather?"}],
    )
    assert first.stop_reason == "tool_use"
    call = next(b for b in first.content if b.type == "tool_use")
    messages: Any = [
        {"role": "user", "content": "mock:tool_call weather?"},
        {"role": "assistant", "content": [b.model_dump(exclude_none=True) for b in first.content]},
        {
            "role": "user",
            "content": [{"type": "tool_result", "tool_use_id": call.id, "content": "Sunny"}],
        },
    ]
    second = client.messages.create(model=model, max_tokens=50, tools=tools, messages=messages)
    assert isinstance(second, Message)


def _sdk_error(error: anthropic.APIStatusError, kind: str) -> dict[str, Any]:
    body = error.body
    assert isinstance(body, dict) and body["type"] == "error", body
    assert body["error"]["type"] == kind, body
    return dict(body["error"])


def test_a_server_tool_is_a_400_that_says_so(client: anthropic.Anthropic) -> None:
    with pytest.raises(anthropic.BadRequestError) as caught:
        client.messages.create(
            model="gpt-4o-mini",
            max_tokens=50,
            tools=[{"type": "web_search_20250305", "name": "web_search"}],
            messages=[{"role": "user", "content": "news?"}],
        )
    error = _sdk_error(caught.value, "invalid_request_error")
    assert "web_search_20250305" in error["message"]


# --- errors, in Anthropic's shape -------------------------------------------------------------


def _error(response: httpx.Response, status: int, kind: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["type"] == "error" and body["error"]["type"] == kind, body
    return dict(body["error"])


def test_a_wrong_key_is_an_anthropic_authentication_error(router: Router) -> None:
    with (
        anthropic_client(router.url, "sk-wrong") as sdk,
        pytest.raises(anthropic.AuthenticationError) as caught,
    ):
        sdk.messages.create(
            model="gpt-4o-mini", max_tokens=5, messages=[{"role": "user", "content": "x"}]
        )
    _sdk_error(caught.value, "authentication_error")
    missing = httpx.post(router.url + "/v1/messages", json={})
    _error(missing, 401, "authentication_error")


def test_an_unknown_model_is_not_found(client: anthropic.Anthropic) -> None:
    with pytest.raises(anthropic.NotFoundError) as caught:
        client.messages.create(
            model="no-such-model", max_tokens=5, messages=[{"role": "user", "content": "x"}]
        )
    _sdk_error(caught.value, "not_found_error")


def test_bad_bodies_are_invalid_request_errors(api: httpx.Client) -> None:
    no_max = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "x"}]}
    assert (
        "max_tokens"
        in _error(api.post("/v1/messages", json=no_max), 400, "invalid_request_error")["message"]
    )
    _error(api.post("/v1/messages", content=b"{not json"), 400, "invalid_request_error")
    (row,) = latest_rows(api)
    assert row["front_door"] == "messages" and row["status"] == "error"


def test_a_model_the_key_may_not_use_is_a_permission_error(
    router: Router, admin: httpx.Client
) -> None:
    created = make_key(admin, allowed_models=["gpt-4o-mini"])
    with router.client(created["key"]) as limited:
        body = {
            "model": "claude-haiku-4-5",
            "max_tokens": 5,
            "messages": [{"role": "user", "content": "x"}],
        }
        _error(limited.post("/v1/messages", json=body), 403, "permission_error")
        counted = limited.post(
            "/v1/messages/count_tokens", json={k: v for k, v in body.items() if k != "max_tokens"}
        )
        _error(counted, 403, "permission_error")


def test_upstream_overload_is_an_overloaded_error(api: httpx.Client) -> None:
    body = {
        "model": "claude-haiku-4-5",
        "max_tokens": 5,
        "messages": [{"role": "user", "content": "mock:error_529"}],
    }
    _error(api.post("/v1/messages", json=body), 503, "overloaded_error")


def test_an_upstream_429_is_a_rate_limit_error(api: httpx.Client) -> None:
    body = {
        "model": "gpt-4o-mini",
        "max_tokens": 5,
        "messages": [{"role": "user", "content": "mock:error_429"}],
    }
    _error(api.post("/v1/messages", json=body), 429, "rate_limit_error")


def test_a_spent_budget_is_a_rate_limit_error(router: Router, admin: httpx.Client) -> None:
    created = make_key(admin, budget_usd="0", budget_period="total")
    with router.client(created["key"]) as client:
        body = {
            "model": "gpt-4o-mini",
            "max_tokens": 5,
            "messages": [{"role": "user", "content": "x"}],
        }
        error = _error(client.post("/v1/messages", json=body), 429, "rate_limit_error")
    assert error["code"] == "budget_exceeded"


def test_a_rate_limit_is_a_rate_limit_error_with_retry_after(
    router: Router, admin: httpx.Client
) -> None:
    created = make_key(admin, rpm_limit=1)
    with router.client(created["key"]) as client:
        body = {
            "model": "gpt-4o-mini",
            "max_tokens": 5,
            "messages": [{"role": "user", "content": "x"}],
        }
        assert client.post("/v1/messages", json=body).status_code == 200
        refused = client.post("/v1/messages", json=body)
        _error(refused, 429, "rate_limit_error")
    assert int(refused.headers["retry-after"]) >= 1


def test_an_error_after_the_stream_started_is_an_error_event(api: httpx.Client) -> None:
    body = {
        "model": "gpt-4o-mini",
        "max_tokens": 50,
        "stream": True,
        "messages": [{"role": "user", "content": "mock:stream_fail"}],
    }
    with api.stream("POST", "/v1/messages", json=body) as response:
        assert response.status_code == 200
        text = response.read().decode()
    assert "event: error" in text and '"type":"error"' in text.replace(" ", "")


def test_count_tokens_estimates_for_a_model_anthropic_does_not_serve(
    router: Router, client: anthropic.Anthropic
) -> None:
    before = len(router.openai.state.requests)
    counted = client.messages.count_tokens(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "12345678"}]
    )
    assert counted.input_tokens == 2  # the documented estimate: 4 characters a token
    assert len(router.openai.state.requests) == before


ALIASES = """\
models:
  claude-sonnet-4-5:             # Claude Code's main model, served by a cheaper one
    fallbacks: [gemini-2.5-flash]
    deployments:
      - {name: sonnet-on-openai, provider: openai, model: gpt-4o-mini}
  claude-haiku-4-5:              # its small background model
    deployments:
      - {name: haiku-on-gemini, provider: gemini, model: gemini-2.5-flash}
"""


def test_claude_code_names_can_be_sent_to_other_models(
    router: Router, user_key: str, tmp_path: Path
) -> None:
    config = tmp_path / "routing.yaml"
    config.write_text(ALIASES)
    with (
        serve(router, router_config=config) as url,
        httpx.Client(base_url=url, headers={"x-api-key": user_key}, timeout=30) as client,
    ):
        body = claude_code_body("say_hi_request.json", "claude-sonnet-4-5-20250929")
        answered = client.post("/v1/messages?beta=true", json=body | {"stream": False})
        assert answered.status_code == 200, answered.text
        Message.model_validate(answered.json())
        small = {"model": "claude-haiku-4-5-20251001", "max_tokens": 50}
        small["messages"] = [{"role": "user", "content": "Title for: say hi"}]
        assert client.post("/v1/messages", json=small).status_code == 200
        newest, oldest = latest_rows(client, 2)
    assert oldest["requested_model"] == "claude-sonnet-4-5-20250929"
    # The row names the public model; its attempts, the deployment that answered.
    assert (oldest["model"], oldest["provider"]) == ("claude-sonnet-4-5", "openai")
    assert oldest["attempts"][-1]["deployment"] == "sonnet-on-openai"
    assert newest["requested_model"] == "claude-haiku-4-5-20251001"
    assert (newest["model"], newest["provider"]) == ("claude-haiku-4-5", "gemini")
    assert newest["attempts"][-1]["deployment"] == "haiku-on-gemini"
    assert oldest["front_door"] == newest["front_door"] == "messages"


@pytest.mark.parametrize("model", ["claude-haiku-4-5", "gpt-4o-mini"])
def test_the_response_cache_answers_a_repeated_message(
    router: Router, user_key: str, model: str
) -> None:
    body = {
        "model": model,
        "max_tokens": 20,
        "messages": [{"role": "user", "content": f"cache me {uuid.uuid4()}"}],
    }
    with (
        serve(router, cache_enabled=True, cache_ttl=60.0) as url,
        httpx.Client(base_url=url, headers={"x-api-key": user_key}, timeout=30) as client,
    ):
        first = client.post("/v1/messages", json=body)
        second = client.post("/v1/messages", json=body)
        rows = latest_rows(client, 2)
    assert first.status_code == second.status_code == 200, second.text
    assert (first.headers["x-router-cache"], second.headers["x-router-cache"]) == ("miss", "hit")
    assert Message.model_validate(second.json()).content[0].type == "text"
    assert second.json()["content"] == first.json()["content"]
    assert [r["cache_status"] for r in rows] == ["hit", "miss"]
    assert all(r["front_door"] == "messages" for r in rows)


PIXEL = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJ"
    "RU5ErkJggg=="
)


@pytest.mark.parametrize("model", TARGETS)
def test_images_by_base64_and_url_reach_another_provider(
    router: Router, client: anthropic.Anthropic, model: str
) -> None:
    content: Any = [
        {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PIXEL}},
        {"type": "image", "source": {"type": "url", "url": "https://example.com/cat.png"}},
        {"type": "text", "text": "What are these?"},
    ]
    message = client.messages.create(
        model=model, max_tokens=50, messages=[{"role": "user", "content": content}]
    )
    assert isinstance(message, Message)
    mock = router.openai if TARGETS[model] == "openai" else router.gemini
    sent = json.dumps(mock.state.last().body)
    assert PIXEL in sent and "https://example.com/cat.png" in sent


def test_a_body_too_large_is_request_too_large(router: Router, user_key: str) -> None:
    body = {"model": "gpt-4o-mini", "max_tokens": 5}
    body["messages"] = [{"role": "user", "content": "x" * 2_000}]
    with serve(router, max_request_bytes=1_000) as url:
        response = httpx.post(f"{url}/v1/messages", json=body, headers={"x-api-key": user_key})
    _error(response, 413, "request_too_large")


def test_count_tokens_errors_are_anthropic_shaped(api: httpx.Client) -> None:
    unknown = {"model": "no-such-model", "messages": [{"role": "user", "content": "x"}]}
    _error(api.post("/v1/messages/count_tokens", json=unknown), 404, "not_found_error")
    no_messages = {"model": "gpt-4o-mini"}
    _error(api.post("/v1/messages/count_tokens", json=no_messages), 400, "invalid_request_error")
    _error(api.post("/v1/messages/count_tokens", content=b"[1"), 400, "invalid_request_error")


def test_an_image_for_a_text_only_model_is_a_400_that_says_so(
    router: Router, client: anthropic.Anthropic
) -> None:
    before = len(router.deepseek.state.requests)
    content: Any = [
        {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PIXEL}},
        {"type": "text", "text": "What is this?"},
    ]
    with pytest.raises(anthropic.BadRequestError) as caught:
        client.messages.create(
            model="deepseek-flash", max_tokens=50, messages=[{"role": "user", "content": content}]
        )
    assert "reads text only" in _sdk_error(caught.value, "invalid_request_error")["message"]
    assert len(router.deepseek.state.requests) == before
