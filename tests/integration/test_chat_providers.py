"""One conformance suite, run through the router against every provider's mock.

Each case names a catalogue model; the router picks the adapter, the mock
checks the wire format it receives and answers in its own.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest

from tests.conftest import KEYS, Mock, Router
from tests.helpers import assert_error, chat, request_detail, sse_lines
from tests.openapi import assert_valid

# model -> the attribute of Router holding its mock
PROVIDERS = {
    "claude-haiku-4-5": "anthropic",
    "gemini-2.5-flash": "gemini",
    "deepseek-flash": "deepseek",
    "acme-large": "acme",
}
MODELS = list(PROVIDERS)
TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Weather in a city",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
        },
    }
]
PIXEL = (
    "data:image/png;base64,"
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


def mock_of(router: Router, model: str) -> Mock:
    mock: Mock = getattr(router, PROVIDERS[model])
    return mock


def cost(body: dict[str, Any]) -> Decimal:
    return Decimal(str(body["usage"]["total_cost_usd"]))


@pytest.mark.parametrize("model", MODELS)
def test_plain_chat_is_translated_both_ways(router: Router, api: httpx.Client, model: str) -> None:
    response = chat(api, "Bonjour", model=model)
    assert response.status_code == 200, response.text
    body = response.json()
    assert_valid(body, "CreateChatCompletionResponse")
    assert body["content"] == "Echo: Bonjour"
    assert body["provider"] == PROVIDERS[model]
    assert (
        body["usage"]["total_tokens"]
        == body["usage"]["prompt_tokens"] + body["usage"]["completion_tokens"]
    )
    assert cost(body) > 0
    sent = mock_of(router, model).state.last()
    key = KEYS[PROVIDERS[model]]
    assert key in (
        sent.headers.get("x-api-key"),
        sent.headers.get("x-goog-api-key"),
        sent.headers.get("authorization", "")[7:],
    )


@pytest.mark.parametrize("model", MODELS)
def test_system_and_multi_turn_history_arrive(
    router: Router, api: httpx.Client, model: str
) -> None:
    messages = [
        {"role": "system", "content": "You are terse."},
        {"role": "developer", "content": "Answer in French."},
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Hello"},
        {"role": "user", "content": "How are you?"},
    ]
    response = api.post("/v1/chat/completions", json={"model": model, "messages": messages})
    assert response.status_code == 200, response.text
    assert response.json()["content"] == "Echo: How are you?"
    sent = mock_of(router, model).state.last().body
    text = json.dumps(sent)
    assert "You are terse." in text and "Answer in French." in text and "Hello" in text
    if PROVIDERS[model] == "anthropic":
        assert "You are terse." in json.dumps(sent["system"])
        assert [m["role"] for m in sent["messages"]] == ["user", "assistant", "user"]
    if PROVIDERS[model] == "gemini":
        assert "You are terse." in json.dumps(sent["systemInstruction"])
        assert [c["role"] for c in sent["contents"]] == ["user", "model", "user"]


@pytest.mark.parametrize("model", MODELS)
def test_images_are_sent_in_the_providers_form(
    router: Router, api: httpx.Client, model: str
) -> None:
    content = [
        {"type": "text", "text": "What is this?"},
        {"type": "image_url", "image_url": {"url": PIXEL}},
    ]
    body = {"model": model, "messages": [{"role": "user", "content": content}]}
    response = api.post("/v1/chat/completions", json=body)
    assert response.status_code == 200, response.text
    sent = json.dumps(mock_of(router, model).state.last().body)
    assert PIXEL.split(",", 1)[1] in sent


@pytest.mark.parametrize("model", MODELS)
def test_tool_round_trip(router: Router, api: httpx.Client, model: str) -> None:
    first = chat(api, "mock:tool_call weather?", model=model, tools=TOOLS).json()
    assert first["finish_reason"] == "tool_calls", first
    call = first["choices"][0]["message"]["tool_calls"][0]
    assert call["function"]["name"] == "get_weather"
    assert json.loads(call["function"]["arguments"]) == {"city": "Paris"}
    messages = [
        {"role": "user", "content": "weather?"},
        first["choices"][0]["message"],
        {"role": "tool", "tool_call_id": call["id"], "content": '{"temp_c": 21}'},
    ]
    second = api.post(
        "/v1/chat/completions", json={"model": model, "messages": messages, "tools": TOOLS}
    )
    assert second.status_code == 200, second.text
    assert "temp_c" in json.dumps(mock_of(router, model).state.last().body)


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize(
    ("scenario", "finish"), [("length", "length"), ("content_filter", "content_filter")]
)
def test_finish_reasons_map_to_openai_values(
    api: httpx.Client, model: str, scenario: str, finish: str
) -> None:
    body = chat(api, f"mock:{scenario}", model=model).json()
    assert body["finish_reason"] == finish
    assert body["choices"][0]["finish_reason"] == finish


@pytest.mark.parametrize(
    ("model", "scenario", "expected"),
    [
        # claude-haiku-4-5: 1.00 in, 0.10 cache read, 1.25 cache write, 5.00 out (per 1M)
        ("claude-haiku-4-5", "cached", Decimal("0.00115")),  # 500 + 1500 read, 100 out
        ("claude-haiku-4-5", "cache_write", Decimal("0.00225")),  # 500 + 1000 written, 100 out
        # gemini-2.5-flash: 0.30 in, 0.03 cached, 2.50 out
        ("gemini-2.5-flash", "cached", Decimal("0.000445")),  # 2000 of which 1500 cached, 100 out
        ("gemini-2.5-flash", "reasoning", Decimal("0.000753")),  # 10 in; 100 + 200 thoughts out
        # deepseek-flash: 0.15 miss, 0.003 hit, 0.60 out (double in its peak hours)
        ("deepseek-flash", "cached", Decimal("0.0001395")),  # 500 miss + 1500 hit, 100 out
    ],
)
def test_cached_and_reasoning_tokens_are_priced_at_their_rates(
    api: httpx.Client, model: str, scenario: str, expected: Decimal
) -> None:
    body = chat(api, f"mock:{scenario}", model=model).json()
    detail = request_detail(api, body["id"])
    if model.startswith("deepseek") and _deepseek_peak(
        datetime.fromisoformat(detail["created_at"])
    ):
        expected *= 2
    assert cost(body) == expected, body["usage"]
    assert Decimal(str(detail["total_cost_usd"])) == expected


def _deepseek_peak(at: datetime) -> bool:
    """DeepSeek's double-rate hours since 2026-08-16: 01:00-04:00 and 06:00-10:00 UTC."""
    hour = at.astimezone(UTC).hour
    return 1 <= hour < 4 or 6 <= hour < 10


