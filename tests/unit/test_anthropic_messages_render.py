"""The Messages front door's answers: whole `Message` bodies and streamed
events, each parsed back by the `anthropic` SDK's own models (and, for
streams, by its client through an in-memory httpx2 transport, the HTTP library it uses)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import anthropic
import httpx2
import orjson
import pytest
from anthropic.types import Message, RawMessageStreamEvent
from pydantic import TypeAdapter

from model_router.costs.pricing import Cost, Rates
from model_router.domain.completion import (
    FLUSH,
    Completion,
    Finish,
    FinishReason,
    NativeFrame,
    ReasoningDelta,
    ReasoningSignature,
    RedactedReasoningBlock,
    StreamEvent,
    TextDelta,
    ToolCallDelta,
    UsageReport,
)
from model_router.domain.content import Reasoning, RedactedReasoning, Text, ToolCall
from model_router.domain.request import NativeBody, Request
from model_router.domain.usage import Usage
from model_router.errors import UpstreamUnavailable
from model_router.frontdoors.anthropic_messages import MessagesDoor
from model_router.frontdoors.base import Answered

REQUEST_ID = "01937a5e-7f00-7abc-8def-0123456789ab"
COST = Cost(Decimal("0.0021"), Decimal("0.00045"), Rates(Decimal(3), Decimal(15)))
STREAM_EVENTS = TypeAdapter(RawMessageStreamEvent)
door = MessagesDoor()


def answered(cost: Cost | None = COST) -> Answered:
    return Answered(
        request_id=REQUEST_ID,
        model="gpt-x",
        provider="openai",
        created=datetime(2026, 12, 2, tzinfo=UTC),
        latency_ms=840,
        cost=cost,
    )


def rendered(completion: Completion, cost: Cost | None = COST) -> dict[str, Any]:
    raw: dict[str, Any] = orjson.loads(door.render(completion, answered(cost), Request("m", [])))
    return raw


# --- whole answers -----------------------------------------------------------------------


def test_text_answer_is_an_anthropic_message_with_our_fields_beside() -> None:
    completion = Completion([Text("Hello!")], "stop", Usage(input_tokens=12, output_tokens=3))

    raw = rendered(completion)

    message = Message.model_validate(raw)
    assert message.id == "msg_01937a5e7f007abc8def0123456789ab"
    assert (message.role, message.model, message.stop_reason) == ("assistant", "gpt-x", "end_turn")
    assert [b.model_dump(exclude_none=True) for b in message.content] == [
        {"type": "text", "text": "Hello!"}
    ]
    assert (message.usage.input_tokens, message.usage.output_tokens) == (12, 3)
    assert (raw["provider"], raw["latency_ms"]) == ("openai", 840)


def test_usage_counts_input_without_cache_and_splits_cache_writes_by_lifetime() -> None:
    usage = Usage(
        input_tokens=1000,
        output_tokens=50,
        cached_input_tokens=600,
        cache_write_tokens=300,
        cache_write_1h_tokens=100,
        reasoning_tokens=20,
    )

    raw = rendered(Completion([Text("ok")], "stop", usage))

    assert raw["usage"] == {
        "input_tokens": 100,
        "output_tokens": 50,
        "cache_creation_input_tokens": 300,
        "cache_read_input_tokens": 600,
        "cache_creation": {"ephemeral_5m_input_tokens": 200, "ephemeral_1h_input_tokens": 100},
        "output_tokens_details": {"thinking_tokens": 20},
        "input_cost_usd": 0.0021,
        "output_cost_usd": 0.00045,
        "total_cost_usd": 0.00255,
    }
    Message.model_validate(raw)


def test_cost_is_exact_and_an_unknown_price_is_null() -> None:
    completion = Completion([Text("ok")], "stop", Usage(input_tokens=1, output_tokens=1))

    assert b'"total_cost_usd":0.00255' in door.render(completion, answered(), Request("m", []))
    assert rendered(completion, cost=None)["usage"]["total_cost_usd"] is None


def test_parts_render_in_order_as_anthropic_blocks() -> None:
    completion = Completion(
        [
            Reasoning("Thinking it over.", "sig_1"),
            RedactedReasoning("EmwKAh"),
            Text("I'll read both."),
            ToolCall("toolu_1", "Read", '{"file_path": "a.txt"}'),
            ToolCall("toolu_2", "Noop", ""),
            ToolCall("toolu_3", "Broken", '{"file_path": '),
        ],
        "tool_calls",
        Usage(input_tokens=10, output_tokens=40),
    )

    message = Message.model_validate(rendered(completion))

    assert message.stop_reason == "tool_use"
    assert [b.model_dump(exclude_none=True) for b in message.content] == [
        {"type": "thinking", "thinking": "Thinking it over.", "signature": "sig_1"},
        {"type": "redacted_thinking", "data": "EmwKAh"},
        {"type": "text", "text": "I'll read both."},
        {"type": "tool_use", "id": "toolu_1", "name": "Read", "input": {"file_path": "a.txt"}},
        {"type": "tool_use", "id": "toolu_2", "name": "Noop", "input": {}},
        {
            "type": "tool_use",
            "id": "toolu_3",
            "name": "Broken",
            "input": {"_raw_arguments": '{"file_path": '},
        },
    ]


@pytest.mark.parametrize(
    ("reason", "stop_sequence", "expected"),
    [
        ("stop", None, "end_turn"),
        ("stop", "END", "stop_sequence"),
        ("length", None, "max_tokens"),
        ("tool_calls", None, "tool_use"),
        ("content_filter", None, "refusal"),
    ],
)
def test_stop_reason(reason: FinishReason, stop_sequence: str | None, expected: str) -> None:
    completion = Completion([Text("x")], reason, Usage(), stop_sequence=stop_sequence)

    message = Message.model_validate(rendered(completion))

    assert (message.stop_reason, message.stop_sequence) == (expected, stop_sequence)


def test_a_refusal_without_text_is_the_answers_text() -> None:
    completion = Completion([], "content_filter", Usage(), refusal="I can't help with that.")

    message = Message.model_validate(rendered(completion))

    assert message.stop_reason == "refusal"
    assert message.content[0].model_dump(exclude_none=True) == {
        "type": "text",
        "text": "I can't help with that.",
    }


UPSTREAM_MESSAGE: dict[str, Any] = {
    "id": "msg_01XFDUDYJgAACzvnptvVoYEL",
    "type": "message",
    "role": "assistant",
    "model": "claude-sonnet-4-5-20250929",
    "content": [
        {
            "type": "server_tool_use",
            "id": "srvtoolu_1",
            "name": "web_search",
            "input": {"query": "q"},
        },
        {"type": "text", "text": "Searching", "citations": None},
    ],
    "stop_reason": "pause_turn",
    "stop_sequence": None,
    "usage": {
        "input_tokens": 20,
        "output_tokens": 9,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 1800,
        "server_tool_use": {"web_search_requests": 1, "web_fetch_requests": 0},
        "service_tier": "standard",
    },
}


def test_a_native_answer_is_the_upstreams_body_with_our_fields_added() -> None:
    completion = Completion(
        [Text("Searching")],
        "stop",
        Usage(input_tokens=1820, output_tokens=9, cached_input_tokens=1800),
        upstream_id=UPSTREAM_MESSAGE["id"],
        native=NativeBody("anthropic", UPSTREAM_MESSAGE),
    )

    raw = rendered(completion)

    ours = {"input_cost_usd": 0.0021, "output_cost_usd": 0.00045, "total_cost_usd": 0.00255}
    assert raw == UPSTREAM_MESSAGE | {
        "provider": "openai",
        "latency_ms": 840,
        "usage": UPSTREAM_MESSAGE["usage"] | ours,
    }
    message = Message.model_validate(raw)
    assert message.stop_reason == "pause_turn" and message.content[0].type == "server_tool_use"


# --- streams -------------------------------------------------------------------------------


def stream(events: Iterable[StreamEvent], completion: Completion) -> bytes:
    request = Request(model="gpt-x", messages=[], front_door="messages", stream=True)
    writer = door.stream_writer(request, answered(None))
    return b"".join(writer.event(e) for e in events) + writer.close(completion, answered())


def parse_sse(body: bytes) -> list[tuple[str, dict[str, Any]]]:
    assert body.endswith(b"\n\n")
    out = []
    for frame in body.split(b"\n\n")[:-1]:
        name_line, data_line = frame.split(b"\n")
        assert name_line.startswith(b"event: ") and data_line.startswith(b"data: ")
        name, data = name_line[7:].decode(), orjson.loads(data_line[6:])
        assert data["type"] == name
        out.append((name, data))
    return out


def sdk_events(body: bytes) -> list[tuple[str, int | None, str | None]]:
    """(event, index, delta or block type) of each event, checked by the SDK's models."""
    out: list[tuple[str, int | None, str | None]] = []
    for name, data in parse_sse(body):
        if name == "ping":
            out.append((name, None, None))
            continue
        event = STREAM_EVENTS.validate_python(data)
        index = getattr(event, "index", None)
        inner = getattr(event, "delta", None) or getattr(event, "content_block", None)
        out.append((name, index, getattr(inner, "type", None)))
    return out


