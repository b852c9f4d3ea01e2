"""Anthropic adapter beyond what an OpenAI client can ask: a native Messages body
passed through, thinking with its signature, redacted thinking, documents,
prompt-cache hints and 1-hour cache writes, on captured payloads."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager

import pytest

from model_router.domain.completion import NativeFrame, TextDelta
from model_router.domain.content import (
    Document,
    Message,
    Reasoning,
    RedactedReasoning,
    Text,
    ToolCall,
    ToolResult,
)
from model_router.domain.request import NativeBody, ReasoningConfig, Request
from model_router.domain.usage import Usage
from model_router.providers.anthropic import AnthropicProvider
from model_router.providers.anthropic.translate import from_response, parse_usage, to_request
from model_router.providers.base import ProviderConfig, Target
from model_router.providers.registry import make_client
from tests.mocks.anthropic_mock import create_app
from tests.mocks.server import MockState, ServerThread

TARGET = Target(upstream_model="claude-sonnet-4-5-20250929")
KEY = "sk-ant-mock-key"
EPHEMERAL = {"type": "ephemeral"}


def test_a_native_messages_body_is_sent_as_it_came_with_the_model_swapped() -> None:
    body = {
        "model": "claude-sonnet-4-5",
        "max_tokens": 1024,
        "system": [{"type": "text", "text": "Be terse.", "cache_control": EPHEMERAL}],
        "messages": [{"role": "user", "content": "Hi"}],
        "thinking": {"type": "enabled", "budget_tokens": 2048},
        "container": "c-1",
        "stream": True,
        "models": ["gpt-4o"],
    }
    request = Request(
        model="claude-sonnet-4-5",
        messages=[Message("user", [Text("Hi")])],
        native=NativeBody("anthropic", body, {"anthropic-beta": "files-api-2025-04-14"}),
    )
    sent = to_request(request, TARGET, stream=False)
    assert sent == {k: v for k, v in body.items() if k not in ("stream", "models")} | {
        "model": "claude-sonnet-4-5-20250929"
    }
    assert to_request(request, TARGET, stream=True)["stream"] is True


def test_signed_thinking_redacted_thinking_documents_and_cache_hints_are_sent() -> None:
    request = Request(
        model="claude",
        messages=[
            Message(
                "user",
                [
                    Document("application/pdf", data="JVBER", title="Q3", cache_control=EPHEMERAL),
                    Text("Summarise.", cache_control=EPHEMERAL),
                ],
            ),
            Message(
                "assistant",
                [
                    Reasoning("Read it.", "sig-1"),
                    RedactedReasoning("enc"),
                    Reasoning("unsigned, dropped"),
                    ToolCall("toolu_1", "search", '{"q": "x"}'),
                ],
            ),
            Message("user", [ToolResult("toolu_1", [Text("found")], is_error=True)]),
        ],
        reasoning=ReasoningConfig(mode="enabled", budget_tokens=4000),
    )
    sent = to_request(request, TARGET, stream=False)
    assert sent["messages"] == [
        {
            "role": "user",
            "content": [
                {
                    "type": "document",
                    "source": {"type": "base64", "media_type": "application/pdf", "data": "JVBER"},
                    "title": "Q3",
                    "cache_control": EPHEMERAL,
                },
                {"type": "text", "text": "Summarise.", "cache_control": EPHEMERAL},
            ],
        },
        {
            "role": "assistant",
            "content": [
                {"type": "thinking", "thinking": "Read it.", "signature": "sig-1"},
                {"type": "redacted_thinking", "data": "enc"},
                {"type": "tool_use", "id": "toolu_1", "name": "search", "input": {"q": "x"}},
            ],
        },
        {
            "role": "user",
            "content": [
                {
                    "type": "tool_result",
                    "tool_use_id": "toolu_1",
                    "content": "found",
                    "is_error": True,
                }
            ],
        },
    ]
    assert sent["thinking"] == {"type": "enabled", "budget_tokens": 4000}


def test_thinking_keeps_its_signature_and_redacted_thinking_its_data() -> None:
    data = {
        "id": "msg_1",
        "model": "claude-sonnet-4-5",
        "stop_reason": "stop_sequence",
        "stop_sequence": "END",
        "content": [
            {"type": "thinking", "thinking": "6 x 7", "signature": "EqQB"},
            {"type": "redacted_thinking", "data": "EmwK"},
            {"type": "text", "text": "42"},
        ],
        "usage": {"input_tokens": 10, "output_tokens": 5},
    }
    completion = from_response(data, "anthropic")
    assert completion.parts == [Reasoning("6 x 7", "EqQB"), RedactedReasoning("EmwK"), Text("42")]
    assert (completion.finish_reason, completion.stop_sequence) == ("stop", "END")


def test_cache_writes_for_an_hour_are_told_apart() -> None:
    usage = parse_usage(
        {
            "input_tokens": 50,
            "cache_creation_input_tokens": 3000,
            "cache_read_input_tokens": 100,
            "cache_creation": {
                "ephemeral_5m_input_tokens": 1000,
                "ephemeral_1h_input_tokens": 2000,
            },
            "output_tokens": 7,
        }
    )
    assert usage == Usage(
        input_tokens=3150,
        output_tokens=7,
        cached_input_tokens=100,
        cache_write_tokens=3000,
        cache_write_1h_tokens=2000,
    )


# --- the adapter, against the Anthropic mock ----------------------------------------------


@pytest.fixture(scope="module")
def mock() -> Iterator[tuple[ServerThread, MockState]]:
    state = MockState()
    with ServerThread(create_app(state, api_key=KEY)) as server:
        yield server, state


@asynccontextmanager
async def adapter(server: ServerThread) -> AsyncIterator[AnthropicProvider]:
    config = ProviderConfig(
        name="anthropic",
        protocol="anthropic",
        base_url=server.url,
        api_key=KEY,
        api_key_setting="ANTHROPIC_API_KEY",
    )
    client = make_client(connect_timeout=5, read_timeout=5, max_connections=4)
    async with client:
        yield AnthropicProvider(config, client)


def native(stream: bool) -> Request:
    body = {
        "model": "claude",
        "max_tokens": 64,
        "messages": [{"role": "user", "content": "Hello"}],
        "stream": stream,
    }
    headers = {"anthropic-version": "2023-06-01", "anthropic-beta": "context-1m-2025-08-07"}
    return Request(
        model="claude",
        messages=[Message("user", [Text("Hello")])],
        stream=stream,
        native=NativeBody("anthropic", body, headers),
    )


@pytest.mark.anyio
async def test_a_native_call_passes_the_clients_headers_and_returns_the_upstream_body(
    mock: tuple[ServerThread, MockState],
) -> None:
    server, state = mock
    async with adapter(server) as provider:
        completion = await provider.complete(native(False), Target(upstream_model="claude-mock-1"))
    assert completion.text == "Echo: Hello"
    assert completion.native is not None and completion.native.protocol == "anthropic"
    assert completion.native.body["content"][0]["text"] == "Echo: Hello"
    assert state.last().headers["anthropic-beta"] == "context-1m-2025-08-07"
    assert state.last().body["model"] == "claude-mock-1"


@pytest.mark.anyio
async def test_a_native_stream_yields_each_upstream_frame_before_its_events(
    mock: tuple[ServerThread, MockState],
) -> None:
    server, _state = mock
    async with adapter(server) as provider:
        target = Target(upstream_model="claude-mock-1")
        events = [e async for e in provider.stream(native(True), target)]
    frames = [e for e in events if isinstance(e, NativeFrame)]
    assert frames[0].frame.startswith(b"event: message_start\ndata: {")
    assert frames[-1].frame.startswith(b"event: message_stop\n")
    first_text = next(i for i, e in enumerate(events) if isinstance(e, TextDelta))
    assert isinstance(events[first_text - 1], NativeFrame)
    assert b"content_block_delta" in events[first_text - 1].frame  # type: ignore[union-attr]
    plain = [e async for e in _plain_stream(server)]
    assert not any(isinstance(e, NativeFrame) for e in plain)


async def _plain_stream(server: ServerThread) -> AsyncIterator[object]:
    request = Request(model="claude", messages=[Message("user", [Text("Hello")])], stream=True)
    async with adapter(server) as provider:
        async for event in provider.stream(request, Target(upstream_model="claude-mock-1")):
            yield event
