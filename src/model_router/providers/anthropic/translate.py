"""OpenAI Chat Completions -> Anthropic Messages, and back: pure functions.

What maps, and how:
- `system` and `developer` messages, wherever they stand, are joined (blank
  line between) into the top-level `system` string; their position is lost.
- Consecutive turns of one role are merged; `tool` messages become
  `tool_result` blocks of a user turn, placed first in it. If the conversation
  does not start with a user turn (it starts with an assistant message, or has
  only system messages), a user turn holding `LEADING_USER_TEXT` is put first,
  since Anthropic requires one. A final assistant turn is sent as prefill, with
  trailing whitespace cut (the API refuses it).
- Images: `data:` URLs become base64 sources (jpeg, png, gif, webp), http(s)
  URLs become url sources; `detail` is dropped.
- Assistant `tool_calls` become `tool_use` blocks (arguments parsed to an
  object); assistant `reasoning_content` is dropped, since Anthropic wants the
  thinking block's signature back, which OpenAI clients do not keep. Message
  `name`s are dropped.
- `response_format` json_schema -> `output_config.format`. Anthropic has no
  plain JSON mode, so `json_object` (and a json_schema without a schema) is
  emulated: `JSON_OBJECT_INSTRUCTION` is appended to the system prompt. The
  model is asked, not forced; its answer is not checked.
- `max_completion_tokens ?? max_tokens ?? target.max_output_tokens ?? 4096`
  -> `max_tokens`; `temperature` is clamped to Anthropic's 0..1; `top_p`,
  `stop` (-> `stop_sequences`), `user` (or `safety_identifier`) ->
  `metadata.user_id`; `reasoning_effort` -> `output_config.effort` ("none"
  turns thinking off, "minimal" becomes "low").
- `parallel_tool_calls: false` -> `disable_parallel_tool_use`.

Refused with `UnsupportedFeature` (400, `param` names the field), because the
client would silently get something other than what it asked for: `n` > 1,
`logprobs`, `top_logprobs`, `logit_bias`, audio output (`audio`, `modalities`),
legacy `functions`/`function_call`, `web_search_options`, content parts other
than text and images (e.g. `input_audio`, `file`) and images in assistant or
system messages.

Dropped without notice, as hints that do not change what a client can parse:
`seed` (Anthropic has no seeded sampling), `presence_penalty`,
`frequency_penalty`, `store`, `metadata`, `service_tier`, `prediction`,
`stream_options` (the router always reads usage), and any field it does not
know. A conversation with tool blocks but no `tools` is sent as is; Anthropic
answers it with a 400.
"""

from __future__ import annotations

from typing import Any

import orjson

from model_router.domain import ChatResult, FinishReason, ToolCall, Usage
from model_router.errors import InvalidRequest, UnsupportedFeature
from model_router.providers.base import Target
from model_router.providers.http import ErrorFields, malformed
from model_router.schemas.chat import (
    ChatCompletionRequest,
    ImagePart,
    Message,
    NamedToolChoice,
    TextPart,
    Tool,
)

ANTHROPIC_VERSION = "2023-06-01"
DEFAULT_MAX_TOKENS = 4096
DEFAULT_INPUT_SCHEMA: dict[str, Any] = {"type": "object", "properties": {}}
LEADING_USER_TEXT = "(The conversation starts here.)"
JSON_OBJECT_INSTRUCTION = (
    "Answer with a single JSON object only: no prose, no Markdown code fences, "
    "nothing before or after the object."
)
IMAGE_MEDIA_TYPES = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp"})

STOP_REASONS: dict[str, FinishReason] = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "pause_turn": "stop",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "tool_use": "tool_calls",
    "refusal": "content_filter",
}

TOOL_CHOICES = {"none": "none", "auto": "auto", "required": "any"}

# OpenAI reasoning_effort -> Anthropic output_config.effort ("none" is handled apart).
EFFORTS = {
    "minimal": "low",
    "low": "low",
    "medium": "medium",
    "high": "high",
    "xhigh": "xhigh",
    "max": "max",
}

# Extra (undeclared) request fields refused when set: field -> what it asks for.
_REFUSED_EXTRAS = {
    "logprobs": "log probabilities",
    "top_logprobs": "log probabilities",
    "logit_bias": "logit bias",
    "audio": "audio output",
    "functions": "legacy functions (use tools)",
    "function_call": "legacy function_call (use tool_choice)",
    "web_search_options": "OpenAI web search",
}


