"""The Anthropic adapter's pure translation, on captured-style payloads."""

from __future__ import annotations

import typing
from typing import Any

import anthropic.types
import httpx
import orjson
import pytest

from model_router.domain import (
    Finish,
    ReasoningDelta,
    ReasoningSignature,
    StreamEvent,
    TextDelta,
    ToolCall,
    ToolCallDelta,
    Usage,
    UsageReport,
)
from model_router.domain.request import Request
from model_router.errors import (
    InvalidRequest,
    UnsupportedFeature,
    UpstreamError,
    UpstreamRateLimited,
    UpstreamUnavailable,
)
from model_router.frontdoors.openai_chat_translate import to_request as door_request
from model_router.providers.anthropic.stream import StreamState
from model_router.providers.anthropic.translate import (
    DEFAULT_MAX_TOKENS,
    JSON_OBJECT_INSTRUCTION,
    LEADING_USER_TEXT,
    STOP_REASONS,
    from_response,
    parse_error,
    parse_usage,
    to_request,
)
from model_router.providers.base import Target
from model_router.providers.http import error_from_response

TARGET = Target("claude-sonnet-4-5-20250929")
PNG = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAE"
    "hQGAhKmMIQAAAABJRU5ErkJggg=="
)
WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather in a city",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    },
}


def request(messages: list[dict[str, Any]] | None = None, **fields: Any) -> Request:
    body = {"model": "claude", "messages": messages or [{"role": "user", "content": "Hi"}]}
    return door_request(body | fields)


def translate(
    messages: list[dict[str, Any]] | None = None, *, target: Target = TARGET, **fields: Any
) -> dict[str, Any]:
    return to_request(request(messages, **fields), target, stream=False)


def user(text: str) -> dict[str, Any]:
    return {"role": "user", "content": text}


def text_block(text: str) -> dict[str, Any]:
    return {"type": "text", "text": text}


# --- messages -----------------------------------------------------------------


def test_system_and_developer_messages_merge_into_top_level_system() -> None:
    payload = translate(
        [
            {"role": "system", "content": "You are terse."},
            user("Hi"),
            {"role": "developer", "content": [{"type": "text", "text": "Answer in French."}]},
            {"role": "assistant", "content": "Bonjour"},
            user("Again"),
        ]
    )
    assert payload["system"] == "You are terse.\n\nAnswer in French."
    assert [m["role"] for m in payload["messages"]] == ["user", "assistant", "user"]


def test_request_without_system_messages_sends_no_system() -> None:
    assert "system" not in translate([user("Hi")])


def test_consecutive_same_role_messages_merge_into_one_turn() -> None:
    payload = translate(
        [user("First"), user("Second"), {"role": "assistant", "content": "A"}, user("Third")]
    )
    assert payload["messages"] == [
        {"role": "user", "content": [text_block("First"), text_block("Second")]},
        {"role": "assistant", "content": [text_block("A")]},
        {"role": "user", "content": [text_block("Third")]},
    ]


def test_conversation_starting_with_assistant_gets_a_leading_user_turn() -> None:
    payload = translate(
        [
            {"role": "system", "content": "Be kind."},
            {"role": "assistant", "content": "How can I help?"},
            user("Hi"),
        ]
    )
    assert payload["messages"][0] == {"role": "user", "content": [text_block(LEADING_USER_TEXT)]}
    assert payload["messages"][1]["role"] == "assistant"


def test_empty_text_is_never_sent_as_a_block() -> None:
    payload = translate(
        [
            user("Hi"),
            user(""),
            {"role": "user", "content": [{"type": "text", "text": ""}, text_block("there")]},
            {"role": "assistant", "content": ""},
            user("Bye"),
        ]
    )
    assert payload["messages"] == [
        {"role": "user", "content": [text_block("Hi"), text_block("there"), text_block("Bye")]}
    ]


