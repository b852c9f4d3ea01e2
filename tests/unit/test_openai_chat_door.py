"""The Chat Completions front door: a body becomes the neutral request (with the
same 400s as before), and a completion, a stream or an error comes out in
OpenAI's wire format, byte for byte what the router sent before the core."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import orjson
import pytest

from model_router.costs.pricing import Cost, Rates
from model_router.domain import FLUSH, Finish, TextDelta, ToolCallDelta, UsageReport
from model_router.domain.completion import Completion, RedactedReasoningBlock
from model_router.domain.content import (
    Image,
    Message,
    Opaque,
    Reasoning,
    Text,
    ToolCall,
    ToolResult,
)
from model_router.domain.request import NamedTool, NativeBody, OutputFormat, Request
from model_router.domain.usage import Usage
from model_router.errors import InvalidRequest, UnsupportedFeature, UpstreamError
from model_router.frontdoors.base import Answered
from model_router.frontdoors.openai_chat import OpenAIChatDoor

DOOR = OpenAIChatDoor()
CREATED = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
COST = Cost(input_usd=Decimal("0.001"), output_usd=Decimal("0.002"), rates=Rates(None, None))
ANSWERED = Answered("req-1", "gpt-4o", "openai", CREATED, 120, COST)


def request(**fields: Any) -> Any:
    body = {"model": "gpt-4o", "messages": [{"role": "user", "content": "Hi"}]} | fields
    return DOOR.to_request(body, {})


def test_a_body_becomes_the_neutral_request_and_is_kept_native() -> None:
    body = {
        "model": "gpt-4o",
        "messages": [
            {"role": "developer", "content": "Be terse."},
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "What is this?"},
                    {
                        "type": "image_url",
                        "image_url": {"url": "https://x/cat.png", "detail": "low"},
                    },
                    {"type": "input_audio", "input_audio": {"data": "UklG", "format": "wav"}},
                ],
            },
            {
                "role": "assistant",
                "content": [{"type": "refusal", "refusal": "No."}],
                "reasoning_content": "Hmm.",
                "tool_calls": [
                    {
                        "id": "c1",
                        "type": "function",
                        "function": {"name": "f", "arguments": "{}"},
                        "extra_content": {"google": {"thought_signature": "sig"}},
                    }
                ],
            },
            {"role": "tool", "tool_call_id": "c1", "content": "done"},
        ],
        "max_tokens": 50,
        "stop": "END",
        "tool_choice": {"type": "function", "function": {"name": "f"}},
        "tools": [{"type": "function", "function": {"name": "f"}}],
        "response_format": {"type": "json_schema", "json_schema": {"name": "a", "schema": {}}},
        "safety_identifier": "u-9",
        "logprobs": True,
        "models": ["claude"],
    }
    neutral = DOOR.to_request(body, {})
    assert neutral.messages == [
        Message("system", [Text("Be terse.")]),
        Message(
            "user",
            [
                Text("What is this?"),
                Image(url="https://x/cat.png", detail="low"),
                Opaque(
                    "openai",
                    "input_audio",
                    {"type": "input_audio", "input_audio": {"data": "UklG", "format": "wav"}},
                ),
            ],
        ),
        Message(
            "assistant",
            [Reasoning("Hmm."), Text("No."), ToolCall("c1", "f", "{}", signature="sig")],
        ),
        Message("tool", [ToolResult("c1", [Text("done")])]),
    ]
    assert (neutral.max_output_tokens, neutral.stop, neutral.user) == (50, ["END"], "u-9")
    assert neutral.tool_choice == NamedTool("f")
    assert neutral.output_format == OutputFormat("json_schema", {}, "a", None)
    assert neutral.extras == {"safety_identifier": "u-9", "logprobs": True}
    assert neutral.options == {"models": ["claude"]}
    assert neutral.native == NativeBody("openai", body)
    assert neutral.front_door == "chat_completions"


def test_an_invalid_body_is_a_400_naming_the_field() -> None:
    with pytest.raises(InvalidRequest) as raised:
        request(temperature=3)
    assert raised.value.param == "temperature"
    assert raised.value.message.startswith("Invalid value for 'temperature':")


def test_more_than_one_choice_is_refused_for_every_upstream() -> None:
    with pytest.raises(UnsupportedFeature) as raised:
        request(n=2)
    assert raised.value.param == "n"


def test_a_completion_renders_as_chat_completion_with_the_routers_fields() -> None:
    completion = Completion(
        [Reasoning("r"), Text("Hello"), ToolCall("c1", "f", "{}")],
        "tool_calls",
        Usage(input_tokens=10, output_tokens=5, cached_input_tokens=2),
    )
    body = orjson.loads(DOOR.render(completion, ANSWERED, Request("m", [])))
    assert body["id"] == "req-1" and body["object"] == "chat.completion"
    assert body["choices"] == [
        {
            "index": 0,
            "message": {
                "role": "assistant",
                "content": "Hello",
                "refusal": None,
                "tool_calls": [
                    {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}
                ],
                "reasoning_content": "r",
            },
            "finish_reason": "tool_calls",
            "logprobs": None,
        }
    ]
    assert body["usage"]["prompt_tokens_details"]["cached_tokens"] == 2
    assert Decimal(str(body["usage"]["total_cost_usd"])) == Decimal("0.003")
    assert (body["provider"], body["content"], body["latency_ms"]) == ("openai", "Hello", 120)


def frames(raw: bytes) -> list[Any]:
    out = []
    for frame in raw.split(b"\n\n"):
        if frame:
            data = frame.removeprefix(b"data: ")
            out.append(data.decode() if data == b"[DONE]" else orjson.loads(data))
    return out


def test_a_stream_starts_with_the_role_and_ends_with_usage_and_done() -> None:
    neutral = request(stream=True, stream_options={"include_usage": True})
    writer = DOOR.stream_writer(neutral, ANSWERED)
    raw = b"".join(
        writer.event(e)
        for e in (
            UsageReport(Usage(input_tokens=1)),
            TextDelta("Hi"),
            FLUSH,
            RedactedReasoningBlock("opaque"),
            ToolCallDelta(0, "c1", "f", "{"),
            Finish("stop"),
        )
    )
    raw += writer.close(Completion([Text("Hi")], "stop", Usage(1, 1)), ANSWERED)
    chunks = frames(raw)
    assert [c["choices"][0]["delta"] for c in chunks[:4]] == [
        {"role": "assistant", "content": ""},
        {"content": "Hi"},
        {
            "tool_calls": [
                {
                    "index": 0,
                    "id": "c1",
                    "type": "function",
                    "function": {"arguments": "{", "name": "f"},
                }
            ]
        },
        {},
    ]
    assert chunks[3]["choices"][0]["finish_reason"] == "stop" and chunks[3]["usage"] is None
    assert chunks[4]["choices"] == [] and chunks[4]["usage"]["total_tokens"] == 2
    assert chunks[-1] == "[DONE]"


def test_a_failure_mid_stream_is_an_error_frame() -> None:
    writer = DOOR.stream_writer(request(stream=True), ANSWERED)
    writer.event(TextDelta("Hi"))
    error = UpstreamError("overloaded", provider="openai", status_code=502)
    (frame,) = frames(writer.error(error))
    assert frame["error"]["message"] == error.message
    assert orjson.loads(DOOR.error_body(error)) == frame
