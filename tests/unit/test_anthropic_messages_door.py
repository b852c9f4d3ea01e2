"""The Messages front door's request side: Anthropic bodies (Claude Code's own,
captured) into the neutral `Request`, 400s naming the field, error bodies, and
the count_tokens estimate. Rendering answers: test_anthropic_messages_render.py.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import orjson
import pytest
from anthropic.types.shared import ErrorResponse
from starlette.datastructures import Headers

from model_router.domain.content import (
    Document,
    Image,
    Opaque,
    Reasoning,
    RedactedReasoning,
    Text,
    ToolCall,
    ToolResult,
)
from model_router.domain.request import NamedTool, OutputFormat, ReasoningConfig, ToolChoice
from model_router.errors import (
    AuthenticationError,
    BudgetExceeded,
    InvalidRequest,
    ModelNotFound,
    PayloadTooLarge,
    PermissionDenied,
    RateLimited,
    RouterError,
    UpstreamError,
)
from model_router.frontdoors.anthropic_messages import (
    IMAGE_TOKENS,
    PDF_PAGE_TOKENS,
    MessagesDoor,
    count_tokens,
)

FIXTURES = Path(__file__).parent.parent / "fixtures" / "claude_code"
CLAUDE_CODE_HEADERS = {
    "Authorization": "Bearer test",
    "anthropic-version": "2023-06-01",
    "anthropic-beta": "claude-code-20250219,interleaved-thinking-2025-05-14,"
    "context-management-2025-06-27",
    "x-app": "cli",
}
door = MessagesDoor()


def fixture(name: str) -> dict[str, Any]:
    body: dict[str, Any] = json.loads((FIXTURES / name).read_text())
    return body


def body(**fields: Any) -> dict[str, Any]:
    return {
        "model": "claude-x",
        "max_tokens": 100,
        "messages": [{"role": "user", "content": "hi"}],
    } | fields


def user(*blocks: dict[str, Any]) -> dict[str, Any]:
    return {"role": "user", "content": list(blocks)}


# --- Claude Code, as captured ---------------------------------------------------------


def test_claude_code_first_request_translates_whole() -> None:
    raw = fixture("say_hi_request.json")
    request = door.to_request(raw, CLAUDE_CODE_HEADERS)

    system, prompt = request.messages
    assert system.role == "system" and [type(p) for p in system.parts] == [Text] * 3
    assert system.parts[0] == Text(raw["system"][0]["text"])  # no cache_control
    assert system.parts[2] == Text(raw["system"][2]["text"], {"type": "ephemeral"})
    assert prompt.role == "user" and prompt.parts[-1] == Text("say hi", {"type": "ephemeral"})
    assert request.front_door == "messages" and request.stream is True
    assert request.model == "claude-sonnet-4-5" and request.max_output_tokens == 32000
    assert request.reasoning == ReasoningConfig(budget_tokens=31999, mode="enabled")
    assert request.user == raw["metadata"]["user_id"]
    assert len(request.tools) == 24 and all(t.parameters for t in request.tools)
    assert {t.name for t in request.tools} >= {"Bash", "Read", "Edit", "Write"}
    assert request.dropped == []


def test_claude_code_hints_the_core_cannot_carry_stay_in_the_native_body() -> None:
    raw = fixture("say_hi_request.json")
    request = door.to_request(raw, CLAUDE_CODE_HEADERS)

    assert request.native is not None and request.native.protocol == "anthropic"
    assert request.native.body is raw  # as received: context_management and all
    assert raw["context_management"] == {
        "edits": [{"type": "clear_thinking_20251015", "keep": "all"}]
    }
    assert dict(request.native.headers) == {
        "anthropic-version": "2023-06-01",
        "anthropic-beta": CLAUDE_CODE_HEADERS["anthropic-beta"],
    }  # and never the client's credentials


def test_claude_code_tool_turn_keeps_thinking_signature_call_and_result() -> None:
    request = door.to_request(fixture("read_tool_followup_request.json"), CLAUDE_CODE_HEADERS)

    roles = [m.role for m in request.messages]
    assert roles == ["system", "user", "assistant", "tool"]
    thinking, call = request.messages[2].parts
    assert thinking == Reasoning("I should read it.", "sig_capture_tool")
    assert isinstance(call, ToolCall) and (call.id, call.name) == ("toolu_cap1", "Read")
    assert orjson.loads(call.arguments) == {"file_path": "/tmp/ccwork/hello.txt"}
    (result,) = request.messages[3].parts
    assert result == ToolResult(
        "toolu_cap1",
        [Text("1\tThe secret word is pineapple.\n2\t")],
        cache_control={"type": "ephemeral"},
    )


def test_claude_code_for_a_model_it_does_not_know_sends_system_turns_and_effort() -> None:
    raw = fixture("unknown_model_request.json")  # --model gpt-4o-mini
    request = door.to_request(raw, CLAUDE_CODE_HEADERS)

    assert [m.role for m in request.messages] == ["system", "user", "system"]
    assert request.messages[2].parts == [Text(raw["messages"][1]["content"])]
    assert request.reasoning == ReasoningConfig(effort="high", mode="adaptive")


def test_a_system_turn_holds_text_only() -> None:
    image = {"type": "image", "source": {"type": "url", "url": "https://x.test/i.png"}}
    turn = {"role": "system", "content": [{"type": "text", "text": "rules"}, image]}

    with pytest.raises(InvalidRequest) as caught:
        door.to_request(body(messages=[user({"type": "text", "text": "hi"}), turn]), {})

    assert caught.value.param == "messages.1.content.1"


# --- messages and blocks ----------------------------------------------------------------


def test_tool_results_come_before_the_rest_of_their_user_turn() -> None:
    turn = user(
        {"type": "text", "text": "both done?"},
        {"type": "tool_result", "tool_use_id": "t1", "content": "ok"},
        {"type": "tool_result", "tool_use_id": "t2", "content": "failed", "is_error": True},
    )
    request = door.to_request(body(messages=[turn]), {})

    tool, rest = request.messages
    assert tool.role == "tool"
    assert tool.parts == [
        ToolResult("t1", [Text("ok")]),
        ToolResult("t2", [Text("failed")], is_error=True),
    ]
    assert rest.role == "user" and rest.parts == [Text("both done?")]


def test_system_as_a_string_and_content_as_a_string_are_one_text_each() -> None:
    request = door.to_request(body(system="Be brief."), {})

    assert [(m.role, m.parts) for m in request.messages] == [
        ("system", [Text("Be brief.")]),
        ("user", [Text("hi")]),
    ]


def test_images_by_base64_url_and_file() -> None:
    turn = user(
        {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBO"}},
        {
            "type": "image",
            "source": {"type": "url", "url": "https://x.test/a.jpg"},
            "cache_control": {"type": "ephemeral", "ttl": "1h"},
        },
        {"type": "image", "source": {"type": "file", "file_id": "file_1"}},
    )
    parts = door.to_request(body(messages=[turn]), {}).messages[0].parts

    assert parts[0] == Image(data="iVBO", media_type="image/png")
    assert parts[1] == Image(
        url="https://x.test/a.jpg", cache_control={"type": "ephemeral", "ttl": "1h"}
    )
    assert parts[2] == Opaque(
        "anthropic", "image", {"type": "image", "source": {"type": "file", "file_id": "file_1"}}
    )


def test_documents_of_every_source() -> None:
    turn = user(
        {
            "type": "document",
            "source": {"type": "base64", "media_type": "application/pdf", "data": "JVBERi0="},
            "title": "Report",
            "context": "Q3",
            "citations": {"enabled": True},
        },
        {"type": "document", "source": {"type": "url", "url": "https://x.test/a.pdf"}},
        {"type": "document", "source": {"type": "text", "media_type": "text/plain", "data": "abc"}},
        {
            "type": "document",
            "source": {
                "type": "content",
                "content": [{"type": "text", "text": "p1"}, {"type": "text", "text": "p2"}],
            },
        },
        {"type": "document", "source": {"type": "file", "file_id": "file_2"}},
    )
    parts = door.to_request(body(messages=[turn]), {}).messages[0].parts

    assert parts[0] == Document(
        "application/pdf",
        data="JVBERi0=",
        title="Report",
        extra={"context": "Q3", "citations": {"enabled": True}},
    )
    assert parts[1] == Document("application/pdf", url="https://x.test/a.pdf")
    assert parts[2] == Document("text/plain", text="abc")
    assert parts[3] == Document("text/plain", text="p1\np2")
    assert isinstance(parts[4], Opaque) and parts[4].raw["source"]["file_id"] == "file_2"


def test_tool_result_blocks_and_blocks_the_core_does_not_model() -> None:
    search = {
        "type": "search_result",
        "source": "s",
        "title": "t",
        "content": [{"type": "text", "text": "x"}],
    }
    turn = user(
        {
            "type": "tool_result",
            "tool_use_id": "t1",
            "content": [
                {"type": "text", "text": "see image"},
                {"type": "image", "source": {"type": "url", "url": "https://x.test/i.png"}},
                search,
            ],
        }
    )
    (result,) = door.to_request(body(messages=[turn]), {}).messages[0].parts

    assert isinstance(result, ToolResult)
    assert result.content[:2] == [Text("see image"), Image(url="https://x.test/i.png")]
    assert result.content[2] == Text(orjson.dumps(search).decode())


def test_assistant_blocks_in_order_redacted_thinking_and_unknown_blocks_kept() -> None:
    server_call = {
        "type": "server_tool_use",
        "id": "srvtoolu_1",
        "name": "web_search",
        "input": {"query": "q"},
    }
    turn = {
        "role": "assistant",
        "content": [
            {"type": "redacted_thinking", "data": "EmwKAh"},
            {"type": "thinking", "thinking": "hmm", "signature": "sig"},
            server_call,
            {"type": "text", "text": "found it"},
            {"type": "tool_use", "id": "toolu_1", "name": "f", "input": {}},
        ],
    }
    request = door.to_request(body(messages=[user({"type": "text", "text": "go"}), turn]), {})

    assert request.messages[1].parts == [
        RedactedReasoning("EmwKAh"),
        Reasoning("hmm", "sig"),
        Opaque("anthropic", "server_tool_use", server_call),
        Text("found it"),
        ToolCall("toolu_1", "f", "{}"),
    ]


# --- tools and settings -----------------------------------------------------------------


def test_custom_tools_and_server_tools() -> None:
    tools = [
        {
            "name": "get_weather",
            "description": "Weather",
            "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}},
            "strict": True,
            "cache_control": {"type": "ephemeral"},
        },
        {"type": "custom", "name": "noop", "input_schema": {"type": "object"}},
        {"type": "web_search_20250305", "name": "web_search", "max_uses": 3},
    ]
    custom, typed, server = door.to_request(body(tools=tools), {}).tools

    assert (custom.name, custom.description, custom.strict) == ("get_weather", "Weather", True)
    assert custom.parameters == tools[0]["input_schema"]
    assert custom.cache_control == {"type": "ephemeral"} and custom.builtin is None
    assert typed.name == "noop" and typed.builtin is None
    assert server.name == "web_search" and server.parameters is None
    assert server.builtin == Opaque("anthropic", "web_search_20250305", tools[2])


@pytest.mark.parametrize(
    ("choice", "expected", "parallel"),
    [
        ({"type": "auto"}, "auto", None),
        ({"type": "any"}, "required", None),
        ({"type": "none"}, "none", None),
        ({"type": "tool", "name": "f"}, NamedTool("f"), None),
        ({"type": "any", "disable_parallel_tool_use": True}, "required", False),
        ({"type": "auto", "disable_parallel_tool_use": False}, "auto", None),
    ],
)
def test_tool_choice(choice: dict[str, Any], expected: ToolChoice, parallel: bool | None) -> None:
    request = door.to_request(body(tool_choice=choice), {})

    assert request.tool_choice == expected
    assert request.parallel_tool_calls is parallel


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        (
            {"thinking": {"type": "enabled", "budget_tokens": 2048}},
            ReasoningConfig(budget_tokens=2048, mode="enabled"),
        ),
        ({"thinking": {"type": "disabled"}}, ReasoningConfig(mode="disabled")),
        (
            {"thinking": {"type": "adaptive"}, "output_config": {"effort": "high"}},
            ReasoningConfig(effort="high", mode="adaptive"),
        ),
        ({"output_config": {"effort": "low"}}, ReasoningConfig(effort="low")),
        ({}, None),
    ],
)
def test_thinking_and_effort(fields: dict[str, Any], expected: ReasoningConfig | None) -> None:
    assert door.to_request(body(**fields), {}).reasoning == expected


def test_sampling_stops_user_and_output_format() -> None:
    schema = {"type": "object", "properties": {"a": {"type": "integer"}}}
    request = door.to_request(
        body(
            temperature=0.2,
            top_p=0.9,
            top_k=40,
            stop_sequences=["END"],
            metadata={"user_id": "u-1"},
            output_config={"format": {"type": "json_schema", "schema": schema}},
        ),
        {},
    )

    assert (request.temperature, request.top_p, request.top_k) == (0.2, 0.9, 40)
    assert request.stop == ["END"] and request.user == "u-1" and request.stream is False
    assert request.output_format == OutputFormat("json_schema", schema=schema)


def test_protocol_headers_found_in_any_case_and_version_defaulted() -> None:
    headers = {"Anthropic-Beta": "b1", "X-Api-Key": "sk-ant-secret"}
    native = door.to_request(body(), headers).native

    assert native is not None
    assert dict(native.headers) == {"anthropic-version": "2023-06-01", "anthropic-beta": "b1"}


def test_a_beta_header_sent_twice_is_joined() -> None:
    headers = Headers(raw=[(b"anthropic-beta", b"b1"), (b"anthropic-beta", b"b2")])
    native = door.to_request(body(), headers).native

    assert native is not None and native.headers["anthropic-beta"] == "b1,b2"


# --- bad input: a 400 naming the field ----------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "param", "problem"),
    [
        ({"max_tokens": None}, "max_tokens", "Field required"),
        ({"max_tokens": 0}, "max_tokens", "greater than or equal to 1"),
        (
            {"messages": [{"role": "tool", "content": "hi"}]},
            "messages.0.role",
            "'user', 'assistant' or 'system'",
        ),
        ({"messages": [user({"type": "text"})]}, "messages.0.content.0.text", "Field required"),
        ({"messages": [user({"text": "no type"})]}, "messages.0.content.0.type", "Field required"),
        (
            {"messages": [{"role": "user", "content": 5}]},
            "messages.0.content",
            "a string or a list",
        ),
        (
            {"messages": [user({"type": "image", "source": {"type": "zip"}})]},
            "messages.0.content.0.source.type",
            "'base64', 'url' or 'file'",
        ),
        (
            {"messages": [user({"type": "tool_use", "id": "t", "name": "f", "input": {}})]},
            "messages.0.content.0",
            "tool_use blocks belong in an assistant turn",
        ),
        ({"messages": []}, "messages", "at least 1 item"),
        ({"temperature": 1.5}, "temperature", "less than or equal to 1"),
        ({"thinking": {"type": "on"}}, "thinking.type", "'enabled', 'disabled' or 'adaptive'"),
        ({"tool_choice": {"type": "tool"}}, "tool_choice.name", "Field required"),
        ({"tools": [{"name": "f"}]}, "tools.0.input_schema", "Field required"),
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
    error = ErrorResponse.model_validate(orjson.loads(door.error_body(caught.value)))
    assert error.error.type == "invalid_request_error"


# --- error bodies --------------------------------------------------------------------------


def upstream(status: int) -> UpstreamError:
    return UpstreamError("upstream failed", provider="openai", status_code=status)


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (InvalidRequest("bad"), "invalid_request_error"),
        (AuthenticationError("who?"), "authentication_error"),
        (PermissionDenied("no"), "permission_error"),
        (ModelNotFound("m"), "not_found_error"),
        (PayloadTooLarge("big"), "request_too_large"),
        (RateLimited("slow down"), "rate_limit_error"),
        (BudgetExceeded("spent"), "rate_limit_error"),
        (RouterError("oops"), "api_error"),
        (upstream(502), "api_error"),
        (upstream(503), "overloaded_error"),
        (upstream(504), "timeout_error"),
        (upstream(529), "overloaded_error"),
        (upstream(409), "invalid_request_error"),
    ],
)
def test_error_body_has_anthropic_type_by_status(error: RouterError, kind: str) -> None:
    raw = orjson.loads(door.error_body(error))

    assert raw["type"] == "error"
    assert raw["error"]["type"] == kind and raw["error"]["message"] == error.message
    if kind != "request_too_large":  # in Anthropic's docs, not in its SDK's models
        ErrorResponse.model_validate(raw)


def test_error_body_keeps_our_param_and_code() -> None:
    raw = orjson.loads(door.error_body(ModelNotFound("gpt-9")))

    assert raw["error"]["param"] == "model" and raw["error"]["code"] == "model_not_found"


# --- count_tokens -------------------------------------------------------------------------


def test_count_tokens_is_four_characters_a_token_plus_fixed_image_and_pdf_costs() -> None:
    pdf = base64.b64encode(b"%PDF-1.4 <</Type /Pages /Count 2>> <</Type /Page>> <</Type/Page>>")
    raw = {
        "model": "gpt-x",  # no max_tokens: count_tokens does not take one
        "system": "abcd" * 3,  # 12 characters
        "tools": [{"name": "ab", "description": "cd", "input_schema": {}}],  # 2 + 2 + 2
        "messages": [
            user(
                {"type": "text", "text": "x" * 9},
                {"type": "image", "source": {"type": "url", "url": "https://x.test/i.png"}},
                {
                    "type": "document",
                    "source": {
                        "type": "base64",
                        "media_type": "application/pdf",
                        "data": pdf.decode(),
                    },
                },
            ),
            {
                "role": "assistant",
                "content": [{"type": "tool_use", "id": "t", "name": "f", "input": {}}],
            },  # 1 + 2
        ],
    }

    counted = count_tokens(raw)

    chars = 12 + 6 + 9 + 3
    assert counted == {"input_tokens": -(-chars // 4) + IMAGE_TOKENS + 2 * PDF_PAGE_TOKENS}


def test_count_tokens_of_a_claude_code_request() -> None:
    raw = fixture("say_hi_request.json")
    text = sum(len(b["text"]) for b in raw["system"])
    text += sum(len(b["text"]) for m in raw["messages"] for b in m["content"])

    counted = count_tokens(raw)["input_tokens"]

    assert text // 4 < counted < 2 * len(orjson.dumps(raw)) // 4


def test_count_tokens_refuses_a_bad_body() -> None:
    with pytest.raises(InvalidRequest) as caught:
        count_tokens({"model": "m", "messages": [{"role": "robot", "content": "x"}]})

    assert caught.value.param == "messages.0.role"