def test_final_assistant_prefill_loses_its_trailing_whitespace() -> None:
    payload = translate([user("Count"), {"role": "assistant", "content": "One, two, "}])
    assert payload["messages"][-1] == {"role": "assistant", "content": [text_block("One, two,")]}


def test_assistant_reasoning_content_is_not_sent_back() -> None:
    payload = translate(
        [
            user("Hi"),
            {"role": "assistant", "content": "Hello", "reasoning_content": "Greet them."},
            user("Thanks"),
        ]
    )
    assert payload["messages"][1] == {"role": "assistant", "content": [text_block("Hello")]}
    assert b"Greet them" not in orjson.dumps(payload)


# --- images and other parts -----------------------------------------------------


def test_data_url_image_becomes_a_base64_source_without_detail() -> None:
    part = {
        "type": "image_url",
        "image_url": {"url": f"data:image/png;base64,{PNG}", "detail": "low"},
    }
    payload = translate([{"role": "user", "content": [text_block("What is this?"), part]}])
    assert payload["messages"][0]["content"] == [
        text_block("What is this?"),
        {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PNG}},
    ]


def test_https_image_becomes_a_url_source() -> None:
    url = "https://upload.wikimedia.org/wikipedia/commons/a/a7/Camponotus_flavomarginatus_ant.jpg"
    part = {"type": "image_url", "image_url": {"url": url, "detail": "high"}}
    payload = translate([{"role": "user", "content": [part]}])
    assert payload["messages"][0]["content"] == [
        {"type": "image", "source": {"type": "url", "url": url}}
    ]


def test_image_of_a_type_anthropic_cannot_read_is_refused() -> None:
    part = {"type": "image_url", "image_url": {"url": "data:image/bmp;base64,Qk0="}}
    with pytest.raises(UnsupportedFeature) as raised:
        translate([{"role": "user", "content": [part]}])
    assert raised.value.param == "messages"


def test_data_url_that_is_not_base64_is_invalid() -> None:
    part = {"type": "image_url", "image_url": {"url": "data:image/png,rawbytes"}}
    with pytest.raises(InvalidRequest) as raised:
        translate([{"role": "user", "content": [part]}])
    assert raised.value.param == "messages"


def test_audio_input_is_refused_as_unsupported() -> None:
    part = {"type": "input_audio", "input_audio": {"data": "UklGRg==", "format": "wav"}}
    with pytest.raises(UnsupportedFeature) as raised:
        translate([{"role": "user", "content": [text_block("Transcribe"), part]}])
    assert raised.value.param == "messages"
    assert "input_audio" in raised.value.message


# --- tools ----------------------------------------------------------------------

TOOL_ROUND_TRIP = [
    user("Weather in Paris and Rome?"),
    {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {
                "id": "toolu_01A",
                "type": "function",
                "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
            },
            {
                "id": "toolu_01B",
                "type": "function",
                "function": {"name": "get_weather", "arguments": '{"city": "Rome"}'},
            },
        ],
    },
    {"role": "tool", "tool_call_id": "toolu_01A", "content": "18C, sunny"},
    {"role": "tool", "tool_call_id": "toolu_01B", "content": "24C, clear"},
    user("Which is warmer?"),
]


def test_assistant_tool_calls_become_tool_use_blocks_with_parsed_input() -> None:
    payload = translate(TOOL_ROUND_TRIP, tools=[WEATHER_TOOL])
    assert payload["messages"][1] == {
        "role": "assistant",
        "content": [
            {
                "type": "tool_use",
                "id": "toolu_01A",
                "name": "get_weather",
                "input": {"city": "Paris"},
            },
            {
                "type": "tool_use",
                "id": "toolu_01B",
                "name": "get_weather",
                "input": {"city": "Rome"},
            },
        ],
    }


