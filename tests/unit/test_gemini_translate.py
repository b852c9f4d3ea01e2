"""The Gemini adapter's pure translation, on payloads shaped like the real API's."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import orjson
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from model_router.domain import (
    Finish,
    Flush,
    ReasoningDelta,
    TextDelta,
    ToolCallDelta,
    Usage,
    UsageReport,
)
from model_router.domain.request import Request as NeutralRequest
from model_router.errors import (
    InvalidRequest,
    UnsupportedFeature,
    UpstreamError,
    UpstreamRateLimited,
    UpstreamUnavailable,
)
from model_router.frontdoors.openai_chat_translate import to_request as door_request
from model_router.providers.base import ProviderConfig, Target
from model_router.providers.gemini import GeminiProvider
from model_router.providers.gemini.stream import StreamState
from model_router.providers.gemini.translate import (
    OPENING_USER_TEXT,
    SKIP_SIGNATURE,
    from_response,
    gemini_error,
    parse_error,
    parse_usage,
    to_request,
)
from model_router.providers.registry import make_client
from tests.mocks.server import ServerThread

TARGET = Target(upstream_model="gemini-2.5-flash")
PROVIDER = "gemini"
WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather for a city",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
        "strict": True,
    },
}


def translate(messages: list[dict[str, Any]], **fields: Any) -> dict[str, Any]:
    request = door_request({"model": "gemini-flash", "messages": messages, **fields})
    return to_request(request, TARGET)


def user(text: str = "Hi") -> dict[str, Any]:
    return {"role": "user", "content": text}


def response(parts: list[dict[str, Any]], finish: str = "STOP", **extra: Any) -> dict[str, Any]:
    return {
        "candidates": [
            {"content": {"role": "model", "parts": parts}, "finishReason": finish, "index": 0}
        ],
        "usageMetadata": {"promptTokenCount": 12, "candidatesTokenCount": 8, "totalTokenCount": 20},
        "modelVersion": "gemini-2.5-flash",
        "responseId": "resp-abc",
        **extra,
    }


# -- messages -----------------------------------------------------------------------------------


def test_system_and_developer_messages_merge_into_one_system_instruction() -> None:
    body = translate(
        [
            {"role": "system", "content": "You are terse."},
            user("Hi"),
            {"role": "developer", "content": [{"type": "text", "text": "Answer in French."}]},
        ]
    )
    assert body["systemInstruction"] == {"parts": [{"text": "You are terse.\n\nAnswer in French."}]}
    assert body["contents"] == [{"role": "user", "parts": [{"text": "Hi"}]}]


def test_system_message_with_an_image_is_unsupported() -> None:
    image = {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}}
    with pytest.raises(UnsupportedFeature) as caught:
        translate([{"role": "system", "content": [image]}, user()])
    assert "image_url" in caught.value.message


def test_no_system_instruction_without_system_text() -> None:
    body = translate([{"role": "system", "content": ""}, user()])
    assert "systemInstruction" not in body


def test_assistant_becomes_model_and_same_role_runs_merge() -> None:
    body = translate(
        [
            user("one"),
            user("two"),
            {"role": "assistant", "content": "three"},
            {"role": "assistant", "content": "four"},
            user("five"),
        ]
    )
    assert body["contents"] == [
        {"role": "user", "parts": [{"text": "one"}, {"text": "two"}]},
        {"role": "model", "parts": [{"text": "three"}, {"text": "four"}]},
        {"role": "user", "parts": [{"text": "five"}]},
    ]


def test_conversation_opening_with_the_assistant_gets_a_user_turn_first() -> None:
    body = translate([{"role": "assistant", "content": "How can I help?"}, user("Weather?")])
    assert body["contents"][0] == {"role": "user", "parts": [{"text": OPENING_USER_TEXT}]}
    assert [c["role"] for c in body["contents"]] == ["user", "model", "user"]


def test_empty_text_is_never_sent_as_a_part() -> None:
    body = translate(
        [
            user("Hi"),
            {"role": "assistant", "content": ""},
            {
                "role": "user",
                "content": [{"type": "text", "text": ""}, {"type": "text", "text": "x"}],
            },
        ]
    )
    assert body["contents"] == [{"role": "user", "parts": [{"text": "Hi"}, {"text": "x"}]}]


def test_data_url_image_becomes_inline_data() -> None:
    image = {
        "type": "image_url",
        "image_url": {"url": "data:image/png;base64,iVBORw0KGgo=", "detail": "high"},
    }
    body = translate(
        [{"role": "user", "content": [{"type": "text", "text": "What is it?"}, image]}]
    )
    assert body["contents"][0]["parts"] == [
        {"text": "What is it?"},
        {"inlineData": {"mimeType": "image/png", "data": "iVBORw0KGgo="}},
    ]


@pytest.mark.parametrize(
    ("url", "mime"),
    [
        ("https://example.com/cat.jpg", "image/jpeg"),
        ("https://example.com/photos/Cat.JPEG?w=200", "image/jpeg"),
        ("https://cdn.example.com/a.webp", "image/webp"),
        ("https://example.com/shot.png#frag", "image/png"),
    ],
)
def test_https_image_becomes_file_data_typed_by_extension(url: str, mime: str) -> None:
    image = {"type": "image_url", "image_url": {"url": url}}
    body = translate([{"role": "user", "content": [image]}])
    assert body["contents"][0]["parts"] == [{"fileData": {"mimeType": mime, "fileUri": url}}]


@pytest.mark.parametrize(
    "url",
    ["https://example.com/image", "https://example.com/anim.gif", "http://example.com/cat.png"],
)
def test_image_url_without_a_known_type_or_not_https_is_unsupported(url: str) -> None:
    image = {"type": "image_url", "image_url": {"url": url}}
    with pytest.raises(UnsupportedFeature) as caught:
        translate([{"role": "user", "content": [image]}])
    assert caught.value.param == "messages"


def test_data_url_that_is_not_base64_is_invalid() -> None:
    image = {"type": "image_url", "image_url": {"url": "data:image/svg+xml,<svg/>"}}
    with pytest.raises(InvalidRequest):
        translate([{"role": "user", "content": [image]}])


@pytest.mark.parametrize(
    "part",
    [
        {"type": "input_audio", "input_audio": {"data": "UklGRg==", "format": "wav"}},
        {"type": "file", "file": {"file_id": "file-abc"}},
    ],
)
def test_audio_and_file_parts_are_unsupported_naming_the_part(part: dict[str, Any]) -> None:
    with pytest.raises(UnsupportedFeature) as caught:
        translate([{"role": "user", "content": [{"type": "text", "text": "Listen"}, part]}])
    assert part["type"] in caught.value.message


# -- tools --------------------------------------------------------------------------------------

TOOL_CONVERSATION: list[dict[str, Any]] = [
    user("Weather in Paris and Rome?"),
    {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {
                "id": "call_1",
                "type": "function",
                "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
            },
            {
                "id": "call_2",
                "type": "function",
                "function": {"name": "get_time", "arguments": '{"city": "Rome"}'},
            },
        ],
    },
    {"role": "tool", "tool_call_id": "call_1", "content": '{"temp_c": 18}'},
    {"role": "tool", "tool_call_id": "call_2", "content": "14:05"},
]


def test_assistant_tool_calls_become_function_call_parts_with_object_args() -> None:
    body = translate(TOOL_CONVERSATION, tools=[WEATHER_TOOL])
    model = body["contents"][1]
    assert model["role"] == "model"
    assert [p["functionCall"] for p in model["parts"]] == [
        {"id": "call_1", "name": "get_weather", "args": {"city": "Paris"}},
        {"id": "call_2", "name": "get_time", "args": {"city": "Rome"}},
    ]


def test_replayed_calls_carry_the_client_signature_or_the_skip_value() -> None:
    conversation = [dict(m) for m in TOOL_CONVERSATION]
    signed = [dict(c) for c in conversation[1]["tool_calls"]]
    signed[1]["extra_content"] = {"google": {"thought_signature": "CiQBcsjafQ=="}}
    conversation[1]["tool_calls"] = signed
    parts = translate(conversation)["contents"][1]["parts"]
    assert parts[0]["thoughtSignature"] == SKIP_SIGNATURE
    assert parts[1]["thoughtSignature"] == "CiQBcsjafQ=="


def test_tool_messages_become_function_responses_in_one_user_turn() -> None:
    body = translate(TOOL_CONVERSATION)
    assert body["contents"][2] == {
        "role": "user",
        "parts": [
            {
                "functionResponse": {
                    "id": "call_1",
                    "name": "get_weather",
                    "response": {"result": {"temp_c": 18}},
                }
            },
            {
                "functionResponse": {
                    "id": "call_2",
                    "name": "get_time",
                    "response": {"result": "14:05"},
                }
            },
        ],
    }
    assert len(body["contents"]) == 3


def test_tool_result_that_is_a_json_array_stays_a_string() -> None:
    conversation = [
        *TOOL_CONVERSATION[:2],
        {"role": "tool", "tool_call_id": "call_1", "content": "[1, 2]"},
    ]
    part = translate(conversation)["contents"][2]["parts"][0]
    assert part["functionResponse"]["response"] == {"result": "[1, 2]"}


def test_tool_message_for_an_unknown_call_id_is_invalid() -> None:
    conversation = [
        *TOOL_CONVERSATION[:2],
        {"role": "tool", "tool_call_id": "call_9", "content": "x"},
    ]
    with pytest.raises(InvalidRequest) as caught:
        translate(conversation)
    assert caught.value.param == "messages"
    assert "call_9" in caught.value.message


def test_tool_call_arguments_that_are_not_an_object_are_invalid() -> None:
    call = {"id": "c", "type": "function", "function": {"name": "f", "arguments": "[1]"}}
    with pytest.raises(InvalidRequest):
        translate([user(), {"role": "assistant", "tool_calls": [call]}])


def test_tools_become_function_declarations_with_json_schema() -> None:
    body = translate([user()], tools=[WEATHER_TOOL])
    assert body["tools"] == [
        {
            "functionDeclarations": [
                {
                    "name": "get_weather",
                    "description": "Current weather for a city",
                    "parametersJsonSchema": WEATHER_TOOL["function"]["parameters"],
                }
            ]
        }
    ]
    assert "toolConfig" not in body


def test_tool_name_gemini_would_reject_is_unsupported() -> None:
    tool = {"type": "function", "function": {"name": "1st-tool"}}
    with pytest.raises(UnsupportedFeature) as caught:
        translate([user()], tools=[tool])
    assert caught.value.param == "tools"


@pytest.mark.parametrize(
    ("choice", "config"),
    [
        ("none", {"mode": "NONE"}),
        ("auto", {"mode": "AUTO"}),
        ("required", {"mode": "ANY"}),
        (
            {"type": "function", "function": {"name": "get_weather"}},
            {"mode": "ANY", "allowedFunctionNames": ["get_weather"]},
        ),
    ],
)
def test_tool_choice_becomes_function_calling_mode(choice: Any, config: dict[str, Any]) -> None:
    body = translate([user()], tools=[WEATHER_TOOL], tool_choice=choice)
    assert body["toolConfig"] == {"functionCallingConfig": config}


def test_tool_choice_naming_an_undeclared_tool_is_invalid() -> None:
    choice = {"type": "function", "function": {"name": "get_time"}}
    with pytest.raises(InvalidRequest) as caught:
        translate([user()], tools=[WEATHER_TOOL], tool_choice=choice)
    assert caught.value.param == "tool_choice"


# -- generation config --------------------------------------------------------------------------


def test_json_object_asks_for_a_json_mime_type() -> None:
    body = translate([user()], response_format={"type": "json_object"})
    assert body["generationConfig"] == {"responseMimeType": "application/json"}


def test_json_schema_sends_the_schema_as_response_json_schema() -> None:
    schema = {"type": "object", "properties": {"answer": {"type": "integer"}}}
    body = translate(
        [user()],
        response_format={"type": "json_schema", "json_schema": {"name": "a", "schema": schema}},
    )
    assert body["generationConfig"] == {
        "responseMimeType": "application/json",
        "responseJsonSchema": schema,
    }


def test_sampling_fields_map_to_camel_case_generation_config() -> None:
    body = translate(
        [user()],
        temperature=0.3,
        top_p=0.9,
        max_tokens=100,
        max_completion_tokens=256,
        seed=7,
        presence_penalty=0.5,
        frequency_penalty=-0.5,
        n=1,
        stop=["END", "", "STOP"],
    )
    assert body["generationConfig"] == {
        "temperature": 0.3,
        "topP": 0.9,
        "maxOutputTokens": 256,
        "seed": 7,
        "presencePenalty": 0.5,
        "frequencyPenalty": -0.5,
        "stopSequences": ["END", "STOP"],
    }


def test_output_limit_is_capped_at_the_models_maximum() -> None:
    request = door_request({"model": "m", "messages": [user()], "max_completion_tokens": 100_000})
    body = to_request(request, Target(upstream_model="gemini-2.5-flash", max_output_tokens=65_536))
    assert body["generationConfig"] == {"maxOutputTokens": 65_536}


def test_a_single_stop_string_becomes_one_stop_sequence() -> None:
    body = translate([user()], stop="\n\n", max_tokens=50)
    assert body["generationConfig"] == {"stopSequences": ["\n\n"], "maxOutputTokens": 50}


def test_no_generation_config_when_nothing_is_set() -> None:
    assert "generationConfig" not in translate([user()])


def test_more_than_one_choice_is_unsupported_on_param_n() -> None:
    with pytest.raises(UnsupportedFeature) as caught:
        translate([user()], n=2)
    assert caught.value.param == "n"


@pytest.mark.parametrize(
    ("effort", "level"), [("minimal", "low"), ("low", "low"), ("high", "high")]
)
def test_reasoning_effort_becomes_thinking_level(effort: str, level: str) -> None:
    body = translate([user()], reasoning_effort=effort)
    assert body["generationConfig"]["thinkingConfig"] == {
        "thinkingLevel": level,
        "includeThoughts": True,
    }


def test_unknown_reasoning_effort_is_invalid() -> None:
    with pytest.raises(InvalidRequest) as caught:
        translate([user()], reasoning_effort="extreme")
    assert caught.value.param == "reasoning_effort"


def test_openai_only_fields_are_rejected_and_platform_fields_ignored() -> None:
    body = translate([user()], user="u-1", metadata={"k": "v"}, parallel_tool_calls=False)
    assert set(body) == {"contents"}
    with pytest.raises(UnsupportedFeature) as caught:
        translate([user()], logit_bias={"50256": -100})
    assert caught.value.param == "logit_bias"


# -- responses ----------------------------------------------------------------------------------


def test_text_parts_join_into_content_and_ids_are_kept() -> None:
    result = from_response(response([{"text": "Hello, "}, {"text": "world."}]), PROVIDER)
    assert result.text == "Hello, world."
    assert result.finish_reason == "stop"
    assert result.reasoning_text is None
    assert result.tool_calls == []
    assert (result.upstream_id, result.upstream_model) == ("resp-abc", "gemini-2.5-flash")


def test_thought_parts_become_reasoning_content() -> None:
    parts = [{"text": "Six times seven...", "thought": True}, {"text": "42"}]
    result = from_response(response(parts), PROVIDER)
    assert result.reasoning_text == "Six times seven..."
    assert result.text == "42"


def test_function_calls_become_tool_calls_and_stop_becomes_tool_calls() -> None:
    parts = [
        {
            "functionCall": {"name": "get_weather", "args": {"city": "Paris"}},
            "thoughtSignature": "CiQB",
        },
        {"functionCall": {"id": "fc_7", "name": "get_time", "args": {}}},
    ]
    result = from_response(response(parts), PROVIDER)
    assert result.finish_reason == "tool_calls"
    assert result.text is None
    first, second = result.tool_calls
    assert re.fullmatch(r"call_[0-9a-f]{24}", first.id)
    assert (first.name, orjson.loads(first.arguments)) == ("get_weather", {"city": "Paris"})
    assert (second.id, second.name, second.arguments) == ("fc_7", "get_time", "{}")


@pytest.mark.parametrize(
    ("reason", "finish"),
    [
        ("STOP", "stop"),
        ("MAX_TOKENS", "length"),
        ("SAFETY", "content_filter"),
        ("RECITATION", "content_filter"),
        ("BLOCKLIST", "content_filter"),
        ("PROHIBITED_CONTENT", "content_filter"),
        ("SPII", "content_filter"),
        ("IMAGE_SAFETY", "content_filter"),
        ("IMAGE_PROHIBITED_CONTENT", "content_filter"),
        ("IMAGE_SOMETHING_NEW", "content_filter"),
        ("OTHER", "stop"),
        ("LANGUAGE", "stop"),
    ],
)
def test_finish_reason_maps_to_openai(reason: str, finish: str) -> None:
    assert from_response(response([{"text": "x"}], reason), PROVIDER).finish_reason == finish


@pytest.mark.parametrize(
    "reason", ["MALFORMED_FUNCTION_CALL", "UNEXPECTED_TOOL_CALL", "MISSING_THOUGHT_SIGNATURE"]
)
def test_failed_generation_finish_reasons_are_upstream_errors(reason: str) -> None:
    data = response([], reason)
    del data["candidates"][0]["content"]
    with pytest.raises(UpstreamError) as caught:
        from_response(data, PROVIDER)
    assert caught.value.status_code == 502
    assert reason in caught.value.message


def test_safety_stop_without_content_has_no_content() -> None:
    data = {"candidates": [{"finishReason": "SAFETY", "index": 0}], "usageMetadata": {}}
    result = from_response(data, PROVIDER)
    assert (result.text, result.finish_reason) == (None, "content_filter")


def test_blocked_prompt_is_a_content_filter_with_no_content() -> None:
    data = {
        "promptFeedback": {"blockReason": "SAFETY"},
        "usageMetadata": {"promptTokenCount": 9, "totalTokenCount": 9},
        "modelVersion": "gemini-2.5-flash",
    }
    result = from_response(data, PROVIDER)
    assert (result.text, result.finish_reason) == (None, "content_filter")
    assert result.usage.input_tokens == 9


def test_response_without_candidates_or_block_reason_is_malformed() -> None:
    with pytest.raises(UpstreamUnavailable):
        from_response({"usageMetadata": {"promptTokenCount": 3}}, PROVIDER)


def test_usage_counts_cached_in_input_and_thoughts_in_output() -> None:
    usage = parse_usage(
        {
            "promptTokenCount": 2000,
            "cachedContentTokenCount": 1500,
            "candidatesTokenCount": 100,
            "thoughtsTokenCount": 200,
            "totalTokenCount": 2300,
        }
    )
    assert usage == Usage(
        input_tokens=2000, output_tokens=300, cached_input_tokens=1500, reasoning_tokens=200
    )
    assert usage.total_tokens == 2300


def test_missing_usage_is_zero() -> None:
    assert parse_usage(None) == Usage()


# -- streaming ----------------------------------------------------------------------------------


def chunk(parts: list[dict[str, Any]], finish: str | None = None, **usage: int) -> dict[str, Any]:
    candidate: dict[str, Any] = {"content": {"role": "model", "parts": parts}, "index": 0}
    if finish:
        candidate["finishReason"] = finish
    data: dict[str, Any] = {"candidates": [candidate], "modelVersion": "gemini-2.5-flash"}
    if usage:
        data["usageMetadata"] = usage
    return data


def test_stream_text_and_thoughts_become_deltas_then_finish_and_usage() -> None:
    state = StreamState(PROVIDER)
    events = [
        *state.feed(chunk([{"text": "Hmm.", "thought": True}], promptTokenCount=5)),
        *state.feed(chunk([{"text": "Hel"}], promptTokenCount=5, candidatesTokenCount=1)),
        *state.feed(chunk([{"text": "lo"}], "STOP", promptTokenCount=5, candidatesTokenCount=2)),
    ]
    assert events == [
        ReasoningDelta("Hmm."),
        UsageReport(Usage(input_tokens=5)),
        TextDelta("Hel"),
        UsageReport(Usage(input_tokens=5, output_tokens=1)),
        TextDelta("lo"),
        Finish("stop"),
        UsageReport(Usage(input_tokens=5, output_tokens=2)),
    ]
    assert state.finished


def test_stream_function_calls_are_whole_deltas_indexed_across_chunks() -> None:
    state = StreamState(PROVIDER)
    first = state.feed(chunk([{"text": "Checking."}]))
    second = state.feed(
        chunk([{"functionCall": {"id": "a", "name": "get_weather", "args": {"city": "Paris"}}}])
    )
    third = state.feed(
        chunk([{"functionCall": {"name": "get_time", "args": {"city": "Rome"}}}], "STOP")
    )
    assert first == [TextDelta("Checking.")]
    assert second == [ToolCallDelta(0, "a", "get_weather", '{"city":"Paris"}')]
    call, finish = third
    assert isinstance(call, ToolCallDelta)
    assert (call.index, call.name, call.arguments) == (1, "get_time", '{"city":"Rome"}')
    assert re.fullmatch(r"call_[0-9a-f]{24}", call.id or "")
    assert finish == Finish("tool_calls")


def test_stream_usage_is_overwritten_not_added() -> None:
    state = StreamState(PROVIDER)
    state.feed(chunk([{"text": "a"}], promptTokenCount=10, candidatesTokenCount=3))
    last = state.feed(chunk([{"text": "b"}], "STOP", promptTokenCount=10, candidatesTokenCount=7))
    assert last[-1] == UsageReport(Usage(input_tokens=10, output_tokens=7))


def test_stream_without_finish_reason_is_not_finished() -> None:
    state = StreamState(PROVIDER)
    state.feed(chunk([{"text": "partial"}]))
    assert not state.finished


def test_stream_blocked_prompt_finishes_with_content_filter() -> None:
    state = StreamState(PROVIDER)
    events = state.feed(
        {"promptFeedback": {"blockReason": "SAFETY"}, "usageMetadata": {"promptTokenCount": 4}}
    )
    assert events == [Finish("content_filter"), UsageReport(Usage(input_tokens=4))]


def test_stream_error_payload_raises_upstream_error() -> None:
    state = StreamState(PROVIDER)
    state.feed(chunk([{"text": "Hel"}]))
    with pytest.raises(UpstreamError) as caught:
        state.feed(
            {"error": {"code": 503, "message": "The model is overloaded.", "status": "UNAVAILABLE"}}
        )
    assert caught.value.status_code == 503
    assert caught.value.retryable
    assert "overloaded" in caught.value.message


def test_stream_malformed_function_call_finish_raises() -> None:
    state = StreamState(PROVIDER)
    with pytest.raises(UpstreamError):
        state.feed({"candidates": [{"finishReason": "MALFORMED_FUNCTION_CALL", "index": 0}]})


# -- errors -------------------------------------------------------------------------------------

BAD_KEY = {
    "error": {
        "code": 400,
        "message": "API key not valid. Please pass a valid API key.",
        "status": "INVALID_ARGUMENT",
        "details": [
            {
                "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                "reason": "API_KEY_INVALID",
                "domain": "googleapis.com",
                "metadata": {"service": "generativelanguage.googleapis.com"},
            },
            {
                "@type": "type.googleapis.com/google.rpc.LocalizedMessage",
                "locale": "en-US",
                "message": "API key not valid. Please pass a valid API key.",
            },
        ],
    }
}
QUOTA = {
    "error": {
        "code": 429,
        "message": "You exceeded your current quota. Please retry in 6.2s.",
        "status": "RESOURCE_EXHAUSTED",
        "details": [
            {
                "@type": "type.googleapis.com/google.rpc.QuotaFailure",
                "violations": [{"quotaMetric": "generativelanguage.googleapis.com/x"}],
            },
            {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "6.2s"},
        ],
    }
}


def raw(data: Any) -> bytes:
    return orjson.dumps(data, option=orjson.OPT_INDENT_2)  # Google pretty-prints errors


def test_parse_error_reads_message_and_reason() -> None:
    assert parse_error(BAD_KEY) == (
        "API key not valid. Please pass a valid API key.",
        None,
        "API_KEY_INVALID",
        None,
    )
    assert (
        parse_error({"error": {"code": 404, "message": "no", "status": "NOT_FOUND"}})[2]
        == "NOT_FOUND"
    )


def test_invalid_api_key_400_becomes_401_authentication_error() -> None:
    error = gemini_error(PROVIDER, 400, httpx.Headers(), raw(BAD_KEY))
    assert error.status_code == 401
    assert error.error_type == "authentication_error"
    assert error.upstream_status == 400
    assert error.code == "API_KEY_INVALID"


def test_other_400_stays_an_invalid_request() -> None:
    body = {"error": {"code": 400, "message": "Bad schema", "status": "INVALID_ARGUMENT"}}
    error = gemini_error(PROVIDER, 400, httpx.Headers(), raw(body))
    assert (error.status_code, error.error_type) == (400, "invalid_request_error")


def test_quota_429_passes_retry_info_as_retry_after_rounded_up() -> None:
    error = gemini_error(PROVIDER, 429, httpx.Headers(), raw(QUOTA))
    assert isinstance(error, UpstreamRateLimited)
    assert error.headers == {"retry-after": "7"}
    assert error.retryable


def test_429_without_retry_info_has_no_retry_after() -> None:
    body = {"error": {"code": 429, "message": "slow down", "status": "RESOURCE_EXHAUSTED"}}
    error = gemini_error(PROVIDER, 429, httpx.Headers(), raw(body))
    assert error.headers == {}


def test_unavailable_503_is_a_retryable_503() -> None:
    body = {"error": {"code": 503, "message": "The model is overloaded.", "status": "UNAVAILABLE"}}
    error = gemini_error(PROVIDER, 503, httpx.Headers(), raw(body))
    assert isinstance(error, UpstreamUnavailable)
    assert (error.status_code, error.retryable) == (503, True)


def test_error_body_that_is_not_json_keeps_the_status() -> None:
    error = gemini_error(PROVIDER, 500, httpx.Headers(), b"<html>oops</html>")
    assert (error.status_code, error.upstream_status) == (502, 500)


# -- the adapter over a real socket -------------------------------------------------------------


def _app(handler: Callable[[httpx.Request], httpx.Response]) -> Starlette:
    """A local server whose answer is whatever `handler` makes of the request."""

    async def endpoint(request: Request) -> Response:
        seen = httpx.Request(
            request.method,
            str(request.url),
            headers=request.headers.raw,
            content=await request.body(),
        )
        answer = handler(seen)
        return Response(answer.content, answer.status_code, headers=dict(answer.headers))

    return Starlette(routes=[Route("/{path:path}", endpoint, methods=["POST"])])


@asynccontextmanager
async def adapter(handler: Any) -> AsyncIterator[GeminiProvider]:
    with ServerThread(_app(handler)) as server:
        config = ProviderConfig(
            name=PROVIDER,
            protocol="gemini",
            base_url=server.url + "/",
            api_key="AIzaTestKey0123456789",
            api_key_setting="GEMINI_API_KEY",
        )
        client = make_client(connect_timeout=5, read_timeout=5, max_connections=4)
        async with client:
            yield GeminiProvider(config, client)


def chat_request(**fields: Any) -> NeutralRequest:
    return door_request({"model": "m", "messages": [user("Hi")], **fields})


@pytest.mark.anyio
async def test_complete_posts_to_generate_content_with_the_key_header() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=response([{"text": "Hi!"}]))

    async with adapter(handler) as provider:
        result = await provider.complete(chat_request(), TARGET)
    assert result.text == "Hi!"
    (sent,) = seen
    assert sent.url.path == "/v1beta/models/gemini-2.5-flash:generateContent"
    assert sent.headers["x-goog-api-key"] == "AIzaTestKey0123456789"
    assert orjson.loads(sent.content)["contents"] == [{"role": "user", "parts": [{"text": "Hi"}]}]


@pytest.mark.anyio
async def test_complete_maps_an_invalid_key_to_401() -> None:
    async with adapter(lambda request: httpx.Response(400, content=raw(BAD_KEY))) as provider:
        with pytest.raises(UpstreamError) as caught:
            await provider.complete(chat_request(), TARGET)
    assert caught.value.status_code == 401


@pytest.mark.anyio
async def test_complete_raises_an_error_payload_sent_with_200() -> None:
    body = {"error": {"code": 503, "message": "The model is overloaded.", "status": "UNAVAILABLE"}}
    async with adapter(lambda request: httpx.Response(200, json=body)) as provider:
        with pytest.raises(UpstreamUnavailable) as caught:
            await provider.complete(chat_request(), TARGET)
    assert caught.value.status_code == 503


@pytest.mark.anyio
async def test_stream_reads_sse_until_the_body_ends() -> None:
    seen: list[httpx.Request] = []
    frames = [
        chunk([{"text": "Hel"}], promptTokenCount=3, candidatesTokenCount=1),
        chunk([{"text": "lo"}], "STOP", promptTokenCount=3, candidatesTokenCount=2),
    ]
    body = b"".join(b"data: " + orjson.dumps(f) + b"\r\n\r\n" for f in frames)

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, content=body, headers={"content-type": "text/event-stream"})

    async with adapter(handler) as provider:
        received = [e async for e in provider.stream(chat_request(stream=True), TARGET)]
    # A Flush closes each network read's events: the chat service writes them at once.
    assert isinstance(received[-1], Flush)
    events = [e for e in received if not isinstance(e, Flush)]
    assert seen[0].url.path.endswith("/models/gemini-2.5-flash:streamGenerateContent")
    assert seen[0].url.params["alt"] == "sse"
    assert [e for e in events if isinstance(e, TextDelta)] == [TextDelta("Hel"), TextDelta("lo")]
    assert events[-2:] == [Finish("stop"), UsageReport(Usage(input_tokens=3, output_tokens=2))]


@pytest.mark.anyio
async def test_stream_cut_before_a_finish_reason_is_an_upstream_error() -> None:
    body = b"data: " + orjson.dumps(chunk([{"text": "Hel"}])) + b"\r\n\r\n"
    async with adapter(lambda request: httpx.Response(200, content=body)) as provider:
        with pytest.raises(UpstreamError, match="finishReason"):
            async for _ in provider.stream(chat_request(stream=True), TARGET):
                pass


@pytest.mark.anyio
async def test_stream_429_before_the_body_carries_retry_after() -> None:
    async with adapter(lambda request: httpx.Response(429, content=raw(QUOTA))) as provider:
        with pytest.raises(UpstreamRateLimited) as caught:
            async for _ in provider.stream(chat_request(stream=True), TARGET):
                pass
    assert caught.value.headers["retry-after"] == "7"
