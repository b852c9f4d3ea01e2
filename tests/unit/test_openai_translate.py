"""OpenAI-compatible adapter: the body sent upstream (the client's own, or
translated from the neutral request) and the answer read back, on captured payloads."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from model_router.domain import Finish, ReasoningDelta, TextDelta, ToolCallDelta, UsageReport
from model_router.domain.content import (
    Document,
    Image,
    Message,
    Opaque,
    Reasoning,
    Text,
    ToolCall,
    ToolResult,
)
from model_router.domain.request import NamedTool, OutputFormat, ReasoningConfig, Request, Tool
from model_router.domain.usage import Usage
from model_router.errors import UnsupportedFeature
from model_router.frontdoors.anthropic_messages import MessagesDoor
from model_router.frontdoors.openai_chat_translate import to_request as door_request
from model_router.providers.base import Target
from model_router.providers.openai_body import body_from_request
from model_router.providers.openai_compat import from_response, parse_chunk, to_request

TARGET = Target(upstream_model="gpt-4o-2024-08-06", extra_body={"service_tier": "flex"})


def test_a_chat_completions_body_goes_upstream_as_sent_with_the_model_swapped() -> None:
    body = {
        "model": "gpt-4o",
        "messages": [
            {"role": "developer", "content": "Be terse."},
            {"role": "user", "content": "Hi"},
        ],
        "logprobs": True,
        "prediction": {"type": "content", "content": "x"},
        "models": ["claude"],
        "routing": {"max_input_price_per_1m": 1},
        "cache": {"ttl": 60},
        "stream": True,
    }
    payload = to_request(door_request(body), TARGET, stream=False)
    assert payload == {
        "model": "gpt-4o-2024-08-06",
        "messages": body["messages"],
        "logprobs": True,
        "prediction": {"type": "content", "content": "x"},
        "service_tier": "flex",
    }
    assert body["model"] == "gpt-4o" and "models" in body  # the client's body is not changed


def test_a_stream_always_asks_for_usage() -> None:
    body: dict[str, Any] = {"model": "m", "messages": [{"role": "user", "content": "Hi"}]}
    body["stream_options"] = {"include_usage": False}
    payload = to_request(door_request(body), TARGET, stream=True)
    assert payload["stream"] is True and payload["stream_options"] == {"include_usage": True}


def neutral(**fields: Any) -> Request:
    return Request(**{"model": "claude-x", "messages": [Message("user", [Text("Hi")])]} | fields)


def test_a_neutral_request_is_translated_to_chat_completions() -> None:
    request = neutral(
        model="o4-mini",
        messages=[
            Message("system", [Text("Be terse.")]),
            Message("user", [Text("What is in "), Image(data="iVBOR", media_type="image/png")]),
            Message(
                "assistant",
                [Reasoning("hmm", "sig"), Text("Let me look."), ToolCall("c1", "look", '{"a":1}')],
            ),
            Message("user", [ToolResult("c1", [Text("a cat")]), Text("So?")]),
        ],
        max_output_tokens=100,
        temperature=0.5,
        stop=["END"],
        tools=[Tool("look", "Looks.", {"type": "object"})],
        tool_choice=NamedTool("look"),
        output_format=OutputFormat("json_schema", {"type": "object"}, "answer", True),
        reasoning=ReasoningConfig(effort="low", budget_tokens=2000),
    )
    assert body_from_request(request) == {
        "model": "o4-mini",
        "messages": [
            {"role": "system", "content": "Be terse."},
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "What is in "},
                    {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBOR"}},
                ],
            },
            {
                "role": "assistant",
                "content": "Let me look.",
                "tool_calls": [
                    {
                        "id": "c1",
                        "type": "function",
                        "function": {"name": "look", "arguments": '{"a":1}'},
                    }
                ],
            },
            {"role": "tool", "tool_call_id": "c1", "content": "a cat"},
            {"role": "user", "content": "So?"},
        ],
        "max_completion_tokens": 100,
        "temperature": 0.5,
        "stop": ["END"],
        "reasoning_effort": "low",
        "tools": [
            {
                "type": "function",
                "function": {
                    "name": "look",
                    "description": "Looks.",
                    "parameters": {"type": "object"},
                },
            }
        ],
        "tool_choice": {"type": "function", "function": {"name": "look"}},
        "response_format": {
            "type": "json_schema",
            "json_schema": {"name": "answer", "schema": {"type": "object"}, "strict": True},
        },
    }


def test_a_pdf_becomes_a_file_part() -> None:
    request = neutral(
        messages=[Message("user", [Document("application/pdf", data="JVBER", title="a.pdf")])]
    )
    (message,) = body_from_request(request)["messages"]
    assert message["content"] == [
        {
            "type": "file",
            "file": {"file_data": "data:application/pdf;base64,JVBER", "filename": "a.pdf"},
        }
    ]


def test_a_part_of_another_protocol_is_refused_naming_it() -> None:
    part = Opaque("anthropic", "server_tool_use", {"type": "server_tool_use"})
    with pytest.raises(UnsupportedFeature) as raised:
        body_from_request(neutral(messages=[Message("user", [Text("x"), part])]))
    assert raised.value.param == "messages" and "server_tool_use" in raised.value.message


DEEPSEEK_RESPONSE = {
    "id": "chatcmpl-1",
    "model": "deepseek-reasoner",
    "choices": [
        {
            "index": 0,
            "message": {
                "role": "assistant",
                "content": "42",
                "reasoning_content": "6 times 7.",
                "tool_calls": [
                    {
                        "id": "call_1",
                        "type": "function",
                        "function": {"name": "f", "arguments": "{}"},
                    }
                ],
            },
            "finish_reason": "tool_calls",
        }
    ],
    "usage": {
        "prompt_tokens": 10,
        "completion_tokens": 20,
        "prompt_cache_hit_tokens": 4,
        "completion_tokens_details": {"reasoning_tokens": 8},
    },
}


def test_an_answer_becomes_a_completion_with_its_parts_in_order() -> None:
    completion = from_response(DEEPSEEK_RESPONSE, "deepseek")
    assert completion.parts == [Reasoning("6 times 7."), Text("42"), ToolCall("call_1", "f", "{}")]
    assert (completion.text, completion.reasoning_text) == ("42", "6 times 7.")
    assert completion.finish_reason == "tool_calls"
    assert completion.usage == Usage(
        input_tokens=10, output_tokens=20, cached_input_tokens=4, reasoning_tokens=8
    )
    assert (completion.upstream_id, completion.upstream_model) == (
        "chatcmpl-1",
        "deepseek-reasoner",
    )


def test_a_chunk_becomes_stream_events() -> None:
    chunk = {
        "choices": [
            {
                "index": 0,
                "delta": {
                    "reasoning_content": "r",
                    "content": "t",
                    "tool_calls": [
                        {"index": 0, "id": "c", "function": {"name": "f", "arguments": "{"}}
                    ],
                },
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 1, "completion_tokens": 2},
    }
    assert parse_chunk(chunk) == [
        ReasoningDelta("r"),
        TextDelta("t"),
        ToolCallDelta(0, "c", "f", "{"),
        Finish("stop"),
        UsageReport(Usage(input_tokens=1, output_tokens=2)),
    ]


CLAUDE_CODE = Path(__file__).parents[1] / "fixtures" / "claude_code"


def claude_code_request(name: str) -> Request:
    body = json.loads((CLAUDE_CODE / name).read_text())
    return MessagesDoor().to_request(body, {"anthropic-beta": "context-management-2025-06-27"})


def test_claude_code_hints_are_dropped_for_a_model_without_reasoning() -> None:
    request = claude_code_request("read_tool_followup_request.json")
    payload = body_from_request(request, Target("gpt-4o-mini", max_output_tokens=16_384))
    assert payload["max_completion_tokens"] == 16_384
    assert "reasoning_effort" not in payload and "user" not in payload
    assert all("cache_control" not in json.dumps(m) for m in payload["messages"])
    assert set(request.dropped) == {
        "max_tokens clamped to 16384",
        "metadata.user_id (longer than 64 characters)",
        "thinking",
        "thinking blocks of earlier turns",
        "context_management",
        "cache_control",
    }


def test_a_thinking_budget_becomes_reasoning_effort_for_a_reasoning_model() -> None:
    request = claude_code_request("read_tool_followup_request.json")  # budget 31,999
    payload = body_from_request(request, Target("o4-mini", max_output_tokens=100_000))
    assert payload["reasoning_effort"] == "high"
    assert payload["max_completion_tokens"] == 32_000
    assert "thinking" not in request.dropped


def test_a_server_tool_is_refused_by_an_openai_model() -> None:
    request = neutral(
        tools=[Tool("web_search", builtin=Opaque("anthropic", "web_search_20250305", {}))]
    )
    with pytest.raises(UnsupportedFeature, match="web_search_20250305"):
        body_from_request(request, Target("gpt-4o-mini"))
