"""The official OpenAI SDK, unchanged, against the router, for every provider."""

from __future__ import annotations

from decimal import Decimal

import openai
import pytest

from tests.conftest import Router
from tests.helpers import request_detail

MODELS = ["gpt-4o-mini", "claude-sonnet-4-5", "gemini-2.5-flash", "deepseek-flash", "acme-large"]
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


@pytest.fixture
def sdk(router: Router, user_key: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{router.url}/v1", api_key=user_key, max_retries=0)


@pytest.mark.parametrize("model", MODELS)
def test_sdk_chat_reaches_every_provider(sdk: openai.OpenAI, model: str) -> None:
    completion = sdk.chat.completions.create(
        model=model, messages=[{"role": "user", "content": "Say hello"}]
    )
    assert completion.model == model
    assert completion.choices[0].message.content == "Echo: Say hello"
    assert completion.choices[0].finish_reason == "stop"
    assert completion.usage is not None and completion.usage.total_tokens > 0


@pytest.mark.parametrize("model", MODELS)
def test_sdk_streaming_reaches_every_provider(
    sdk: openai.OpenAI, model: str, router: Router, user_key: str
) -> None:
    stream = sdk.chat.completions.create(
        model=model,
        messages=[{"role": "user", "content": "mock:chunks=6"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "Hello from the mock. The answer is 42."
    usage = chunks[-1].usage
    assert usage is not None and usage.prompt_tokens > 0
    with router.client(user_key) as client:
        detail = request_detail(client, chunks[0].id)
    assert detail["status"] == "success" and detail["model"] == model
    assert Decimal(str(detail["total_cost_usd"])) > 0


@pytest.mark.parametrize("model", MODELS)
def test_sdk_tool_calls_from_every_provider(sdk: openai.OpenAI, model: str) -> None:
    completion = sdk.chat.completions.create(
        model=model,
        messages=[{"role": "user", "content": "mock:tool_call weather in Paris?"}],
        tools=TOOLS,  # type: ignore[arg-type]
    )
    choice = completion.choices[0]
    assert choice.finish_reason == "tool_calls"
    call = choice.message.tool_calls[0]  # type: ignore[index]
    assert call.function.name == "get_weather"  # type: ignore[union-attr]
    assert '"Paris"' in call.function.arguments  # type: ignore[union-attr]
    # and the result goes back in the next turn
    follow_up = sdk.chat.completions.create(
        model=model,
        messages=[
            {"role": "user", "content": "weather in Paris?"},
            choice.message.model_dump(exclude_none=True),  # type: ignore[list-item]
            {"role": "tool", "tool_call_id": call.id, "content": '{"temp_c": 21}'},
        ],
        tools=TOOLS,  # type: ignore[arg-type]
    )
    assert follow_up.choices[0].finish_reason == "stop"


def test_sdk_lists_models(sdk: openai.OpenAI) -> None:
    ids = {m.id for m in sdk.models.list()}
    assert set(MODELS) <= ids


def test_sdk_sees_typed_errors(sdk: openai.OpenAI) -> None:
    with pytest.raises(openai.NotFoundError):
        sdk.chat.completions.create(
            model="no-such-model", messages=[{"role": "user", "content": "x"}]
        )
    with pytest.raises(openai.RateLimitError):
        sdk.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "mock:error_429"}]
        )
    with pytest.raises(openai.APIError, match="mid-stream"):
        for _ in sdk.chat.completions.create(
            model="gpt-4o-mini",
            messages=[{"role": "user", "content": "mock:stream_fail"}],
            stream=True,
        ):
            pass