def test_consecutive_tool_messages_become_one_user_turn_led_by_tool_results() -> None:
    payload = translate(TOOL_ROUND_TRIP, tools=[WEATHER_TOOL])
    assert len(payload["messages"]) == 3
    assert payload["messages"][2] == {
        "role": "user",
        "content": [
            {"type": "tool_result", "tool_use_id": "toolu_01A", "content": "18C, sunny"},
            {"type": "tool_result", "tool_use_id": "toolu_01B", "content": "24C, clear"},
            text_block("Which is warmer?"),
        ],
    }


def test_tool_results_lead_their_turn_even_after_a_user_message() -> None:
    messages = [*TOOL_ROUND_TRIP[:2], user("Hurry"), *TOOL_ROUND_TRIP[2:4]]
    payload = translate(messages, tools=[WEATHER_TOOL])
    assert [b["type"] for b in payload["messages"][2]["content"]] == [
        "tool_result",
        "tool_result",
        "text",
    ]


def test_invalid_tool_call_arguments_are_an_invalid_request() -> None:
    messages = [dict(m) for m in TOOL_ROUND_TRIP]
    messages[1] = {
        "role": "assistant",
        "tool_calls": [
            {"id": "t1", "type": "function", "function": {"name": "f", "arguments": '{"city": '}}
        ],
    }
    with pytest.raises(InvalidRequest) as raised:
        translate(messages[:2], tools=[WEATHER_TOOL])
    assert raised.value.param == "messages"
    assert not isinstance(raised.value, UnsupportedFeature)


def test_tools_become_name_description_and_input_schema() -> None:
    bare = {"type": "function", "function": {"name": "get_time"}}
    payload = translate(tools=[WEATHER_TOOL, bare])
    assert payload["tools"] == [
        {
            "name": "get_weather",
            "description": "Current weather in a city",
            "input_schema": WEATHER_TOOL["function"]["parameters"],  # type: ignore[index]
        },
        {"name": "get_time", "input_schema": {"type": "object", "properties": {}}},
    ]


@pytest.mark.parametrize(
    ("tool_choice", "expected"),
    [
        ("none", {"type": "none"}),
        ("auto", {"type": "auto"}),
        ("required", {"type": "any"}),
        (
            {"type": "function", "function": {"name": "get_weather"}},
            {"type": "tool", "name": "get_weather"},
        ),
    ],
)
def test_tool_choice_maps_to_anthropic(tool_choice: Any, expected: dict[str, Any]) -> None:
    assert translate(tools=[WEATHER_TOOL], tool_choice=tool_choice)["tool_choice"] == expected


def test_no_tool_choice_is_sent_when_the_client_gave_none() -> None:
    assert "tool_choice" not in translate(tools=[WEATHER_TOOL])


@pytest.mark.parametrize(
    ("tool_choice", "expected"),
    [
        (None, {"type": "auto", "disable_parallel_tool_use": True}),
        ("required", {"type": "any", "disable_parallel_tool_use": True}),
        ("none", {"type": "none"}),
    ],
)
def test_parallel_tool_calls_false_disables_parallel_tool_use(
    tool_choice: Any, expected: dict[str, Any]
) -> None:
    payload = translate(tools=[WEATHER_TOOL], tool_choice=tool_choice, parallel_tool_calls=False)
    assert payload["tool_choice"] == expected


def test_tool_choice_naming_an_unknown_tool_is_invalid() -> None:
    choice = {"type": "function", "function": {"name": "get_time"}}
    with pytest.raises(InvalidRequest) as raised:
        translate(tools=[WEATHER_TOOL], tool_choice=choice)
    assert raised.value.param == "tool_choice"


# --- output format and sampling ------------------------------------------------------


def test_json_schema_response_format_becomes_output_config_format() -> None:
    schema = {
        "type": "object",
        "properties": {"answer": {"type": "integer"}},
        "required": ["answer"],
        "additionalProperties": False,
    }
    payload = translate(
        response_format={
            "type": "json_schema",
            "json_schema": {"name": "answer", "schema": schema, "strict": True},
        }
    )
    assert payload["output_config"] == {"format": {"type": "json_schema", "schema": schema}}
    assert "system" not in payload