# --- request -----------------------------------------------------------------


def to_request(request: ChatCompletionRequest, target: Target, *, stream: bool) -> dict[str, Any]:
    """The Anthropic Messages body for an OpenAI request; raises what it cannot express."""
    _refuse_unsupported(request)
    system, messages = convert_messages(request.messages)
    schema = _json_schema(request)
    if schema is None and request.response_format and request.response_format.type != "text":
        system.append(JSON_OBJECT_INSTRUCTION)
    payload: dict[str, Any] = {
        "model": target.upstream_model,
        "max_tokens": request.output_limit or target.max_output_tokens or DEFAULT_MAX_TOKENS,
        "messages": messages,
    }
    if system:
        payload["system"] = "\n\n".join(system)
    if request.tools:
        payload["tools"] = [convert_tool(tool) for tool in request.tools]
    if (tool_choice := convert_tool_choice(request)) is not None:
        payload["tool_choice"] = tool_choice
    payload.update(_sampling(request))
    payload.update(_output(request, schema))
    if stream:
        payload["stream"] = True
    payload.update(target.extra_body)
    return payload


def _json_schema(request: ChatCompletionRequest) -> dict[str, Any] | None:
    """The schema a json_schema response_format asks for, if it gives one."""
    response_format = request.response_format
    if response_format is None or response_format.type != "json_schema":
        return None
    return response_format.json_schema.schema_ if response_format.json_schema else None


def _sampling(request: ChatCompletionRequest) -> dict[str, Any]:
    """stop_sequences, temperature, top_p and metadata."""
    out: dict[str, Any] = {}
    if stop_sequences := [s for s in request.stop_sequences if s]:
        out["stop_sequences"] = stop_sequences
    if request.temperature is not None:
        out["temperature"] = min(request.temperature, 1.0)
    if request.top_p is not None:
        out["top_p"] = request.top_p
    user = request.user or _extra(request, "safety_identifier")
    if isinstance(user, str) and user:
        out["metadata"] = {"user_id": user}
    return out


def _output(request: ChatCompletionRequest, schema: dict[str, Any] | None) -> dict[str, Any]:
    """output_config (format, effort), or thinking disabled for reasoning_effort none."""
    config: dict[str, Any] = {}
    out: dict[str, Any] = {}
    if schema is not None:
        config["format"] = {"type": "json_schema", "schema": schema}
    effort = request.reasoning_effort
    if effort == "none":
        out["thinking"] = {"type": "disabled"}
    elif effort in EFFORTS:
        config["effort"] = EFFORTS[effort]
    elif effort:
        raise UnsupportedFeature(
            f"Anthropic does not take reasoning_effort {effort!r}; "
            f"use one of none, {', '.join(EFFORTS)}.",
            param="reasoning_effort",
        )
    if config:
        out["output_config"] = config
    return out


def _extra(request: ChatCompletionRequest, name: str) -> Any:
    return (request.model_extra or {}).get(name)


def _refuse_unsupported(request: ChatCompletionRequest) -> None:
    if request.n is not None and request.n > 1:
        raise UnsupportedFeature(
            "Anthropic returns one choice per request: n must be 1.", param="n"
        )
    for name, what in _REFUSED_EXTRAS.items():
        if _extra(request, name):
            raise UnsupportedFeature(f"Anthropic does not support {what}.", param=name)
    modalities = _extra(request, "modalities")
    if isinstance(modalities, list) and any(m != "text" for m in modalities):
        raise UnsupportedFeature("Anthropic answers with text only.", param="modalities")


def convert_messages(messages: list[Message]) -> tuple[list[str], list[dict[str, Any]]]:
    """(system texts, Anthropic turns): roles alternating, starting with a user turn."""
    system: list[str] = []
    turns: list[dict[str, Any]] = []
    for i, message in enumerate(messages):
        if message.role in ("system", "developer"):
            if text := _system_text(message, i):
                system.append(text)
            continue
        if message.role == "assistant":
            role, blocks = "assistant", _assistant_blocks(message, i)
        elif message.role == "tool":
            role, blocks = "user", [_tool_result(message, i)]
        else:
            role, blocks = "user", _user_blocks(message, i)
        if not blocks:
            continue
        if turns and turns[-1]["role"] == role:
            turns[-1]["content"].extend(blocks)
        else:
            turns.append({"role": role, "content": blocks})
    for turn in turns:
        if turn["role"] == "user":  # tool results must lead their turn
            turn["content"].sort(key=lambda block: block["type"] != "tool_result")
    _trim_prefill(turns)
    if not turns or turns[0]["role"] != "user":
        turns.insert(0, {"role": "user", "content": [_text(LEADING_USER_TEXT)]})
    return system, turns


