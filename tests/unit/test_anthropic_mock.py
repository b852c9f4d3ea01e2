"""The Anthropic mock speaks the wire format the official SDK parses, and checks requests."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import anthropic
import pytest
from anthropic.types import MessageParam, ToolParam

from tests.mocks.anthropic_mock import create_app
from tests.mocks.scenarios import REPLY
from tests.mocks.server import MockState, ServerThread

KEY = "sk-ant-mock-key"
MODEL = "claude-mock-1"  # not a real model: no SDK deprecation warnings, ever
WEATHER: ToolParam = {
    "name": "get_weather",
    "description": "Current weather in a city",
    "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}},
}


@pytest.fixture(scope="module")
def state() -> MockState:
    return MockState()


@pytest.fixture(scope="module")
def server(state: MockState) -> Iterator[ServerThread]:
    with ServerThread(create_app(state, api_key=KEY)) as running:
        yield running


@pytest.fixture
def client(server: ServerThread, state: MockState) -> Iterator[anthropic.Anthropic]:
    state.clear()
    with anthropic.Anthropic(api_key=KEY, base_url=server.url, max_retries=0) as sdk:
        yield sdk


def ask(text: str) -> list[MessageParam]:
    return [{"role": "user", "content": text}]


def test_sdk_parses_a_plain_message(client: anthropic.Anthropic, state: MockState) -> None:
    message = client.messages.create(model=MODEL, max_tokens=64, messages=ask("Hello"))
    assert message.content[0].type == "text"
    assert message.content[0].text == "Echo: Hello"
    assert message.stop_reason == "end_turn"
    assert (message.usage.input_tokens, message.usage.output_tokens) == (10, 5)
    assert state.last().path == "/v1/messages"
    assert state.last().body["max_tokens"] == 64


def test_sdk_parses_cache_usage(client: anthropic.Anthropic) -> None:
    usage = client.messages.create(model=MODEL, max_tokens=64, messages=ask("mock:cached")).usage
    assert (usage.input_tokens, usage.cache_read_input_tokens, usage.output_tokens) == (
        500,
        1500,
        100,
    )


def test_sdk_parses_a_tool_call_and_its_answer_is_accepted(client: anthropic.Anthropic) -> None:
    messages = ask("Weather in Paris? mock:tool_call")
    first = client.messages.create(model=MODEL, max_tokens=64, messages=messages, tools=[WEATHER])
    call = first.content[0]
    assert first.stop_reason == "tool_use"
    assert call.type == "tool_use"
    assert (call.name, call.input) == ("get_weather", {"city": "Paris"})

    answer: list[MessageParam] = [
        *messages,
        {
            "role": "assistant",
            "content": [call.model_dump(include={"type", "id", "name", "input"})],
        },
        {
            "role": "user",
            "content": [{"type": "tool_result", "tool_use_id": call.id, "content": "18C"}],
        },
    ]
    second = client.messages.create(model=MODEL, max_tokens=64, messages=answer, tools=[WEATHER])
    assert second.stop_reason == "tool_use"  # the directive is still the last user text


def test_sdk_streams_text_deltas_and_the_final_usage(
    client: anthropic.Anthropic, state: MockState
) -> None:
    with client.messages.stream(
        model=MODEL, max_tokens=64, messages=ask("mock:chunks=4")
    ) as stream:
        pieces = list(stream.text_stream)
        final = stream.get_final_message()
    assert len(pieces) == 4
    assert "".join(pieces) == REPLY
    assert final.stop_reason == "end_turn"
    assert (final.usage.input_tokens, final.usage.output_tokens) == (10, 5)
    assert state.last().body["stream"] is True
    assert state.disconnects == 0


def test_sdk_streams_a_tool_call(client: anthropic.Anthropic) -> None:
    with client.messages.stream(
        model=MODEL, max_tokens=64, messages=ask("mock:tool_call"), tools=[WEATHER]
    ) as stream:
        final = stream.get_final_message()
    assert final.content[0].type == "tool_use"
    assert final.content[0].input == {"city": "Paris"}
    assert final.stop_reason == "tool_use"


def test_stream_fail_sends_an_overloaded_error_event(client: anthropic.Anthropic) -> None:
    with (
        pytest.raises(anthropic.APIStatusError) as raised,
        client.messages.stream(model=MODEL, max_tokens=64, messages=ask("mock:stream_fail")) as s,
    ):
        list(s.text_stream)
    body: Any = raised.value.body
    assert body["error"]["type"] == "overloaded_error"


def test_error_429_raises_rate_limit_error_with_retry_after(client: anthropic.Anthropic) -> None:
    with pytest.raises(anthropic.RateLimitError) as raised:
        client.messages.create(model=MODEL, max_tokens=64, messages=ask("mock:error_429"))
    assert raised.value.response.headers["retry-after"] == "7"
    body: Any = raised.value.body
    assert body["error"]["type"] == "rate_limit_error"


def test_error_529_raises_overloaded_error(client: anthropic.Anthropic) -> None:
    with pytest.raises(anthropic.OverloadedError):
        client.messages.create(model=MODEL, max_tokens=64, messages=ask("mock:error_529"))


def test_wrong_key_is_an_authentication_error(server: ServerThread) -> None:
    with (
        anthropic.Anthropic(api_key="sk-ant-wrong", base_url=server.url, max_retries=0) as sdk,
        pytest.raises(anthropic.AuthenticationError),
    ):
        sdk.messages.create(model=MODEL, max_tokens=64, messages=ask("Hello"))


@pytest.mark.parametrize(
    ("messages", "extra", "complaint"),
    [
        (ask("Hi") + ask("Again"), {}, "alternate"),
        ([{"role": "user", "content": [{"type": "text", "text": ""}]}], {}, "non-whitespace"),
        (ask("Hi"), {"n": 2}, "Extra inputs"),
        (ask("Hi"), {"temperature": 0.5}, "2026-10-21"),  # the SDK's own version
        (
            [
                *ask("Hi"),
                {
                    "role": "assistant",
                    "content": [{"type": "tool_use", "id": "t1", "name": "f", "input": {}}],
                },
                *ask("Ignore the tool"),
            ],
            {"tools": [WEATHER]},
            "without tool_result",
        ),
    ],
)
def test_requests_the_real_api_refuses_are_refused(
    client: anthropic.Anthropic,
    messages: list[MessageParam],
    extra: dict[str, Any],
    complaint: str,
) -> None:
    with pytest.raises(anthropic.BadRequestError) as raised:
        client.messages.create(model=MODEL, max_tokens=64, messages=messages, extra_body=extra)
    assert complaint in str(raised.value)