def test_json_object_response_format_is_asked_for_in_the_system_prompt() -> None:
    payload = translate(
        [{"role": "system", "content": "You extract dates."}, user("Today is May 1")],
        response_format={"type": "json_object"},
    )
    assert payload["system"] == f"You extract dates.\n\n{JSON_OBJECT_INSTRUCTION}"
    assert "output_config" not in payload


def test_json_schema_and_reasoning_effort_share_output_config() -> None:
    schema = {"type": "object", "properties": {"a": {"type": "string"}}}
    payload = translate(
        response_format={"type": "json_schema", "json_schema": {"name": "a", "schema": schema}},
        reasoning_effort="medium",
    )
    assert payload["output_config"] == {
        "format": {"type": "json_schema", "schema": schema},
        "effort": "medium",
    }


def test_json_schema_without_a_schema_falls_back_to_the_instruction() -> None:
    payload = translate(response_format={"type": "json_schema", "json_schema": {"name": "any"}})
    assert payload["system"] == JSON_OBJECT_INSTRUCTION
    assert "output_config" not in payload


def test_json_object_without_system_prompt_makes_the_instruction_the_system() -> None:
    assert translate(response_format={"type": "json_object"})["system"] == JSON_OBJECT_INSTRUCTION


@pytest.mark.parametrize(
    ("stop", "expected"), [("END", ["END"]), (["\n\n", "Human:"], ["\n\n", "Human:"])]
)
def test_stop_becomes_stop_sequences(stop: Any, expected: list[str]) -> None:
    assert translate(stop=stop)["stop_sequences"] == expected


@pytest.mark.parametrize(
    ("fields", "target", "expected"),
    [
        ({"max_completion_tokens": 300, "max_tokens": 200}, Target("c", 8192), 300),
        ({"max_tokens": 200}, Target("c", 8192), 200),
        ({}, Target("c", max_output_tokens=8192), 8192),
        ({}, Target("c"), DEFAULT_MAX_TOKENS),
    ],
)
def test_max_tokens_is_always_sent(fields: dict[str, Any], target: Target, expected: int) -> None:
    assert translate(target=target, **fields)["max_tokens"] == expected


def test_temperature_is_clamped_to_anthropic_range_and_top_p_passed() -> None:
    payload = translate(temperature=1.6, top_p=0.9)
    assert (payload["temperature"], payload["top_p"]) == (1.0, 0.9)
    assert translate(temperature=0.3)["temperature"] == 0.3


def test_user_becomes_metadata_user_id() -> None:
    assert translate(user="user-7f3a")["metadata"] == {"user_id": "user-7f3a"}


def test_seed_penalties_and_unknown_fields_are_dropped() -> None:
    payload = translate(
        seed=42, presence_penalty=0.5, frequency_penalty=0.2, store=True, service_tier="auto"
    )
    assert set(payload) == {"model", "max_tokens", "messages"}


def test_upstream_model_is_sent_and_stream_only_when_streaming() -> None:
    plain = translate()
    streamed = to_request(request(), TARGET, stream=True)
    assert plain["model"] == TARGET.upstream_model
    assert "stream" not in plain
    assert streamed["stream"] is True


@pytest.mark.parametrize(
    ("effort", "expected"),
    [
        ("minimal", {"output_config": {"effort": "low"}}),
        ("high", {"output_config": {"effort": "high"}}),
        ("none", {"thinking": {"type": "disabled"}}),
    ],
)
def test_reasoning_effort_maps_to_effort_or_disabled_thinking(
    effort: str, expected: dict[str, Any]
) -> None:
    payload = translate(reasoning_effort=effort)
    assert {k: payload[k] for k in expected} == expected


# --- refused --------------------------------------------------------------------------