def _trim_prefill(turns: list[dict[str, Any]]) -> None:
    """Cut trailing whitespace from a final assistant turn, which Anthropic refuses."""
    if not turns or turns[-1]["role"] != "assistant":
        return
    blocks = turns[-1]["content"]
    if blocks[-1]["type"] == "text":
        blocks[-1]["text"] = blocks[-1]["text"].rstrip()
        if not blocks[-1]["text"]:
            blocks.pop()
    if not blocks:
        turns.pop()


def _text(text: str) -> dict[str, Any]:
    return {"type": "text", "text": text}


def _unsupported_part(kind: str, role: str, i: int) -> UnsupportedFeature:
    return UnsupportedFeature(
        f"Anthropic does not accept '{kind}' content in {role} messages (messages[{i}]).",
        param="messages",
    )


def _system_text(message: Message, i: int) -> str:
    if isinstance(message.content, list):
        for part in message.content:
            if not isinstance(part, TextPart):
                raise _unsupported_part(part.type, message.role, i)
    return message.text()


def _user_blocks(message: Message, i: int) -> list[dict[str, Any]]:
    if isinstance(message.content, str):
        return [_text(message.content)] if message.content else []
    blocks: list[dict[str, Any]] = []
    for part in message.content or []:
        if isinstance(part, TextPart):
            if part.text:
                blocks.append(_text(part.text))
        elif isinstance(part, ImagePart):
            blocks.append(convert_image(part.image_url.url, i))
        else:
            raise _unsupported_part(part.type, message.role, i)
    return blocks


def _assistant_blocks(message: Message, i: int) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    if isinstance(message.content, str):
        if message.content:
            blocks.append(_text(message.content))
    else:
        for part in message.content or []:
            text = part.text if isinstance(part, TextPart) else _refusal_text(part)
            if text is None:
                raise _unsupported_part(part.type, "assistant", i)
            if text:
                blocks.append(_text(text))
    for call in message.tool_calls or []:
        blocks.append(
            {
                "type": "tool_use",
                "id": call.id,
                "name": call.function.name,
                "input": _arguments(call.function.arguments, i),
            }
        )
    return blocks


def _refusal_text(part: Any) -> str | None:
    """The text of an assistant `refusal` part, None for any other part."""
    refusal = getattr(part, "refusal", None)
    if getattr(part, "type", None) == "refusal" and isinstance(refusal, str):
        return refusal
    return None


def _arguments(arguments: str, i: int) -> dict[str, Any]:
    if not arguments.strip():
        return {}
    try:
        value = orjson.loads(arguments)
    except orjson.JSONDecodeError as exc:
        raise InvalidRequest(
            f"messages[{i}]: tool call arguments are not valid JSON.", param="messages"
        ) from exc
    if not isinstance(value, dict):
        raise InvalidRequest(
            f"messages[{i}]: tool call arguments must be a JSON object.", param="messages"
        )
    return value


def _tool_result(message: Message, i: int) -> dict[str, Any]:
    block: dict[str, Any] = {"type": "tool_result", "tool_use_id": message.tool_call_id}
    if isinstance(message.content, str):
        if message.content:
            block["content"] = message.content
    elif content := _user_blocks(message, i):
        block["content"] = content
    return block


def convert_image(url: str, i: int = 0) -> dict[str, Any]:
    """An Anthropic image block for an OpenAI `image_url` (a data: or http(s) URL)."""
    if url.startswith("data:"):
        header, comma, data = url[5:].partition(",")
        media_type, *params = header.split(";")
        media_type = media_type.strip().lower()
        if not comma or "base64" not in params or not data:
            raise InvalidRequest(
                f"messages[{i}]: an image data URL must be base64 encoded.", param="messages"
            )
        if media_type not in IMAGE_MEDIA_TYPES:
            raise UnsupportedFeature(
                f"messages[{i}]: Anthropic does not accept {media_type or 'untyped'} images; "
                f"use one of {', '.join(sorted(IMAGE_MEDIA_TYPES))}.",
                param="messages",
            )
        return {
            "type": "image",
            "source": {"type": "base64", "media_type": media_type, "data": data},
        }
    if url.startswith(("https://", "http://")):
        return {"type": "image", "source": {"type": "url", "url": url}}
    raise InvalidRequest(
        f"messages[{i}]: an image URL must be https:// or a data: URL.", param="messages"
    )