@pytest.mark.parametrize("model", ["claude-haiku-4-5", "gemini-2.5-flash", "deepseek-flash"])
def test_reasoning_is_passed_through(api: httpx.Client, model: str) -> None:
    body = chat(api, "mock:reasoning", model=model).json()
    message = body["choices"][0]["message"]
    assert message.get("reasoning_content"), body
    assert body["usage"]["completion_tokens_details"]["reasoning_tokens"] > 0


@pytest.mark.parametrize("model", MODELS)
def test_streaming_from_every_provider(api: httpx.Client, model: str) -> None:
    body = {
        "model": model,
        "stream": True,
        "stream_options": {"include_usage": True},
        "messages": [{"role": "user", "content": "mock:chunks=4"}],
    }
    with api.stream("POST", "/v1/chat/completions", json=body) as response:
        assert response.status_code == 200
        lines = sse_lines(response)
    assert lines[-1] == "[DONE]"
    chunks = [json.loads(line) for line in lines[:-1]]
    for chunk in chunks:
        assert_valid(chunk, "CreateChatCompletionStreamResponse")
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"])
    assert text == "Hello from the mock. The answer is 42."
    assert chunks[-1]["usage"]["total_cost_usd"] is not None
    assert chunks[-1]["usage"]["completion_tokens"] > 0


@pytest.mark.parametrize("model", MODELS)
def test_streamed_tool_calls_use_openai_indexed_deltas(api: httpx.Client, model: str) -> None:
    body = {
        "model": model,
        "stream": True,
        "tools": TOOLS,
        "messages": [{"role": "user", "content": "mock:tool_call"}],
    }
    with api.stream("POST", "/v1/chat/completions", json=body) as response:
        lines = sse_lines(response)
    chunks = [json.loads(line) for line in lines[:-1]]
    deltas = [
        d for c in chunks if c["choices"] for d in c["choices"][0]["delta"].get("tool_calls") or []
    ]
    assert (
        deltas[0]["index"] == 0
        and deltas[0]["id"]
        and deltas[0]["function"]["name"] == "get_weather"
    )
    assert json.loads("".join(d["function"].get("arguments", "") for d in deltas)) == {
        "city": "Paris"
    }
    finishes = [c["choices"][0]["finish_reason"] for c in chunks if c["choices"]]
    assert finishes[-1] == "tool_calls"


