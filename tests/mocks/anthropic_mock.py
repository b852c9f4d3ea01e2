"""A mock Anthropic Messages server: `POST /v1/messages`, as the real API answers it.

It checks what the router sends, stricter than the real API where that finds
router bugs: the key (`x-api-key`, or `Authorization: Bearer` as SDK 2.x
sends it), an `anthropic-version` (sampling fields refused under
2026-10-21), no unknown fields anywhere, `max_tokens`, every message, block
and tool against the anthropic SDK's param types, roles alternating from a
user turn (the real API would merge them), no empty text, no trailing
whitespace in a final assistant turn, and every `tool_use` answered by a
`tool_result` at the head of the next user turn. Failures are 400
`invalid_request_error` in Anthropic's error body.

Scenarios (`mock:<name>` in the last user text):
  echo (default)  "Echo: <last user text>"; usage 10 in / 5 out
  cached          input_tokens 500, cache_read_input_tokens 1500, 100 out
  cache_write     input_tokens 500, cache_creation_input_tokens 1000, 100 out
  cache_write_1h  as cache_write, 400 of the 1000 written to the 1-hour cache
  reasoning       a thinking block, then text; 300 out, 200 of them thinking
  tool_call       a tool_use block calling the first tool with {"city": "Paris"}
  json            a JSON object as text
  length / content_filter   stop_reason max_tokens / refusal
  error_<status>  that status (400, 401, 403, 404, 413, 429, 500, 529, ...)
                  with Anthropic's error type; 429 and 529 carry retry-after
  bad_json        200 with a body that is not JSON
  slow            waits 3 s before answering (for timeouts)
  stream_fail     streams two text deltas, then `event: error` overloaded_error
  chunks=N        streams the reply in N text deltas
  tool_once       a call to the first tool; once the tool_result is back,
                  "Tool said: <result>" (an agent's whole loop)
  exec_cat        the same with Codex's shell tool (`exec_command`, `cat hello.txt`)
  read_file       Claude Code's Read tool on the first absolute path in the
                  prompt; once the tool_result is back, "Tool said: <result>"

Beta request fields (`context_management`, ...) are taken only with an
`anthropic-beta` header, and `system` turns inside `messages` only with the
`mid-conversation-system` beta, as the real API does.
`POST /v1/messages/count_tokens` answers 4 characters a token of the body's
text, at least 1.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from typing import Any

import orjson
from anthropic.types import (
    Base64ImageSourceParam,
    DocumentBlockParam,
    FileImageSourceParam,
    ImageBlockParam,
    MessageParam,
    RedactedThinkingBlockParam,
    TextBlockParam,
    ThinkingBlockParam,
    ToolChoiceParam,
    ToolParam,
    ToolResultBlockParam,
    ToolUseBlockParam,
    URLImageSourceParam,
)
from anthropic.types.beta.message_create_params import (
    MessageCreateParamsBase as BetaMessageCreateParamsBase,
)
from anthropic.types.message_create_params import MessageCreateParamsBase
from anthropic.types.output_config_param import OutputConfigParam
from anthropic.types.thinking_config_param import ThinkingConfigParam
from pydantic import TypeAdapter, ValidationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from tests.mocks.scenarios import REPLY, chunks_of, scenario_of, text_of
from tests.mocks.server import MockState, Recorded

VERSIONS = ("2023-06-01", "2026-10-21")
SAMPLING = ("temperature", "top_p", "top_k")
_TOP_LEVEL = frozenset(MessageCreateParamsBase.__annotations__) | {"stream", *SAMPLING}
_BETA_TOP_LEVEL = _TOP_LEVEL | frozenset(BetaMessageCreateParamsBase.__annotations__) - {"betas"}
_ABSOLUTE_PATH = re.compile(r"(/[\w.-]+)+")

_MESSAGE = TypeAdapter(MessageParam)
_TOOL = TypeAdapter(ToolParam)
_TOOL_CHOICE = TypeAdapter(ToolChoiceParam)
_OUTPUT_CONFIG = TypeAdapter(OutputConfigParam)
_THINKING = TypeAdapter(ThinkingConfigParam)
# Block type -> its param type. SDK TypedDicts drop unknown keys when they
# validate, so keys are also checked against the type's own.
_BLOCKS: dict[str, Any] = {
    "text": TextBlockParam,
    "image": ImageBlockParam,
    "document": DocumentBlockParam,
    "tool_use": ToolUseBlockParam,
    "tool_result": ToolResultBlockParam,
    "thinking": ThinkingBlockParam,
    "redacted_thinking": RedactedThinkingBlockParam,
}
_ADAPTERS = {kind: TypeAdapter(cls) for kind, cls in _BLOCKS.items()}
_SOURCES: dict[str, Any] = {
    "base64": Base64ImageSourceParam,
    "url": URLImageSourceParam,
    "file": FileImageSourceParam,
}
_ROLE_BLOCKS = {
    "user": {"text", "image", "document", "tool_result"},
    "assistant": {"text", "tool_use", "thinking", "redacted_thinking"},
}
_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "billing_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    504: "timeout_error",
    529: "overloaded_error",
}


class Invalid(Exception):
    """What is wrong with a request, said like the real API."""


def _error(status: int, message: str, etype: str | None = None) -> JSONResponse:
    headers = {"request-id": "req_mock123"}
    if status in (429, 529):
        headers["retry-after"] = "7"
    body = {
        "type": "error",
        "error": {"type": etype or _ERROR_TYPES.get(status, "api_error"), "message": message},
        "request_id": "req_mock123",
    }
    return JSONResponse(body, status_code=status, headers=headers)


def _keys(value: Any, allowed: Any, where: str) -> None:
    """Refuse keys the real API does not know (`allowed`: a TypedDict or key names)."""
    if not isinstance(value, dict):
        raise Invalid(f"{where}: Input should be an object")
    names = allowed.__annotations__ if hasattr(allowed, "__annotations__") else allowed
    if extra := sorted(set(value) - set(names)):
        raise Invalid(f"{where}.{extra[0]}: Extra inputs are not permitted")


def _check(adapter: TypeAdapter[Any], value: Any, where: str) -> None:
    try:
        adapter.validate_python(value)
    except ValidationError as exc:
        first = exc.errors()[0]
        path = ".".join(str(p) for p in first["loc"])
        raise Invalid(f"{where}{'.' + path if path else ''}: {first['msg']}") from exc


def _check_block(block: Any, allowed: set[str], where: str) -> None:
    kind = block.get("type") if isinstance(block, dict) else None
    if kind not in allowed:
        raise Invalid(f"{where}.type: '{kind}' blocks are not allowed here")
    _keys(block, _BLOCKS[kind], where)
    _check(_ADAPTERS[kind], block, where)
    if kind == "text" and not block["text"].strip():
        raise Invalid(f"{where}: text content blocks must contain non-whitespace text")
    if kind == "image":
        source = block["source"]
        _keys(source, _SOURCES[source["type"]], f"{where}.source")
    if kind == "tool_result" and isinstance(block.get("content"), list):
        for j, inner in enumerate(block["content"]):
            _check_block(inner, {"text", "image", "document"}, f"{where}.content.{j}")


def _check_messages(messages: Any, betas: frozenset[str]) -> None:
    if not isinstance(messages, list) or not messages:
        raise Invalid("messages: at least one message is required")
    if any(b.startswith("mid-conversation-system") for b in betas):
        messages = [m for m in messages if not (isinstance(m, dict) and _system_turn(m))]
    pending: set[str] = set()  # tool_use ids the next user turn must answer
    for i, message in enumerate(messages):
        where = f"messages.{i}"
        _keys(message, ("role", "content"), where)
        _check(_MESSAGE, message, where)
        role, content = message["role"], message["content"]
        if role not in ("user", "assistant"):
            raise Invalid(f"{where}.role: Input should be 'user' or 'assistant'")
        if role != ("user" if i % 2 == 0 else "assistant"):
            raise Invalid(f"{where}: roles must alternate between user and assistant, from user")
        last = i == len(messages) - 1
        blocks = [{"type": "text", "text": content}] if isinstance(content, str) else content
        if not blocks and not (last and role == "assistant"):
            raise Invalid(f"{where}: all messages must have non-empty content")
        answered: list[str] = []
        for j, block in enumerate(blocks):
            _check_block(block, _ROLE_BLOCKS[role], f"{where}.content.{j}")
            if block["type"] == "tool_result":
                if j != len(answered):
                    raise Invalid(f"{where}.content.{j}: tool_result blocks must come first")
                answered.append(block["tool_use_id"])
        if unknown := sorted(set(answered) - pending):
            raise Invalid(f"{where}: tool_result for unknown tool_use id {unknown[0]}")
        if missing := sorted(pending - set(answered)):
            raise Invalid(f"{where}: tool_use ids were found without tool_result: {missing}")
        pending = {b["id"] for b in blocks if b["type"] == "tool_use"}
        tail = blocks[-1] if last and role == "assistant" and blocks else {}
        if tail.get("type") == "text" and tail["text"] != tail["text"].rstrip():
            raise Invalid("final assistant content cannot end with trailing whitespace")
    if pending:
        raise Invalid("tool_use ids were found without tool_result blocks immediately after")


def _system_turn(message: dict[str, Any]) -> bool:
    return message.get("role") == "system" and isinstance(message.get("content"), str)


def validate(body: Any, version: str, betas: frozenset[str] = frozenset()) -> None:
    """Raise Invalid unless `body` is a Messages request the real API would take."""
    if not isinstance(body, dict):
        raise Invalid("body must be a JSON object")
    if extra := sorted(set(body) - (_BETA_TOP_LEVEL if betas else _TOP_LEVEL)):
        raise Invalid(f"{extra[0]}: Extra inputs are not permitted")
    if not isinstance(body.get("model"), str) or not body["model"]:
        raise Invalid("model: Field required")
    max_tokens = body.get("max_tokens")
    if not isinstance(max_tokens, int) or isinstance(max_tokens, bool) or max_tokens < 0:
        raise Invalid("max_tokens: Field required")
    _check_messages(body.get("messages"), betas)
    system = body.get("system")
    if system is not None and not isinstance(system, str):
        for j, block in enumerate(system if isinstance(system, list) else [None]):
            _check_block(block, {"text"}, f"system.{j}")
    tools = body.get("tools") or []
    for j, tool in enumerate(tools):
        _keys(tool, ToolParam, f"tools.{j}")
        _check(_TOOL, tool, f"tools.{j}")
    names = [tool["name"] for tool in tools]
    if len(set(names)) != len(names):
        raise Invalid("tools: tool names must be unique")
    uses_tools = any(
        isinstance(b, dict) and b.get("type") in ("tool_use", "tool_result")
        for m in body["messages"]
        if not _system_turn(m)
        for b in (m["content"] if isinstance(m["content"], list) else [])
    )
    if uses_tools and not tools:
        raise Invalid("Requests which include tool_use or tool_result blocks must define tools.")
    if "tool_choice" in body:
        choice = body["tool_choice"]
        _check(_TOOL_CHOICE, choice, "tool_choice")
        if not tools:
            raise Invalid("tool_choice may only be specified while providing tools.")
        if choice.get("type") == "tool" and choice.get("name") not in names:
            raise Invalid(f"tool_choice: tool '{choice.get('name')}' not found in tools")
    if "output_config" in body:
        _check(_OUTPUT_CONFIG, body["output_config"], "output_config")
    if "thinking" in body:
        _check(_THINKING, body["thinking"], "thinking")
    metadata = body.get("metadata", {})
    if not isinstance(metadata, dict) or set(metadata) - {"user_id"}:
        raise Invalid("metadata: only user_id is allowed")
    stops = body.get("stop_sequences", [])
    if not isinstance(stops, list) or not all(isinstance(s, str) and s for s in stops):
        raise Invalid("stop_sequences: must be a list of non-empty strings")
    for name in SAMPLING:
        if name not in body:
            continue
        if version == "2026-10-21":
            raise Invalid(f"{name}: is not supported by anthropic-version 2026-10-21")
        value = body[name]
        if not isinstance(value, int | float) or not 0 <= value <= (500 if name == "top_k" else 1):
            raise Invalid(f"{name}: out of range")
    if "stream" in body and not isinstance(body["stream"], bool):
        raise Invalid("stream: Input should be a valid boolean")


# --- answers -------------------------------------------------------------------


def _last_user_text(messages: list[dict[str, Any]]) -> str:
    """The text of the last user turn that has any (tool results carry none)."""
    for message in reversed(messages):
        content = message["content"]
        if message["role"] != "user":
            continue
        if isinstance(content, list):
            content = [b for b in content if b["type"] == "text"]
        if text := text_of(content):
            return text
    return ""


def _usage(scenario: str) -> dict[str, Any]:
    fresh, read, write, output, thinking = 10, 0, 0, 5, 0
    if scenario == "cached":
        fresh, read, output = 500, 1500, 100
    elif scenario in ("cache_write", "cache_write_1h"):
        fresh, write, output = 500, 1000, 100
    elif scenario == "reasoning":
        output, thinking = 300, 200
    usage: dict[str, Any] = {
        "input_tokens": fresh,
        "cache_creation_input_tokens": write,
        "cache_read_input_tokens": read,
        "output_tokens": output,
        "service_tier": "standard",
    }
    if scenario == "cache_write_1h":
        usage["cache_creation"] = {
            "ephemeral_5m_input_tokens": 600,
            "ephemeral_1h_input_tokens": 400,
        }
    if thinking:
        usage["output_tokens_details"] = {"thinking_tokens": thinking}
    return usage


def _tool_result_text(messages: list[dict[str, Any]]) -> str | None:
    """The text of the tool results in the last turn, if it is a user turn holding any."""
    last = messages[-1]
    if last["role"] != "user" or not isinstance(last["content"], list):
        return None
    results = [b for b in last["content"] if b.get("type") == "tool_result"]
    if not results:
        return None
    return " ".join(text_of(b.get("content", "")) for b in results)


def _tool_loop(scenario: str, body: dict[str, Any], last_text: str) -> tuple[list[Any], str]:
    """One tool call, then an answer quoting the tool's result."""
    if (result := _tool_result_text(body["messages"])) is not None:
        return [{"type": "text", "text": f"Tool said: {result}"}], "end_turn"
    if scenario == "read_file":
        found = _ABSOLUTE_PATH.search(last_text.split("mock:read_file", 1)[-1])
        name, args = "Read", {"file_path": found.group(0) if found else "/nonexistent"}
    elif scenario == "exec_cat":
        name, args = "exec_command", {"cmd": "cat hello.txt"}
    else:
        name, args = body["tools"][0]["name"], {"city": "Paris"}
    return [{"type": "tool_use", "id": "toolu_loop1", "name": name, "input": args}], "tool_use"


