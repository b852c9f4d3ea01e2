"""Anthropic adapter beyond what an OpenAI client can ask: a native Messages body
passed through, thinking with its signature, redacted thinking, documents,
prompt-cache hints and 1-hour cache writes, on captured payloads."""

from __future__ import annotations

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
from model_router.providers.anthropic.translate import from_response, parse_usage, to_request
from model_router.providers.base import Target

TARGET = Target(upstream_model="claude-sonnet-4-5-20250929")
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