@pytest.mark.parametrize("model", MODELS)
def test_mid_stream_failure_is_an_error_event(api: httpx.Client, model: str) -> None:
    body = {
        "model": model,
        "stream": True,
        "messages": [{"role": "user", "content": "mock:stream_fail"}],
    }
    with api.stream("POST", "/v1/chat/completions", json=body) as response:
        lines = sse_lines(response)
    assert lines[-1] != "[DONE]"
    assert set(json.loads(lines[-1])["error"]) == {"message", "type", "param", "code"}
    detail = request_detail(api, json.loads(lines[0])["id"])
    assert detail["status"] == "error"


@pytest.mark.parametrize("model", MODELS)
def test_upstream_rate_limit_passes_retry_after(api: httpx.Client, model: str) -> None:
    response = chat(api, "mock:error_429", model=model)
    error = assert_error(response, 429)
    assert error["type"] == "rate_limit_error"
    assert response.headers["retry-after"] == "7"
    assert PROVIDERS[model] in error["message"]


@pytest.mark.parametrize("model", MODELS)
def test_upstream_server_error_is_502_and_bad_json_is_502(api: httpx.Client, model: str) -> None:
    assert_error(chat(api, "mock:error_500", model=model), 502)
    assert_error(chat(api, "mock:bad_json", model=model), 502)


def test_anthropic_overloaded_is_503(api: httpx.Client) -> None:
    response = chat(api, "mock:error_529", model="claude-haiku-4-5")
    assert_error(response, 503)
    assert response.headers.get("retry-after") == "7"


@pytest.mark.parametrize("model", ["claude-haiku-4-5", "gemini-2.5-flash"])
def test_what_a_provider_cannot_do_is_a_400_naming_it(api: httpx.Client, model: str) -> None:
    assert_error(chat(api, "hi", model=model, n=2), 400, param="n")
    audio = [{"type": "input_audio", "input_audio": {"data": "AAAA", "format": "wav"}}]
    response = api.post(
        "/v1/chat/completions",
        json={"model": model, "messages": [{"role": "user", "content": audio}]},
    )
    error = assert_error(response, 400)
    assert "input_audio" in error["message"]


def test_anthropic_gets_a_max_tokens_default_and_json_mode_emulated(
    router: Router, api: httpx.Client
) -> None:
    response = chat(
        api, "give json", model="claude-haiku-4-5", response_format={"type": "json_object"}
    )
    assert response.status_code == 200, response.text
    sent = router.anthropic.state.last().body
    assert sent["max_tokens"] == 64_000  # the model's max output, from the catalogue
    assert "JSON" in json.dumps(sent["system"])


def test_gemini_gets_native_json_schema(router: Router, api: httpx.Client) -> None:
    schema = {"type": "object", "properties": {"answer": {"type": "integer"}}}
    response_format = {"type": "json_schema", "json_schema": {"name": "a", "schema": schema}}
    response = chat(api, "mock:json", model="gemini-2.5-flash", response_format=response_format)
    assert response.status_code == 200, response.text
    config = router.gemini.state.last().body["generationConfig"]
    assert config["responseMimeType"] == "application/json"
    assert config["responseJsonSchema"] == schema


def test_user_added_provider_gets_the_upstream_model_name(
    router: Router, api: httpx.Client
) -> None:
    body = chat(api, "hello acme", model="acme-large").json()
    assert router.acme.state.last().body["model"] == "acme/large-v2"
    assert body["model"] == "acme-large"
    # acme-large: 1.25 in, 5 out per 1M; 10 in, 5 out
    assert cost(body) == Decimal("0.0000375")


@pytest.mark.parametrize(
    ("alias", "thinking"), [("deepseek-chat", "disabled"), ("deepseek-reasoner", "enabled")]
)
def test_retired_deepseek_names_call_flash_with_thinking_set(
    router: Router, api: httpx.Client, alias: str, thinking: str
) -> None:
    body = chat(api, "legacy name", model=alias).json()
    assert body["model"] == alias
    sent = router.deepseek.state.last().body
    assert sent["model"] == "deepseek-flash"
    assert sent["thinking"] == {"type": thinking}


def test_azure_style_provider_sends_the_key_in_an_api_key_header(
    router: Router, api: httpx.Client
) -> None:
    response = chat(api, "hello azure", model="azure-gpt-4o")
    assert response.status_code == 200, response.text
    sent = router.openai.state.last()
    assert sent.headers["api-key"] == KEYS["openai"]
    assert "authorization" not in sent.headers
    assert sent.body["model"] == "my-gpt-4o"