def _content(scenario: str, body: dict[str, Any], last_text: str) -> tuple[list[Any], str]:
    """(content blocks, stop_reason) of the answer."""
    text = {"type": "text", "text": f"Echo: {last_text}"}
    if scenario == "tool_call" and body.get("tools"):
        name = body["tools"][0]["name"]
        call = {"type": "tool_use", "id": "toolu_mock123", "name": name, "input": {"city": "Paris"}}
        return [call], "tool_use"
    if scenario in ("read_file", "tool_once", "exec_cat") and body.get("tools"):
        return _tool_loop(scenario, body, last_text)
    if scenario == "json":
        return [{"type": "text", "text": '{"answer": 42}'}], "end_turn"
    if scenario == "reasoning":
        thought = {
            "type": "thinking",
            "thinking": "Let me think. 6 times 7 is 42.",
            "signature": "c2lnbmF0dXJl",
        }
        return [thought, {"type": "text", "text": REPLY}], "end_turn"
    if scenario == "length":
        return [text], "max_tokens"
    if scenario == "content_filter":
        return [text], "refusal"
    if scenario.startswith("chunks="):
        return [{"type": "text", "text": REPLY}], "end_turn"
    return [text], "end_turn"


def create_app(state: MockState, *, api_key: str) -> Starlette:
    async def messages(request: Request) -> Response:
        raw = await request.body()
        try:
            body = orjson.loads(raw)
        except orjson.JSONDecodeError:
            return _error(400, "There was an error parsing the body of your request.")
        state.requests.append(
            Recorded("POST", request.url.path, request.url.query, dict(request.headers), body)
        )
        bearer = request.headers.get("authorization")
        if request.headers.get("x-api-key") != api_key and bearer != f"Bearer {api_key}":
            return _error(401, "invalid x-api-key")
        version = request.headers.get("anthropic-version")
        if version not in VERSIONS:
            return _error(400, f"anthropic-version: invalid or missing version {version!r}")
        betas = frozenset(
            b.strip() for b in request.headers.get("anthropic-beta", "").split(",") if b.strip()
        )
        try:
            validate(body, version, betas)
        except Invalid as exc:
            return _error(400, str(exc))
        last_text = _last_user_text(body["messages"])
        scenario = scenario_of(last_text)
        if scenario.startswith("error_"):
            status = int(scenario.split("_")[1])
            return _error(status, f"mock error {status}")
        if scenario == "bad_json":
            return Response(b"<html>not json", media_type="application/json")
        if scenario == "slow":
            await asyncio.sleep(3)
        content, stop_reason = _content(scenario, body, last_text)
        message = {
            "id": "msg_mock123",
            "type": "message",
            "role": "assistant",
            "model": body["model"],
            "content": content,
            "stop_reason": stop_reason,
            "stop_sequence": None,
            "usage": _usage(scenario),
        }
        if body.get("stream"):
            return StreamingResponse(
                _stream(state, scenario, message),
                media_type="text/event-stream",
                headers={"request-id": "req_mock123", "cache-control": "no-cache"},
            )
        return JSONResponse(message, headers={"request-id": "req_mock123"})

    async def count_tokens(request: Request) -> Response:
        body = orjson.loads(await request.body())
        state.requests.append(
            Recorded("POST", request.url.path, request.url.query, dict(request.headers), body)
        )
        if (
            request.headers.get("x-api-key") != api_key
            and request.headers.get("authorization") != f"Bearer {api_key}"
        ):
            return _error(401, "invalid x-api-key")
        if not isinstance(body, dict) or "messages" not in body or "max_tokens" in body:
            return _error(400, "count_tokens takes model, messages, system and tools only")
        text = orjson.dumps([body.get("system"), body["messages"], body.get("tools")])
        return JSONResponse({"input_tokens": max(1, len(text) // 4)})

    return Starlette(
        routes=[
            Route("/v1/messages", messages, methods=["POST"]),
            Route("/v1/messages/count_tokens", count_tokens, methods=["POST"]),
        ]
    )


# --- streaming -----------------------------------------------------------------


def _event(name: str, data: dict[str, Any]) -> bytes:
    return f"event: {name}\n".encode() + b"data: " + orjson.dumps({"type": name, **data}) + b"\n\n"


def _block_events(index: int, block: dict[str, Any], n: int) -> list[bytes]:
    """content_block_start, its deltas and content_block_stop, as the API streams a block."""
    start = {"index": index}

    def delta(payload: dict[str, Any]) -> bytes:
        return _event("content_block_delta", {**start, "delta": payload})

    if block["type"] == "tool_use":
        frames = [_event("content_block_start", {**start, "content_block": {**block, "input": {}}})]
        args = orjson.dumps(block["input"]).decode()
        for piece in ("", args[: len(args) // 2], args[len(args) // 2 :]):
            frames.append(delta({"type": "input_json_delta", "partial_json": piece}))
    elif block["type"] == "thinking":
        empty = {"type": "thinking", "thinking": "", "signature": ""}
        frames = [
            _event("content_block_start", {**start, "content_block": empty}),
            delta({"type": "thinking_delta", "thinking": block["thinking"]}),
            delta({"type": "signature_delta", "signature": block["signature"]}),
        ]
    else:
        empty = {"type": "text", "text": ""}
        frames = [_event("content_block_start", {**start, "content_block": empty})]
        for piece in chunks_of(block["text"], n):
            frames.append(delta({"type": "text_delta", "text": piece}))
    return [*frames, _event("content_block_stop", start)]


async def _stream(state: MockState, scenario: str, message: dict[str, Any]) -> AsyncIterator[bytes]:
    usage = message["usage"]
    start_usage = {**usage, "output_tokens": 1}
    start_usage.pop("output_tokens_details", None)
    head = {**message, "content": [], "stop_reason": None, "usage": start_usage}
    n = int(scenario.split("=")[1]) if scenario.startswith("chunks=") else 3
    try:
        yield _event("message_start", {"message": head})
        for index, block in enumerate(message["content"]):
            for i, frame in enumerate(_block_events(index, block, n)):
                if scenario == "stream_fail" and i == 3:  # start, two deltas, then fail
                    error = {"type": "overloaded_error", "message": "Overloaded"}
                    yield _event("error", {"error": error})
                    return
                yield frame
                if index == 0 and i == 0:
                    yield _event("ping", {})
                await asyncio.sleep(0)
        stop = {"stop_reason": message["stop_reason"], "stop_sequence": None}
        # The final usage is cumulative and repeats the input counts.
        final = {k: v for k, v in usage.items() if k != "service_tier"}
        yield _event("message_delta", {"delta": stop, "usage": final})
        yield _event("message_stop", {})
    except asyncio.CancelledError:
        state.disconnects += 1
        raise