def test_n_above_one_is_refused_with_param_n() -> None:
    with pytest.raises(UnsupportedFeature) as raised:
        translate(n=2)
    assert raised.value.param == "n"
    assert "n" not in translate(n=1)


@pytest.mark.parametrize(
    ("fields", "param"),
    [
        ({"logprobs": True}, "logprobs"),
        ({"logprobs": True, "top_logprobs": 3}, "logprobs"),
        ({"top_logprobs": 3}, "top_logprobs"),
        ({"logit_bias": {"1234": -100}}, "logit_bias"),
        ({"modalities": ["text", "audio"], "audio": {"voice": "alloy"}}, "audio"),
        ({"modalities": ["text", "audio"]}, "modalities"),
        ({"reasoning_effort": "extreme"}, "reasoning_effort"),
    ],
)
def test_features_anthropic_lacks_are_refused(fields: dict[str, Any], param: str) -> None:
    with pytest.raises(UnsupportedFeature) as raised:
        translate(**fields)
    assert raised.value.param == param
    assert raised.value.status_code == 400


def test_logprobs_false_is_accepted() -> None:
    assert "logprobs" not in translate(logprobs=False)


# --- responses ------------------------------------------------------------------------

TEXT_RESPONSE = {
    "id": "msg_01XFDUDYJgAACzvnptvVoYEL",
    "type": "message",
    "role": "assistant",
    "model": "claude-sonnet-4-5-20250929",
    "content": [
        {"type": "text", "text": "Paris is the capital "},
        {"type": "text", "text": "of France."},
    ],
    "stop_reason": "end_turn",
    "stop_sequence": None,
    "usage": {
        "input_tokens": 14,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 0,
        "output_tokens": 9,
        "service_tier": "standard",
    },
}

TOOL_RESPONSE = {
    "id": "msg_01Aq9w938a90dw8q",
    "type": "message",
    "role": "assistant",
    "model": "claude-sonnet-4-5-20250929",
    "content": [
        {
            "type": "thinking",
            "thinking": "The user wants the weather; call the tool.",
            "signature": "EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds",
        },
        {"type": "text", "text": "Let me check."},
        {
            "type": "tool_use",
            "id": "toolu_01A09q90qw90lq917835lq9",
            "name": "get_weather",
            "input": {"city": "Paris", "unit": "celsius"},
        },
    ],
    "stop_reason": "tool_use",
    "stop_sequence": None,
    "usage": {"input_tokens": 472, "output_tokens": 91},
}


def test_text_blocks_join_into_content() -> None:
    result = from_response(TEXT_RESPONSE, "anthropic")
    assert result.text == "Paris is the capital of France."
    assert result.finish_reason == "stop"
    assert result.usage == Usage(input_tokens=14, output_tokens=9)
    assert result.upstream_id == "msg_01XFDUDYJgAACzvnptvVoYEL"
    assert result.upstream_model == "claude-sonnet-4-5-20250929"
    assert result.tool_calls == []
    assert result.reasoning_text is None


def test_tool_use_becomes_tool_call_with_json_string_arguments() -> None:
    result = from_response(TOOL_RESPONSE, "anthropic")
    assert result.finish_reason == "tool_calls"
    assert result.tool_calls == [
        ToolCall(
            id="toolu_01A09q90qw90lq917835lq9",
            name="get_weather",
            arguments='{"city":"Paris","unit":"celsius"}',
        )
    ]
    assert result.text == "Let me check."


def test_thinking_blocks_become_reasoning_content() -> None:
    result = from_response(TOOL_RESPONSE, "anthropic")
    assert result.reasoning_text == "The user wants the weather; call the tool."


def test_response_with_only_tool_use_has_no_content() -> None:
    data = TOOL_RESPONSE | {"content": [TOOL_RESPONSE["content"][2]]}  # type: ignore[index]
    assert from_response(data, "anthropic").text is None


