"""The Responses front door's answers: whole `Response` objects and streamed
events, each validated against OpenAI's published spec and parsed back by
the `openai` SDK's own models (and, for streams, accumulated by its client
through an in-memory httpx2 transport, the HTTP library it uses)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx2
import openai
import orjson
import pytest
from openai.types.responses import Response, ResponseStreamEvent
from pydantic import TypeAdapter

from model_router.costs.pricing import Cost, Rates
from model_router.domain.completion import (
    FLUSH,
    Completion,
    Finish,
    FinishReason,
    ReasoningDelta,
    ReasoningSignature,
    RedactedReasoningBlock,
    StreamEvent,
    TextDelta,
    ToolCallDelta,
    UsageReport,
)
from model_router.domain.content import Reasoning, RedactedReasoning, Text, ToolCall
from model_router.domain.request import Request
from model_router.domain.usage import Usage
from model_router.errors import UpstreamRateLimited, UpstreamUnavailable
from model_router.frontdoors.base import Answered
from model_router.frontdoors.openai_responses import ResponsesDoor
from tests.openapi import assert_valid, schema

REQUEST_ID = "01937a5e-7f00-7abc-8def-0123456789ab"
HEX = "01937a5e7f007abc8def0123456789ab"
COST = Cost(Decimal("0.0021"), Decimal("0.00045"), Rates(Decimal(3), Decimal(15)))
STREAM_EVENTS: TypeAdapter[Any] = TypeAdapter(ResponseStreamEvent)
door = ResponsesDoor()
EVENT_SCHEMAS = {
    schema(name)["properties"]["type"]["enum"][0]: name
    for name in (ref["$ref"].rsplit("/", 1)[1] for ref in schema("ResponseStreamEvent")["anyOf"])
}
"""Stream event type -> the name of its schema in the spec."""


def answered(cost: Cost | None = COST) -> Answered:
    return Answered(
        request_id=REQUEST_ID,
        model="claude-x",
        provider="anthropic",
        created=datetime(2026, 12, 2, tzinfo=UTC),
        latency_ms=2400,
        cost=cost,
    )


def client_request(**fields: Any) -> Request:
    body = {"model": "claude-x", "input": "hi"} | fields
    return door.to_request(body, {})


def rendered(
    completion: Completion, cost: Cost | None = COST, request: Request | None = None
) -> dict[str, Any]:
    raw: dict[str, Any] = orjson.loads(
        door.render(completion, answered(cost), request or client_request())
    )
    assert_valid(raw, "Response")
    Response.model_validate(raw)
    return raw


# --- whole answers -----------------------------------------------------------------------


def test_text_answer_is_a_response_with_our_fields_beside() -> None:
    completion = Completion([Text("Hello!")], "stop", Usage(input_tokens=12, output_tokens=3))

    raw = rendered(completion)

    response = Response.model_validate(raw)
    assert response.id == f"resp_{HEX}" and response.object == "response"
    assert (response.status, response.model, response.output_text) == (
        "completed",
        "claude-x",
        "Hello!",
    )
    assert response.created_at == datetime(2026, 12, 2, tzinfo=UTC).timestamp()
    assert raw["output"] == [
        {
            "type": "message",
            "id": f"msg_{HEX}_0",
            "status": "completed",
            "role": "assistant",
            "content": [
                {"type": "output_text", "text": "Hello!", "annotations": [], "logprobs": []}
            ],
        }
    ]
    assert (raw["error"], raw["incomplete_details"]) == (None, None)
    assert (raw["provider"], raw["latency_ms"]) == ("anthropic", 2400)


def test_usage_in_openais_words_with_exact_cost_beside_and_null_when_unknown() -> None:
    usage = Usage(
        input_tokens=1000,
        output_tokens=50,
        cached_input_tokens=600,
        cache_write_tokens=300,
        reasoning_tokens=20,
    )

    raw = rendered(Completion([Text("ok")], "stop", usage))

    assert raw["usage"] == {
        "input_tokens": 1000,
        "input_tokens_details": {"cached_tokens": 600, "cache_write_tokens": 300},
        "output_tokens": 50,
        "output_tokens_details": {"reasoning_tokens": 20},
        "total_tokens": 1050,
        "input_cost_usd": 0.0021,
        "output_cost_usd": 0.00045,
        "total_cost_usd": 0.00255,
    }
    assert b'"total_cost_usd":0.00255' in door.render(
        Completion([], "stop", usage), answered(), client_request()
    )
    assert rendered(Completion([], "stop", usage), cost=None)["usage"]["total_cost_usd"] is None


def test_parts_render_in_order_as_output_items() -> None:
    completion = Completion(
        [
            Reasoning("Two files.", "sig_1"),
            RedactedReasoning("EmwKAh"),
            Text("I'll read "),
            Text("both."),
            ToolCall("toolu_a", "read", '{"p": "a"}'),
            ToolCall("toolu_b", "read", '{"p": "b"}'),
        ],
        "tool_calls",
        Usage(input_tokens=5, output_tokens=5),
    )

    output = rendered(completion)["output"]

    assert output == [
        {
            "type": "reasoning",
            "id": f"rs_{HEX}_0",
            "summary": [{"type": "summary_text", "text": "Two files."}],
            "encrypted_content": "sig_1",
        },
        {"type": "reasoning", "id": f"rs_{HEX}_1", "summary": [], "encrypted_content": "EmwKAh"},
        {
            "type": "message",
            "id": f"msg_{HEX}_2",
            "status": "completed",
            "role": "assistant",
            "content": [
                {
                    "type": "output_text",
                    "text": "I'll read both.",
                    "annotations": [],
                    "logprobs": [],
                }
            ],
        },
        {
            "type": "function_call",
            "id": f"fc_{HEX}_3",
            "call_id": "toolu_a",
            "name": "read",
            "arguments": '{"p": "a"}',
            "status": "completed",
        },
        {
            "type": "function_call",
            "id": f"fc_{HEX}_4",
            "call_id": "toolu_b",
            "name": "read",
            "arguments": '{"p": "b"}',
            "status": "completed",
        },
    ]


@pytest.mark.parametrize(
    ("reason", "status", "incomplete"),
    [
        ("stop", "completed", None),
        ("tool_calls", "completed", None),
        ("length", "incomplete", {"reason": "max_output_tokens"}),
        ("content_filter", "incomplete", {"reason": "content_filter"}),
    ],
)
def test_status(reason: FinishReason, status: str, incomplete: dict[str, str] | None) -> None:
    raw = rendered(Completion([Text("cut")], reason, Usage()))

    assert (raw["status"], raw["incomplete_details"]) == (status, incomplete)
    assert (raw["completed_at"] is not None) == (status == "completed")


def test_a_refusal_is_a_refusal_part() -> None:
    raw = rendered(Completion([], "content_filter", Usage(), refusal="I can't help with that."))

    [item] = raw["output"]
    assert item["content"] == [{"type": "refusal", "refusal": "I can't help with that."}]


def test_the_response_echoes_what_the_client_asked() -> None:
    request = client_request(
        instructions="Be brief.",
        tools=[
            {"type": "function", "name": "get_weather", "parameters": {"type": "object"}},
            {"type": "web_search"},
        ],
        tool_choice={"type": "function", "name": "get_weather"},
        parallel_tool_calls=False,
        temperature=0.3,
        top_p=0.8,
        max_output_tokens=300,
        text={
            "format": {
                "type": "json_schema",
                "name": "w",
                "schema": {"type": "object"},
                "strict": True,
            }
        },
        reasoning={"effort": "low", "summary": "auto"},
        metadata={"ticket": "42"},
        store=False,
        previous_response_id="resp_prev",
        user="u-1",
        truncation="auto",
    )

    raw = rendered(Completion([Text("{}")], "stop", Usage()), request=request)

    assert raw["instructions"] == "Be brief."
    assert raw["tools"] == [
        {
            "type": "function",
            "name": "get_weather",
            "description": None,
            "parameters": {"type": "object"},
            "strict": None,
        },
        {"type": "web_search"},
    ]
    assert raw["tool_choice"] == {"type": "function", "name": "get_weather"}
    assert (
        raw["parallel_tool_calls"],
        raw["temperature"],
        raw["top_p"],
        raw["max_output_tokens"],
    ) == (False, 0.3, 0.8, 300)
    assert raw["text"]["format"]["name"] == "w"
    assert raw["reasoning"] == {"effort": "low", "summary": "auto"}
    assert (raw["metadata"], raw["store"], raw["previous_response_id"]) == (
        {"ticket": "42"},
        False,
        "resp_prev",
    )
    assert (raw["user"], raw["truncation"]) == ("u-1", "auto")


def test_without_the_request_openais_defaults_are_echoed() -> None:
    raw = rendered(Completion([Text("ok")], "stop", Usage()))

    assert (raw["tools"], raw["tool_choice"], raw["parallel_tool_calls"], raw["store"]) == (
        [],
        "auto",
        True,
        True,
    )
    assert raw["text"] == {"format": {"type": "text"}}
    assert raw["instructions"] is None and raw["metadata"] is None


# --- streams ----------------------------------------------------------------------------------


def stream(
    events: Iterable[StreamEvent], completion: Completion, request: Request | None = None
) -> bytes:
    request = request or client_request(stream=True)
    writer = door.stream_writer(request, answered(None))
    return b"".join(writer.event(e) for e in events) + writer.close(completion, answered())


def parse_sse(body: bytes) -> list[tuple[str, dict[str, Any]]]:
    """Each event, checked against the spec and the SDK's models, its type the
    SSE event name and its sequence number the next one."""
    assert body.endswith(b"\n\n")
    out = []
    for number, frame in enumerate(body.split(b"\n\n")[:-1]):
        name_line, data_line = frame.split(b"\n")
        assert name_line.startswith(b"event: ") and data_line.startswith(b"data: ")
        name, data = name_line[7:].decode(), orjson.loads(data_line[6:])
        assert (data["type"], data["sequence_number"]) == (name, number)
        assert_valid(data, EVENT_SCHEMAS[name])
        STREAM_EVENTS.validate_python(data)
        out.append((name, data))
    return out


def where(data: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(data.get(k) for k in ("output_index", "item_id", "content_index"))


def sdk_final_response(body: bytes) -> Response:
    """The response the `openai` client accumulates from these bytes."""

    def answer(_request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(200, headers={"content-type": "text/event-stream"}, content=body)

    with (
        httpx2.Client(transport=httpx2.MockTransport(answer)) as http,
        openai.OpenAI(api_key="k", base_url="http://router.test/v1", http_client=http) as sdk,
        sdk.responses.stream(model="claude-x", input="hi") as events,
    ):
        return events.get_final_response()


FINAL_USAGE = Usage(input_tokens=1200, output_tokens=61, cached_input_tokens=1000)
TOOL_TURN: list[StreamEvent] = [
    UsageReport(Usage(input_tokens=1200)),
    ReasoningDelta("Two files, "),
    ReasoningDelta("read both."),
    ReasoningSignature("sig_1"),
    FLUSH,
    TextDelta("Reading "),
    TextDelta("them."),
    ToolCallDelta(0, id="toolu_a", name="read"),
    ToolCallDelta(0, arguments='{"p":'),
    FLUSH,
    ToolCallDelta(0, arguments=' "a"}'),
    ToolCallDelta(1, id="toolu_b", name="read", arguments='{"p": "b"}'),
    Finish("tool_calls"),
    UsageReport(FINAL_USAGE),
    FLUSH,
]
TOOL_TURN_COMPLETION = Completion(
    [
        Reasoning("Two files, read both.", "sig_1"),
        Text("Reading them."),
        ToolCall("toolu_a", "read", '{"p": "a"}'),
        ToolCall("toolu_b", "read", '{"p": "b"}'),
    ],
    "tool_calls",
    FINAL_USAGE,
)


def test_stream_follows_the_documented_event_sequence_item_by_item() -> None:
    events = parse_sse(stream(TOOL_TURN, TOOL_TURN_COMPLETION))

    assert [(name, where(data)) for name, data in events] == [
        ("response.created", (None, None, None)),
        ("response.in_progress", (None, None, None)),
        ("response.output_item.added", (0, None, None)),
        ("response.reasoning_summary_part.added", (0, f"rs_{HEX}_0", None)),
        ("response.reasoning_summary_text.delta", (0, f"rs_{HEX}_0", None)),
        ("response.reasoning_summary_text.delta", (0, f"rs_{HEX}_0", None)),
        ("response.reasoning_summary_text.done", (0, f"rs_{HEX}_0", None)),
        ("response.reasoning_summary_part.done", (0, f"rs_{HEX}_0", None)),
        ("response.output_item.done", (0, None, None)),
        ("response.output_item.added", (1, None, None)),
        ("response.content_part.added", (1, f"msg_{HEX}_1", 0)),
        ("response.output_text.delta", (1, f"msg_{HEX}_1", 0)),
        ("response.output_text.delta", (1, f"msg_{HEX}_1", 0)),
        ("response.output_text.done", (1, f"msg_{HEX}_1", 0)),
        ("response.content_part.done", (1, f"msg_{HEX}_1", 0)),
        ("response.output_item.done", (1, None, None)),
        ("response.output_item.added", (2, None, None)),
        ("response.function_call_arguments.delta", (2, f"fc_{HEX}_2", None)),
        ("response.function_call_arguments.delta", (2, f"fc_{HEX}_2", None)),
        ("response.function_call_arguments.done", (2, f"fc_{HEX}_2", None)),
        ("response.output_item.done", (2, None, None)),
        ("response.output_item.added", (3, None, None)),
        ("response.function_call_arguments.delta", (3, f"fc_{HEX}_3", None)),
        ("response.function_call_arguments.done", (3, f"fc_{HEX}_3", None)),
        ("response.output_item.done", (3, None, None)),
        ("response.completed", (None, None, None)),
    ]
    added = events[2][1]["item"]
    assert added == {"type": "reasoning", "id": f"rs_{HEX}_0", "summary": []}
    assert events[19][1] == {
        "type": "response.function_call_arguments.done",
        "sequence_number": 19,
        "item_id": f"fc_{HEX}_2",
        "output_index": 2,
        "name": "read",
        "arguments": '{"p": "a"}',
    }


def test_the_final_event_holds_the_whole_response_as_render_makes_it() -> None:
    events = parse_sse(stream(TOOL_TURN, TOOL_TURN_COMPLETION))

    final = events[-1][1]["response"]
    assert final == orjson.loads(
        door.render(TOOL_TURN_COMPLETION, answered(), client_request(stream=True))
    )
    assert final["usage"]["total_cost_usd"] == 0.00255
    assert (
        events[0][1]["response"]["status"] == "in_progress"
        and events[0][1]["response"]["output"] == []
    )


def test_the_openai_client_accumulates_the_stream_into_the_answer() -> None:
    response = sdk_final_response(stream(TOOL_TURN, TOOL_TURN_COMPLETION))

    assert response.id == f"resp_{HEX}" and response.status == "completed"
    assert response.output_text == "Reading them."
    calls = [(i.call_id, i.arguments) for i in response.output if i.type == "function_call"]
    assert calls == [("toolu_a", '{"p": "a"}'), ("toolu_b", '{"p": "b"}')]
    assert response.usage is not None and response.usage.input_tokens_details.cached_tokens == 1000


def test_a_cut_answer_ends_with_response_incomplete() -> None:
    events = parse_sse(
        stream(
            [TextDelta("Once upon"), Finish("length")],
            Completion([Text("Once upon")], "length", Usage()),
        )
    )

    name, data = events[-1]
    assert name == "response.incomplete"
    assert data["response"]["incomplete_details"] == {"reason": "max_output_tokens"}
    # As with OpenAI's own cut streams, the SDK's helper wants `response.completed`:
    with pytest.raises(RuntimeError, match=r"response\.completed"):
        sdk_final_response(stream([TextDelta("x")], Completion([Text("x")], "length", Usage())))


def test_redacted_reasoning_is_one_item_opened_and_closed_at_once() -> None:
    events = parse_sse(
        stream(
            [RedactedReasoningBlock("EmwKAh"), TextDelta("Hi")],
            Completion([RedactedReasoning("EmwKAh"), Text("Hi")], "stop", Usage()),
        )
    )

    assert [name for name, _ in events[2:4]] == [
        "response.output_item.added",
        "response.output_item.done",
    ]
    assert events[3][1]["item"] == {
        "type": "reasoning",
        "id": f"rs_{HEX}_0",
        "summary": [],
        "encrypted_content": "EmwKAh",
    }


def test_an_empty_answer_still_creates_and_completes_the_response() -> None:
    events = parse_sse(stream([], Completion([], "stop", Usage())))

    assert [name for name, _ in events] == [
        "response.created",
        "response.in_progress",
        "response.completed",
    ]


def test_flush_and_usage_make_no_bytes() -> None:
    writer = door.stream_writer(client_request(), answered(None))

    assert writer.event(FLUSH) == b"" and writer.event(UsageReport(Usage(input_tokens=3))) == b""


def test_a_tool_call_without_an_id_gets_ours() -> None:
    events = parse_sse(
        stream(
            [ToolCallDelta(0, name="f", arguments="{}")],
            Completion([ToolCall(f"call_{HEX}_0", "f", "{}")], "tool_calls", Usage()),
        )
    )

    assert events[2][1]["item"]["call_id"] == f"call_{HEX}_0"


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (
            UpstreamUnavailable("upstream went away", provider="anthropic", status_code=502),
            "server_error",
        ),
        (
            UpstreamRateLimited("slow down", provider="anthropic", status_code=429),
            "rate_limit_exceeded",
        ),
    ],
)
def test_an_error_after_content_is_an_error_event_then_response_failed(
    error: Any, code: str
) -> None:
    writer = door.stream_writer(client_request(stream=True), answered(None))
    body = writer.event(TextDelta("Half an ans")) + writer.error(error)

    events = parse_sse(body)

    assert [name for name, _ in events[-2:]] == ["error", "response.failed"]
    assert events[-2][1]["message"] == error.message
    failed = events[-1][1]["response"]
    assert failed["status"] == "failed" and failed["error"] == {
        "code": code,
        "message": error.message,
    }
    assert failed["output"][0]["content"] == []  # the message item still open


@pytest.mark.parametrize("name", ["codex/say_hi_request.json", "openai_agents/first_request.json"])
def test_a_real_clients_request_echoes_into_a_valid_response(name: str) -> None:
    path = Path(__file__).parent.parent / "fixtures" / name
    request = door.to_request(orjson.loads(path.read_bytes()), {})

    raw = rendered(Completion([Text("ok")], "stop", Usage()), request=request)

    assert request.client_body is not None
    assert [t["type"] for t in raw["tools"]] == [t["type"] for t in request.client_body["tools"]]


def test_a_refusal_streams_as_a_last_message_item_like_the_whole_answer() -> None:
    completion = Completion([Text("Well,")], "content_filter", Usage(), refusal="I can't.")

    events = parse_sse(stream([TextDelta("Well,"), Finish("content_filter")], completion))

    names = [name for name, _ in events]
    assert names[-7:] == [
        "response.output_item.added",
        "response.content_part.added",
        "response.refusal.delta",
        "response.refusal.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.incomplete",
    ]
    final = events[-1][1]["response"]
    assert final["output"] == rendered(completion)["output"]
    assert final["output"][1]["content"] == [{"type": "refusal", "refusal": "I can't."}]