def sdk_final_message(body: bytes) -> Message:
    """The message the `anthropic` client accumulates from these bytes."""

    def answer(_request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(200, headers={"content-type": "text/event-stream"}, content=body)

    transport = httpx2.MockTransport(answer)
    with (
        httpx2.Client(transport=transport) as http,
        anthropic.Anthropic(api_key="k", base_url="http://router.test", http_client=http) as sdk,
        sdk.messages.stream(
            model="claude-mock-1", max_tokens=100, messages=[{"role": "user", "content": "hi"}]
        ) as events,
    ):
        return events.get_final_message()


USAGE_UP_FRONT = Usage(input_tokens=1200, cached_input_tokens=1000)
FINAL_USAGE = Usage(input_tokens=1200, output_tokens=61, cached_input_tokens=1000)
TOOL_TURN: list[StreamEvent] = [
    UsageReport(USAGE_UP_FRONT),
    ReasoningDelta("Two files, "),
    ReasoningDelta("read both."),
    ReasoningSignature("sig_1"),
    FLUSH,
    TextDelta("Reading "),
    TextDelta("them."),
    ToolCallDelta(0, id="toolu_a", name="Read"),
    ToolCallDelta(0, arguments='{"file_path":'),
    FLUSH,
    ToolCallDelta(0, arguments=' "a.txt"}'),
    ToolCallDelta(1, id="toolu_b", name="Read", arguments='{"file_path": "b.txt"}'),
    Finish("tool_calls"),
    UsageReport(FINAL_USAGE),
    FLUSH,
]
TOOL_TURN_COMPLETION = Completion(
    [
        Reasoning("Two files, read both.", "sig_1"),
        Text("Reading them."),
        ToolCall("toolu_a", "Read", '{"file_path": "a.txt"}'),
        ToolCall("toolu_b", "Read", '{"file_path": "b.txt"}'),
    ],
    "tool_calls",
    FINAL_USAGE,
)


def test_stream_follows_anthropics_event_sequence_block_by_block() -> None:
    body = stream(TOOL_TURN, TOOL_TURN_COMPLETION)

    assert sdk_events(body) == [
        ("message_start", None, None),
        ("content_block_start", 0, "thinking"),
        ("ping", None, None),
        ("content_block_delta", 0, "thinking_delta"),
        ("content_block_delta", 0, "thinking_delta"),
        ("content_block_delta", 0, "signature_delta"),
        ("content_block_stop", 0, None),
        ("content_block_start", 1, "text"),
        ("content_block_delta", 1, "text_delta"),
        ("content_block_delta", 1, "text_delta"),
        ("content_block_stop", 1, None),
        ("content_block_start", 2, "tool_use"),
        ("content_block_delta", 2, "input_json_delta"),
        ("content_block_delta", 2, "input_json_delta"),
        ("content_block_stop", 2, None),
        ("content_block_start", 3, "tool_use"),
        ("content_block_delta", 3, "input_json_delta"),
        ("content_block_stop", 3, None),
        ("message_delta", None, None),
        ("message_stop", None, None),
    ]


def test_stream_usage_up_front_in_message_start_final_usage_and_cost_in_message_delta() -> None:
    frames = dict(parse_sse(stream(TOOL_TURN, TOOL_TURN_COMPLETION)))

    start = frames["message_start"]["message"]
    assert start["id"] == "msg_01937a5e7f007abc8def0123456789ab" and start["content"] == []
    assert (
        start["usage"]["input_tokens"] == 200 and start["usage"]["cache_read_input_tokens"] == 1000
    )
    delta = frames["message_delta"]
    assert delta["delta"] == {"stop_reason": "tool_use", "stop_sequence": None}
    assert delta["usage"]["output_tokens"] == 61 and delta["usage"]["input_tokens"] == 200
    assert delta["usage"]["total_cost_usd"] == 0.00255


def test_the_anthropic_client_accumulates_the_stream_into_the_answer() -> None:
    message = sdk_final_message(stream(TOOL_TURN, TOOL_TURN_COMPLETION))

    assert [b.model_dump(exclude_none=True) for b in message.content] == [
        {"type": "thinking", "thinking": "Two files, read both.", "signature": "sig_1"},
        {"type": "text", "text": "Reading them."},
        {"type": "tool_use", "id": "toolu_a", "name": "Read", "input": {"file_path": "a.txt"}},
        {"type": "tool_use", "id": "toolu_b", "name": "Read", "input": {"file_path": "b.txt"}},
    ]
    assert message.stop_reason == "tool_use" and message.usage.output_tokens == 61
    assert message.usage.cache_read_input_tokens == 1000


def test_stream_text_after_a_stop_sequence_and_redacted_thinking_block() -> None:
    events: list[StreamEvent] = [
        RedactedReasoningBlock("EmwKAh"),
        ReasoningDelta("more"),
        ReasoningSignature("sig_2"),
        TextDelta("done"),
        Finish("stop", "END"),
    ]
    completion = Completion(
        [RedactedReasoning("EmwKAh"), Reasoning("more", "sig_2"), Text("done")],
        "stop",
        Usage(input_tokens=5, output_tokens=4),
        stop_sequence="END",
    )

    message = sdk_final_message(stream(events, completion))

    assert [b.type for b in message.content] == ["redacted_thinking", "thinking", "text"]
    assert (message.stop_reason, message.stop_sequence) == ("stop_sequence", "END")


def test_an_empty_answer_still_starts_and_stops_the_message() -> None:
    body = stream([FLUSH, UsageReport(Usage(input_tokens=3))], Completion([], "stop", Usage(3, 1)))

    assert [name for name, _, _ in sdk_events(body)] == [
        "message_start",
        "message_delta",
        "message_stop",
    ]


def test_flush_makes_no_bytes() -> None:
    writer = door.stream_writer(Request(model="m", messages=[]), answered())

    assert writer.event(FLUSH) == b""
    assert writer.event(TextDelta("a")).startswith(b"event: message_start\n")
    assert writer.event(FLUSH) == b""


def test_an_error_after_content_is_an_anthropic_error_event_the_client_raises() -> None:
    writer = door.stream_writer(Request(model="m", messages=[]), answered())
    failure = UpstreamUnavailable("upstream went away", provider="openai", status_code=502)

    body = writer.event(TextDelta("Hel")) + writer.error(failure)

    name, data = parse_sse(body)[-1]
    assert (name, data) == (
        "error",
        {"type": "error", "error": {"type": "api_error", "message": "upstream went away"}},
    )
    with pytest.raises(anthropic.APIStatusError, match="upstream went away"):
        sdk_final_message(body)


NATIVE_FRAMES = [
    b'event: message_start\ndata: {"type":"message_start","message":{"id":"msg_up",'
    b'"type":"message",'
    b'"role":"assistant","model":"claude-sonnet-4-5","content":[],"stop_reason":null,'
    b'"stop_sequence":null,"usage":{"input_tokens":8,"output_tokens":1}}}\n\n',
    b'event: content_block_start\ndata: {"type":"content_block_start","index":0,'
    b'"content_block":{"type":"text","text":""}}\n\nevent: ping\ndata: {"type": "ping"}\n\n',
    b'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,'
    b'"delta":{"type":"text_delta","text":"Hi"}}\n\n',
    b'event: content_block_stop\ndata: {"type":"content_block_stop","index":0}\n\n'
    b'event: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"end_turn",'
    b'"stop_sequence":null},"usage":{"output_tokens":2}}\n\n'
    b'event: message_stop\ndata: {"type":"message_stop"}\n\n',
]


def test_native_frames_go_out_verbatim_and_parsed_events_are_ignored() -> None:
    usage = Usage(input_tokens=8, output_tokens=2)
    events: list[StreamEvent] = [
        NativeFrame("anthropic", NATIVE_FRAMES[0]),
        UsageReport(Usage(input_tokens=8)),
        NativeFrame("anthropic", NATIVE_FRAMES[1]),
        FLUSH,
        NativeFrame("anthropic", NATIVE_FRAMES[2]),
        TextDelta("Hi"),
        NativeFrame("anthropic", NATIVE_FRAMES[3]),
        Finish("stop"),
        UsageReport(usage),
    ]

    body = stream(events, Completion([Text("Hi")], "stop", usage))

    assert body == b"".join(NATIVE_FRAMES)
    assert sdk_final_message(body).id == "msg_up"