@pytest.mark.parametrize(
    ("stop_reason", "finish_reason"),
    [
        ("end_turn", "stop"),
        ("stop_sequence", "stop"),
        ("pause_turn", "stop"),
        ("max_tokens", "length"),
        ("model_context_window_exceeded", "length"),
        ("tool_use", "tool_calls"),
        ("refusal", "content_filter"),
    ],
)
def test_stop_reason_maps_to_finish_reason(stop_reason: str, finish_reason: str) -> None:
    result = from_response(TEXT_RESPONSE | {"stop_reason": stop_reason}, "anthropic")
    assert result.finish_reason == finish_reason


def test_every_stop_reason_the_sdk_knows_is_mapped() -> None:
    assert set(typing.get_args(anthropic.types.StopReason)) <= set(STOP_REASONS)


def test_usage_counts_cache_reads_and_writes_as_input() -> None:
    usage = parse_usage(
        {
            "input_tokens": 50,
            "cache_creation_input_tokens": 1000,
            "cache_read_input_tokens": 1500,
            "output_tokens": 300,
            "output_tokens_details": {"thinking_tokens": 120},
        }
    )
    assert usage == Usage(
        input_tokens=2550,
        output_tokens=300,
        cached_input_tokens=1500,
        cache_write_tokens=1000,
        reasoning_tokens=120,
    )


def test_usage_with_null_cache_counts_reads_as_zero() -> None:
    raw = {"input_tokens": 7, "cache_read_input_tokens": None, "output_tokens": 2}
    assert parse_usage(raw) == Usage(input_tokens=7, output_tokens=2)


def test_response_without_content_is_a_malformed_upstream_response() -> None:
    with pytest.raises(UpstreamError) as raised:
        from_response({"id": "msg_1", "type": "message"}, "anthropic")
    assert raised.value.status_code == 502


# --- streaming ------------------------------------------------------------------------


def sse(transcript: str) -> list[tuple[str, Any]]:
    """(event, data) pairs of an SSE transcript written as the API sends it."""
    events = []
    for frame in transcript.strip().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in frame.strip().splitlines())
        events.append((lines["event"], orjson.loads(lines["data"])))
    return events


def run(transcript: str) -> list[StreamEvent]:
    state = StreamState("anthropic")
    out: list[StreamEvent] = []
    for event, data in sse(transcript):
        out.extend(state.feed(event, data))
    assert state.done
    return out


# Raw SSE transcripts, one `data:` line per event as the API sends them.
TEXT_STREAM = """
event: message_start
data: {"type":"message_start","message":{"id":"msg_1nZdL29xx5MUA1yADyHTEsnR8uuvGzszyY","type":"message","role":"assistant","content":[],"model":"claude-sonnet-4-5-20250929","stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":25,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":1}}}

event: content_block_start
data: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}

event: ping
data: {"type": "ping"}

event: content_block_delta
data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hello"}}

event: content_block_delta
data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"!"}}

event: content_block_stop
data: {"type":"content_block_stop","index":0}

event: message_delta
data: {"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":15}}

event: message_stop
data: {"type":"message_stop"}
"""  # noqa: E501 (captured SSE, one event a line)


def test_text_stream_yields_usage_text_finish_and_final_usage() -> None:
    assert run(TEXT_STREAM) == [
        UsageReport(Usage(input_tokens=25, output_tokens=1)),
        TextDelta("Hello"),
        TextDelta("!"),
        Finish("stop"),
        UsageReport(Usage(input_tokens=25, output_tokens=15)),
    ]


