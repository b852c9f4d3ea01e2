"""The Responses front door's request side: Responses bodies (the Codex CLI's
and the openai-agents SDK's own, captured) into the neutral `Request`, 400s
naming the field, error bodies, and the conversation of `previous_response_id`.
Rendering answers: test_responses_door_render.py.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import orjson
import pytest
from openai.types.shared import ErrorObject

from model_router.domain.completion import Completion
from model_router.domain.content import (
    Document,
    Image,
    Message,
    Opaque,
    Reasoning,
    RedactedReasoning,
    Text,
    ToolCall,
    ToolResult,
)
from model_router.domain.request import NamedTool, OutputFormat, ReasoningConfig, ToolChoice
from model_router.domain.usage import Usage
from model_router.errors import InvalidRequest, ModelNotFound, RateLimited, UpstreamError
from model_router.frontdoors.openai_responses import ResponsesDoor, conversation_items
from model_router.frontdoors.responses_render import output_items
from tests.unit.test_responses_door_render import answered

FIXTURES = Path(__file__).parent.parent / "fixtures"
door = ResponsesDoor()


def fixture(name: str) -> dict[str, Any]:
    body: dict[str, Any] = json.loads((FIXTURES / name).read_text())
    return body


WEATHER_TOOL = {"type": "function", "name": "get_weather", "parameters": {"type": "object"}}


def body(**fields: Any) -> dict[str, Any]:
    return {"model": "gpt-x", "input": "hi"} | fields


def messages(**fields: Any) -> list[Message]:
    return door.to_request(body(**fields), {}).messages


# --- what real clients send ----------------------------------------------------------------


def test_codex_first_request_translates_whole() -> None:
    raw = fixture("codex/say_hi_request.json")

    request = door.to_request(raw, {"authorization": "Bearer test"})

    assert [m.role for m in request.messages] == ["system", "system", "user", "user"]
    assert request.messages[0].text().startswith("You are a coding agent running in the Codex CLI")
    assert request.messages[-1].parts == [Text("say hi")]
    assert (request.front_door, request.stream, request.model) == (
        "responses",
        True,
        "gpt-5-codex-router",
    )
    assert (request.tool_choice, request.parallel_tool_calls, request.reasoning) == (
        "auto",
        True,
        None,
    )
    assert request.native is None and request.client_body is raw


def test_codex_tools_are_function_tools_its_namespace_flattened_and_web_search_dropped() -> None:
    request = door.to_request(fixture("codex/say_hi_request.json"), {})

    assert all(t.builtin is None for t in request.tools)
    names = [t.name for t in request.tools]
    exec_command = request.tools[names.index("exec_command")]
    assert exec_command.strict is False and exec_command.parameters is not None
    assert "cmd" in exec_command.parameters["properties"]
    assert {"close_agent", "resume_agent", "send_input"} <= set(names)  # multi_agent_v1's
    assert "web_search" not in names and len(names) == len(set(names))
    [note] = request.dropped
    assert note.startswith("tools.8: web_search")


def test_codex_tool_follow_up_has_the_call_and_its_output() -> None:
    request = door.to_request(fixture("codex/exec_command_followup_request.json"), {})

    call, result = request.messages[-2:]
    assert call == Message(
        "assistant", [ToolCall("call_cap1", "exec_command", '{"cmd":"cat hello.txt"}')]
    )
    assert result.role == "tool"
    [tool_result] = result.parts
    assert isinstance(tool_result, ToolResult) and tool_result.tool_call_id == "call_cap1"
    assert "The secret word is pineapple." in tool_result.text()


def test_codex_sends_reasoning_back_encrypted_in_the_same_assistant_turn_as_its_call() -> None:
    raw = fixture("codex/reasoning_followup_request.json")
    assert raw["store"] is False and raw["include"] == ["reasoning.encrypted_content"]

    request = door.to_request(raw, {})

    turn = request.messages[-2]
    assert turn.role == "assistant"
    assert turn.parts == [
        Reasoning("I should read the file.", "gAAAAB-opaque-blob"),
        ToolCall("call_cap1", "exec_command", '{"cmd":"cat hello.txt"}'),
    ]


def test_agents_sdk_request_has_instructions_first_and_strict_function_tool() -> None:
    request = door.to_request(fixture("openai_agents/first_request.json"), {})

    assert request.messages == [
        Message("system", [Text("You answer questions about the weather. Use the tool.")]),
        Message("user", [Text("What is the weather in Paris?")]),
    ]
    [tool] = request.tools
    assert (tool.name, tool.strict, tool.description) == (
        "get_weather",
        True,
        "Get the current weather for a city.",
    )
    assert request.stream is False


@pytest.mark.parametrize(
    "name",
    [
        "openai_agents/tool_followup_request.json",
        "openai_agents/tool_followup_request_streamed.json",
    ],
)
def test_agents_sdk_tool_follow_up(name: str) -> None:
    request = door.to_request(fixture(name), {})

    assert [m.role for m in request.messages] == ["system", "user", "assistant", "tool"]
    assert request.messages[2].parts == [ToolCall("call_cap1", "get_weather", '{"city":"Paris"}')]
    assert request.messages[3].parts == [
        ToolResult("call_cap1", [Text("It is sunny in Paris, 21 C.")])
    ]


# --- items ----------------------------------------------------------------------------------


def test_a_string_input_is_one_user_message() -> None:
    assert messages(input="Hello") == [Message("user", [Text("Hello")])]


def test_what_the_model_made_joins_one_assistant_turn_and_outputs_one_tool_turn() -> None:
    items = [
        {"role": "user", "content": "Read a and b"},
        {"type": "reasoning", "id": "rs_1", "summary": [], "encrypted_content": "blob"},
        {
            "type": "message",
            "role": "assistant",
            "content": [{"type": "output_text", "text": "Reading."}],
        },
        {"type": "function_call", "call_id": "c1", "name": "read", "arguments": '{"p":"a"}'},
        {"type": "function_call", "call_id": "c2", "name": "read", "arguments": '{"p":"b"}'},
        {"type": "function_call_output", "call_id": "c1", "output": "A"},
        {
            "type": "function_call_output",
            "call_id": "c2",
            "output": [{"type": "input_text", "text": "B"}],
        },
        {"role": "developer", "content": "Be brief."},
    ]

    assert messages(input=items) == [
        Message("user", [Text("Read a and b")]),
        Message(
            "assistant",
            [
                RedactedReasoning("blob"),
                Text("Reading."),
                ToolCall("c1", "read", '{"p":"a"}'),
                ToolCall("c2", "read", '{"p":"b"}'),
            ],
        ),
        Message("tool", [ToolResult("c1", [Text("A")]), ToolResult("c2", [Text("B")])]),
        Message("system", [Text("Be brief.")]),
    ]


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        ({"summary": [{"type": "summary_text", "text": "Short."}]}, Reasoning("Short.")),
        (
            {
                "summary": [
                    {"type": "summary_text", "text": "a"},
                    {"type": "summary_text", "text": "b"},
                ],
                "encrypted_content": "sig",
            },
            Reasoning("a\n\nb", "sig"),
        ),
        (
            {
                "summary": [{"type": "summary_text", "text": "Short."}],
                "content": [{"type": "reasoning_text", "text": "The whole thought."}],
            },
            Reasoning("The whole thought."),
        ),
        ({"summary": [], "encrypted_content": "blob"}, RedactedReasoning("blob")),
    ],
)
def test_reasoning_items(item: dict[str, Any], expected: Reasoning | RedactedReasoning) -> None:
    found = messages(input=[{"type": "reasoning", "id": "rs_1"} | item])

    assert found == [Message("assistant", [expected])]


def test_an_empty_reasoning_item_is_dropped() -> None:
    assert messages(input=[{"type": "reasoning", "id": "rs_1", "summary": []}]) == []


def test_images_and_files_by_data_url_url_and_file_id() -> None:
    audio = {"type": "input_audio", "input_audio": {"data": "UklG", "format": "wav"}}
    parts: list[dict[str, Any]] = [
        {"type": "input_text", "text": "Look"},
        {"type": "input_image", "image_url": "data:image/png;base64,iVBOR", "detail": "high"},
        {"type": "input_image", "image_url": "https://example.com/cat.jpg"},
        {"type": "input_image", "file_id": "file-1"},
        {
            "type": "input_file",
            "filename": "a.pdf",
            "file_data": "data:application/pdf;base64,JVBE",
        },
        {"type": "input_file", "filename": "b.pdf", "file_data": "JVBERi0x"},
        {"type": "input_file", "filename": "n.txt", "file_data": "data:text/plain;base64,aGk="},
        {"type": "input_file", "file_url": "https://example.com/c.pdf"},
        {"type": "input_file", "file_id": "file-2"},
        audio,
    ]

    [message] = messages(input=[{"role": "user", "content": parts}])

    assert message.parts == [
        Text("Look"),
        Image(data="iVBOR", media_type="image/png", detail="high"),
        Image(url="https://example.com/cat.jpg"),
        Opaque("openai", "input_image", {"type": "input_image", "file_id": "file-1"}),
        Document("application/pdf", data="JVBE", title="a.pdf"),
        Document("application/pdf", data="JVBERi0x", title="b.pdf"),
        Document("text/plain", text="hi", title="n.txt"),
        Document("application/pdf", url="https://example.com/c.pdf"),
        Opaque("openai", "input_file", {"type": "input_file", "file_id": "file-2"}),
        Opaque("openai", "input_audio", audio),
    ]


def test_item_types_the_core_does_not_model_are_kept_for_openai() -> None:
    call = {
        "type": "custom_tool_call",
        "call_id": "c1",
        "name": "apply_patch",
        "input": "*** Begin",
    }
    output = {"type": "custom_tool_call_output", "call_id": "c1", "output": "Done"}

    found = messages(input=[{"role": "user", "content": "patch it"}, call, output])

    assert found[1:] == [
        Message("assistant", [Opaque("openai", "custom_tool_call", call)]),
        Message("user", [Opaque("openai", "custom_tool_call_output", output)]),
    ]


def test_an_assistant_refusal_sent_back_is_text() -> None:
    item = {"role": "assistant", "content": [{"type": "refusal", "refusal": "I can't."}]}

    assert messages(input=[item]) == [Message("assistant", [Text("I can't.")])]


# --- tools and settings ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "tool",
    [
        {"type": "file_search", "vector_store_ids": ["vs_1"]},
        {"type": "mcp", "server_label": "deepwiki", "server_url": "https://x"},
        {"type": "code_interpreter", "container": {"type": "auto"}},
        {"type": "custom", "name": "apply_patch", "format": {"type": "text"}},
        {"type": "local_shell"},
    ],
)
def test_openai_built_in_tools_are_refused_naming_them(tool: dict[str, Any]) -> None:
    with pytest.raises(InvalidRequest) as caught:
        door.to_request(body(tools=[WEATHER_TOOL, tool]), {})

    assert caught.value.param == "tools.1"
    assert f"'{tool['type']}'" in caught.value.message


def test_web_search_is_dropped_and_noted() -> None:
    request = door.to_request(body(tools=[{"type": "web_search_preview"}, WEATHER_TOOL]), {})

    assert [t.name for t in request.tools] == ["get_weather"]
    assert request.dropped == [
        "tools.0: web_search_preview (OpenAI's hosted tool; no deployment runs it)"
    ]


def test_a_namespace_is_flattened_into_its_function_tools() -> None:
    namespace = {"type": "namespace", "name": "ns", "tools": [WEATHER_TOOL]}

    [tool] = door.to_request(body(tools=[namespace]), {}).tools

    assert (tool.name, tool.builtin) == ("get_weather", None)


@pytest.mark.parametrize(
    ("tools", "param"),
    [
        (
            [{"type": "namespace", "name": "ns", "tools": [{"type": "web_search"}]}],
            "tools.0.tools.0",
        ),
        ([{"type": "namespace", "name": "ns"}], "tools.0"),
        ([WEATHER_TOOL, {"type": "namespace", "name": "ns", "tools": [WEATHER_TOOL]}], "tools"),
    ],
)
def test_a_namespace_of_anything_but_unique_function_tools_is_refused(
    tools: list[Any], param: str
) -> None:
    with pytest.raises(InvalidRequest) as caught:
        door.to_request(body(tools=tools), {})

    assert caught.value.param == param


def test_a_built_in_tool_choice_is_refused() -> None:
    with pytest.raises(InvalidRequest) as caught:
        door.to_request(body(tool_choice={"type": "web_search_preview"}), {})

    assert caught.value.param == "tool_choice"


@pytest.mark.parametrize(
    ("choice", "expected"),
    [
        ("auto", "auto"),
        ("none", "none"),
        ("required", "required"),
        ({"type": "function", "name": "get_weather"}, NamedTool("get_weather")),
        ({"type": "custom", "name": "apply_patch"}, NamedTool("apply_patch")),
        (
            {
                "type": "allowed_tools",
                "mode": "required",
                "tools": [{"type": "function", "name": "f"}],
            },
            "required",
        ),
    ],
)
def test_tool_choice(choice: Any, expected: ToolChoice) -> None:
    assert door.to_request(body(tool_choice=choice), {}).tool_choice == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ({"format": {"type": "text"}}, OutputFormat("text")),
        ({"format": {"type": "json_object"}}, OutputFormat("json_object")),
        (
            {
                "format": {
                    "type": "json_schema",
                    "name": "person",
                    "schema": {"type": "object"},
                    "strict": True,
                }
            },
            OutputFormat("json_schema", {"type": "object"}, "person", True),
        ),
        ({"verbosity": "low"}, None),
    ],
)
def test_text_format(text: dict[str, Any], expected: OutputFormat | None) -> None:
    assert door.to_request(body(text=text), {}).output_format == expected


def test_sampling_limits_user_and_reasoning_effort() -> None:
    request = door.to_request(
        body(
            max_output_tokens=512,
            temperature=0.2,
            top_p=0.9,
            user="u-1",
            reasoning={"effort": "high", "summary": "auto"},
            parallel_tool_calls=False,
        ),
        {},
    )

    assert (request.max_output_tokens, request.temperature, request.top_p, request.user) == (
        512,
        0.2,
        0.9,
        "u-1",
    )
    assert request.reasoning == ReasoningConfig(effort="high")
    assert request.parallel_tool_calls is False


# --- bad input -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "param", "problem"),
    [
        ({"model": None}, "model", "Field required"),
        ({"input": 5}, "input", "a string or a list of input items"),
        (
            {"input": [{"role": "robot", "content": "x"}]},
            "input.0.role",
            "'user', 'assistant', 'system' or 'developer'",
        ),
        (
            {"input": [{"role": "user", "content": 5}]},
            "input.0.content",
            "a string or a list of content parts",
        ),
        (
            {"input": [{"type": "function_call", "name": "f", "arguments": "{}"}]},
            "input.0.call_id",
            "Field required",
        ),
        (
            {"input": [{"type": "function_call_output", "call_id": "c"}]},
            "input.0.output",
            "Field required",
        ),
        (
            {"input": [{"role": "user", "content": [{"type": "input_text"}]}]},
            "input.0.content.0.text",
            "Field required",
        ),
        (
            {
                "input": [
                    {
                        "role": "developer",
                        "content": [{"type": "input_image", "image_url": "https://x"}],
                    }
                ]
            },
            "input.0.content",
            "a developer message holds text only",
        ),
        (
            {"input": [{"role": "user", "content": [{"type": "input_image"}]}]},
            "input.0.content.0",
            "image_url or file_id",
        ),
        ({"input": [{"type": "item_reference", "id": "msg_9"}]}, "input.0", "names no item"),
        (
            {
                "input": [
                    {
                        "role": "user",
                        "content": [
                            {"type": "input_file", "file_data": "data:text/plain;base64,%%"}
                        ],
                    }
                ]
            },
            "input.0.content.0.file_data",
            "not valid base64",
        ),
        ({"tools": [{"type": "function"}]}, "tools.0.name", "Field required"),
        ({"tool_choice": "sometimes"}, "tool_choice", "'auto', 'none' or 'required'"),
        ({"tool_choice": {"type": "function"}}, "tool_choice.name", "Field required"),
        (
            {"text": {"format": {"type": "yaml"}}},
            "text.format.type",
            "'text', 'json_object' or 'json_schema'",
        ),
        (
            {"text": {"format": {"type": "json_schema", "schema": {}}}},
            "text.format.name",
            "Field required",
        ),
        ({"temperature": 2.5}, "temperature", "less than or equal to 2"),
        ({"max_output_tokens": 0}, "max_output_tokens", "greater than or equal to 1"),
        ({"reasoning": {"effort": "extreme"}}, "reasoning.effort", "'none', 'minimal'"),
        ({"metadata": {"n": 1}}, "metadata.n", "valid string"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(
    fields: dict[str, Any], param: str, problem: str
) -> None:
    raw = {k: v for k, v in (body() | fields).items() if v is not None}

    with pytest.raises(InvalidRequest) as caught:
        door.to_request(raw, {})

    assert caught.value.status_code == 400 and caught.value.param == param
    assert caught.value.message.startswith(f"{param}: ") and problem in caught.value.message
    error = orjson.loads(door.error_body(caught.value))
    assert ErrorObject.model_validate(error["error"]).type == "invalid_request_error"


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (
            InvalidRequest("input.0: bad", param="input.0", code="invalid_value"),
            {
                "message": "input.0: bad",
                "type": "invalid_request_error",
                "param": "input.0",
                "code": "invalid_value",
            },
        ),
        (
            ModelNotFound("m"),
            {
                "message": ModelNotFound("m").message,
                "type": "not_found_error",
                "param": "model",
                "code": "model_not_found",
            },
        ),
        (
            RateLimited("slow down"),
            {"message": "slow down", "type": "rate_limit_error", "param": None, "code": None},
        ),
        (
            UpstreamError("upstream failed", provider="openai", status_code=502),
            {"message": "upstream failed", "type": "upstream_error", "param": None, "code": None},
        ),
    ],
)
def test_error_body_is_openais_error_shape(error: Any, expected: dict[str, Any]) -> None:
    assert orjson.loads(door.error_body(error)) == {"error": expected}


# --- previous_response_id ----------------------------------------------------------------------

PREVIOUS_INPUT = [
    {"type": "message", "role": "user", "content": "What is in a.txt?", "id": "msg_u1"}
]


def test_conversation_is_previous_input_then_its_output_then_the_new_input() -> None:
    output = [{"type": "message", "id": "msg_a1", "role": "assistant", "content": []}]

    items = conversation_items(PREVIOUS_INPUT, output, "And b.txt?")

    assert items == [
        *PREVIOUS_INPUT,
        *output,
        {"type": "message", "role": "user", "content": "And b.txt?"},
    ]


def test_item_references_resolve_to_earlier_items_and_unknown_ones_stay() -> None:
    new = [{"type": "item_reference", "id": "msg_u1"}, {"type": "item_reference", "id": "msg_x"}]

    items = conversation_items(PREVIOUS_INPUT, [], new)

    assert items == [PREVIOUS_INPUT[0], PREVIOUS_INPUT[0], new[1]]


def test_our_rendered_output_sent_back_with_tool_output_translates_to_the_same_turn() -> None:
    completion = Completion(
        [
            Reasoning("Read it.", "sig_1"),
            Text("Reading."),
            ToolCall("call_1", "read", '{"p":"a.txt"}'),
        ],
        "tool_calls",
        Usage(input_tokens=10, output_tokens=5),
    )
    output = output_items(completion, answered())
    follow_up = [{"type": "function_call_output", "call_id": "call_1", "output": "A"}]

    items = conversation_items(PREVIOUS_INPUT, output, follow_up)
    request = door.to_request(body(input=items, previous_response_id="resp_1"), {})

    assert request.messages == [
        Message("user", [Text("What is in a.txt?")]),
        Message("assistant", list(completion.parts)),
        Message("tool", [ToolResult("call_1", [Text("A")])]),
    ]