def convert_tool(tool: Tool) -> dict[str, Any]:
    function = tool.function
    out: dict[str, Any] = {
        "name": function.name,
        "input_schema": function.parameters or DEFAULT_INPUT_SCHEMA,
    }
    if function.description:
        out["description"] = function.description
    if function.strict:
        out["strict"] = True
    return out


def convert_tool_choice(request: ChatCompletionRequest) -> dict[str, Any] | None:
    """Anthropic's tool_choice, with `disable_parallel_tool_use`; None to leave it out."""
    choice = request.tool_choice
    if not request.tools:
        if isinstance(choice, NamedToolChoice) or choice == "required":
            raise InvalidRequest("tool_choice needs tools.", param="tool_choice")
        return None
    out: dict[str, Any]
    if isinstance(choice, NamedToolChoice):
        if choice.name not in {tool.function.name for tool in request.tools}:
            raise InvalidRequest(
                f"tool_choice names '{choice.name}', which is not in tools.", param="tool_choice"
            )
        out = {"type": "tool", "name": choice.name}
    elif choice is not None:
        out = {"type": TOOL_CHOICES[choice]}
    elif request.parallel_tool_calls is False:
        out = {"type": "auto"}
    else:
        return None
    if request.parallel_tool_calls is False and out["type"] != "none":
        out["disable_parallel_tool_use"] = True
    return out


# --- response ----------------------------------------------------------------


def map_stop_reason(value: Any) -> FinishReason:
    """OpenAI's finish_reason for an Anthropic stop_reason; unknown ones read as stop."""
    return STOP_REASONS.get(str(value), "stop")


def parse_usage(raw: Any) -> Usage:
    """Anthropic usage in OpenAI's convention: cache reads and writes count as input."""
    if not isinstance(raw, dict):
        return Usage()
    read = int(raw.get("cache_read_input_tokens") or 0)
    write = int(raw.get("cache_creation_input_tokens") or 0)
    details = raw.get("output_tokens_details")
    thinking = details.get("thinking_tokens") if isinstance(details, dict) else 0
    return Usage(
        input_tokens=int(raw.get("input_tokens") or 0) + read + write,
        output_tokens=int(raw.get("output_tokens") or 0),
        cached_input_tokens=read,
        cache_write_tokens=write,
        reasoning_tokens=int(thinking or 0),
    )


def from_response(data: Any, provider: str) -> ChatResult:
    """A ChatResult for an Anthropic `message` body."""
    content = data.get("content") if isinstance(data, dict) else None
    if not isinstance(content, list):
        raise malformed(provider, "no content list")
    texts: list[str] = []
    thoughts: list[str] = []
    calls: list[ToolCall] = []
    try:
        for block in content:
            kind = block.get("type")
            if kind == "text":
                texts.append(str(block.get("text") or ""))
            elif kind == "thinking":
                thoughts.append(str(block.get("thinking") or ""))
            elif kind == "tool_use":
                arguments = orjson.dumps(block.get("input") or {}).decode()
                calls.append(
                    ToolCall(id=str(block["id"]), name=str(block["name"]), arguments=arguments)
                )
    except (AttributeError, KeyError, TypeError) as exc:
        raise malformed(provider, "bad content block") from exc
    return ChatResult(
        content="".join(texts) or None,
        finish_reason=map_stop_reason(data.get("stop_reason")),
        usage=parse_usage(data.get("usage")),
        tool_calls=calls,
        reasoning_content="".join(thoughts) or None,
        upstream_id=data.get("id"),
        upstream_model=data.get("model"),
    )


def parse_error(data: Any) -> ErrorFields:
    """(message, type, code, param) of `{"type":"error","error":{"type","message"}}`.

    Anthropic's error type is also the code, so it survives the status mapping
    (e.g. `overloaded_error` behind a 503).
    """
    error = data["error"]
    if isinstance(error, str):
        return error, None, None, None
    etype = error.get("type")
    return error.get("message"), etype, etype, None