TOOL_STREAM = """
event: message_start
data: {"type":"message_start","message":{"id":"msg_014p7gG3wDgGV9EUtLvnow3U","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929","stop_sequence":null,"usage":{"input_tokens":472,"output_tokens":2},"content":[],"stop_reason":null}}

event: content_block_start
data: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}

event: content_block_delta
data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Checking both."}}

event: content_block_stop
data: {"type":"content_block_stop","index":0}

event: content_block_start
data: {"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"toolu_01T1x1fJ34qAmk2tNTrN7Up6","name":"get_weather","input":{}}}

event: content_block_delta
data: {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":""}}

event: content_block_delta
data: {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\\"city\\": \\"Par"}}

event: content_block_delta
data: {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"is\\"}"}}

event: content_block_stop
data: {"type":"content_block_stop","index":1}

event: content_block_start
data: {"type":"content_block_start","index":2,"content_block":{"type":"tool_use","id":"toolu_02Rome","name":"get_weather","input":{}}}

event: content_block_delta
data: {"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":"{\\"city\\": \\"Rome\\"}"}}

event: content_block_stop
data: {"type":"content_block_stop","index":2}

event: message_delta
data: {"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"output_tokens":89}}

event: message_stop
data: {"type":"message_stop"}
"""  # noqa: E501 (captured SSE, one event a line)


def test_tool_call_fragments_are_indexed_by_tool_call_not_block() -> None:
    events = run(TOOL_STREAM)
    calls = [e for e in events if isinstance(e, ToolCallDelta)]
    assert calls == [
        ToolCallDelta(index=0, id="toolu_01T1x1fJ34qAmk2tNTrN7Up6", name="get_weather"),
        ToolCallDelta(index=0, arguments='{"city": "Par'),
        ToolCallDelta(index=0, arguments='is"}'),
        ToolCallDelta(index=1, id="toolu_02Rome", name="get_weather"),
        ToolCallDelta(index=1, arguments='{"city": "Rome"}'),
    ]
    assert TextDelta("Checking both.") in events
    assert Finish("tool_calls") in events


THINKING_STREAM = """
event: message_start
data: {"type":"message_start","message":{"id":"msg_01","type":"message","role":"assistant","content":[],"model":"claude-opus-4-1","stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":40,"output_tokens":3}}}

event: content_block_start
data: {"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":"","signature":""}}

event: content_block_delta
data: {"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"6 times 7 "}}

event: content_block_delta
data: {"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"is 42."}}

event: content_block_delta
data: {"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"EqQBCgIYAhIM1gbcDa9GJwZA"}}

event: content_block_stop
data: {"type":"content_block_stop","index":0}

event: content_block_start
data: {"type":"content_block_start","index":1,"content_block":{"type":"text","text":""}}

event: content_block_delta
data: {"type":"content_block_delta","index":1,"delta":{"type":"text_delta","text":"42"}}

event: content_block_stop
data: {"type":"content_block_stop","index":1}

event: message_delta
data: {"type":"message_delta","delta":{"stop_reason":"max_tokens","stop_sequence":null},"usage":{"output_tokens":60,"output_tokens_details":{"thinking_tokens":50}}}

event: message_stop
data: {"type":"message_stop"}
"""  # noqa: E501 (captured SSE, one event a line)


def test_thinking_deltas_become_reasoning_deltas_closed_by_their_signature() -> None:
    events = run(THINKING_STREAM)
    assert events[1:6] == [
        ReasoningDelta("6 times 7 "),
        ReasoningDelta("is 42."),
        ReasoningSignature("EqQBCgIYAhIM1gbcDa9GJwZA"),
        TextDelta("42"),
        Finish("length"),
    ]
    assert events[-1] == UsageReport(Usage(input_tokens=40, output_tokens=60, reasoning_tokens=50))


CACHED_START = {
    "type": "message_start",
    "message": {
        "id": "msg_01",
        "type": "message",
        "role": "assistant",
        "content": [],
        "model": "claude-sonnet-4-5",
        "stop_reason": None,
        "stop_sequence": None,
        "usage": {
            "input_tokens": 500,
            "cache_creation_input_tokens": 200,
            "cache_read_input_tokens": 1500,
            "output_tokens": 1,
        },
    },
}


def test_message_delta_usage_overwrites_the_start_usage_instead_of_adding() -> None:
    state = StreamState("anthropic")
    state.feed("message_start", CACHED_START)
    delta = {
        "type": "message_delta",
        "delta": {"stop_reason": "end_turn", "stop_sequence": None},
        "usage": {
            "input_tokens": 500,
            "cache_creation_input_tokens": 200,
            "cache_read_input_tokens": 1500,
            "output_tokens": 100,
        },
    }
    assert state.feed("message_delta", delta)[-1] == UsageReport(
        Usage(
            input_tokens=2200, output_tokens=100, cached_input_tokens=1500, cache_write_tokens=200
        )
    )


def test_message_delta_without_input_counts_keeps_those_of_message_start() -> None:
    state = StreamState("anthropic")
    state.feed("message_start", CACHED_START)
    delta = {
        "type": "message_delta",
        "delta": {"stop_reason": "end_turn"},
        "usage": {"output_tokens": 7},
    }
    report = state.feed("message_delta", delta)[-1]
    assert isinstance(report, UsageReport)
    assert report.usage == Usage(
        input_tokens=2200, output_tokens=7, cached_input_tokens=1500, cache_write_tokens=200
    )


def test_ping_and_block_stop_yield_nothing() -> None:
    state = StreamState("anthropic")
    assert state.feed("ping", {"type": "ping"}) == []
    assert state.feed("content_block_stop", {"type": "content_block_stop", "index": 0}) == []
    assert not state.done


@pytest.mark.parametrize(
    ("error_type", "status", "cls"),
    [("overloaded_error", 503, UpstreamUnavailable), ("api_error", 502, UpstreamUnavailable)],
)
def test_error_event_raises_an_upstream_error(
    error_type: str, status: int, cls: type[UpstreamError]
) -> None:
    state = StreamState("anthropic")
    state.feed("message_start", CACHED_START)
    data = {"type": "error", "error": {"type": error_type, "message": "Overloaded"}}
    with pytest.raises(cls) as raised:
        state.feed("error", data)
    assert raised.value.status_code == status
    assert raised.value.message == "anthropic: Overloaded"


def test_event_that_is_not_an_object_is_malformed() -> None:
    with pytest.raises(UpstreamError) as raised:
        StreamState("anthropic").feed("content_block_delta", ["not", "an", "object"])
    assert "malformed" in raised.value.message


# --- errors ---------------------------------------------------------------------------

OVERLOADED = {
    "type": "error",
    "error": {"type": "overloaded_error", "message": "Overloaded"},
    "request_id": "req_011CSHoEeqs5C35K2UUqR7Fy",
}


def test_error_body_gives_message_and_type() -> None:
    body = {
        "type": "error",
        "error": {"type": "invalid_request_error", "message": "max_tokens: Field required"},
        "request_id": "req_011CSHoEeqs5C35K2UUqR7Fy",
    }
    assert parse_error(body) == (
        "max_tokens: Field required",
        "invalid_request_error",
        "invalid_request_error",
        None,
    )


def test_overloaded_529_becomes_a_retryable_503_with_retry_after() -> None:
    error = error_from_response(
        "anthropic",
        529,
        httpx.Headers({"retry-after": "12"}),
        orjson.dumps(OVERLOADED),
        parse_error,
    )
    assert isinstance(error, UpstreamUnavailable)
    assert (error.status_code, error.upstream_status, error.retryable) == (503, 529, True)
    assert error.headers == {"retry-after": "12"}
    assert error.code == "overloaded_error"


def test_authentication_error_keeps_its_status_and_type() -> None:
    body = {
        "type": "error",
        "error": {"type": "authentication_error", "message": "invalid x-api-key"},
    }
    error = error_from_response("anthropic", 401, httpx.Headers(), orjson.dumps(body), parse_error)
    assert (error.status_code, error.error_type) == (401, "authentication_error")
    assert error.message == "anthropic: invalid x-api-key"
    assert not isinstance(error, UpstreamRateLimited)
