"""The neutral request -> Anthropic Messages: pure functions (the answer is
read back in `response`).

A request that came with an Anthropic body of its own (`request.native`, the
Messages front door) is sent as it came, model swapped. Otherwise:

What maps, and how:
- system messages (OpenAI `system` and `developer`), wherever they stand, are joined (blank
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
  object); assistant reasoning is sent back as a `thinking` block only with
  its signature (OpenAI clients do not keep it: their `reasoning_content` is
  dropped), redacted reasoning as `redacted_thinking`. Message `name`s are
  dropped. Documents become `document` blocks; `cache_control` hints are kept.
- `response_format` json_schema -> `output_config.format`. Anthropic has no
  plain JSON mode, so `json_object` (and a json_schema without a schema) is
  emulated: `JSON_OBJECT_INSTRUCTION` is appended to the system prompt. The
  model is asked, not forced; its answer is not checked.
- `max_completion_tokens ?? max_tokens ?? target.max_output_tokens ?? 4096`
  -> `max_tokens`; `temperature` is clamped to Anthropic's 0..1; `top_p`,
  `stop` (-> `stop_sequences`), `user` (or `safety_identifier`) ->
  `metadata.user_id`; `reasoning_effort` -> `output_config.effort` ("none"
  turns thinking off, "minimal" becomes "low"); a thinking mode or budget ->
  `thinking`.
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

from collections.abc import Sequence
from typing import Any

import orjson

from model_router.domain.content import (
    Document,
    Image,
    Message,
    Opaque,
    Part,
    Reasoning,
    RedactedReasoning,
    Text,
    ToolCall,
    ToolResult,
)
from model_router.domain.request import ROUTER_FIELDS, NamedTool, Request, Tool
from model_router.errors import InvalidRequest, UnsupportedFeature
from model_router.providers import hints
from model_router.providers.anthropic.response import (
    STOP_REASONS,
    from_response,
    map_stop_reason,
    parse_error,
    parse_usage,
)
from model_router.providers.base import Target

__all__ = [
    "STOP_REASONS",
    "from_response",
    "map_stop_reason",
    "parse_error",
    "parse_usage",
    "to_request",
]

Json = dict[str, Any]

ANTHROPIC_VERSION = "2023-06-01"
DEFAULT_MAX_TOKENS = 4096
DEFAULT_INPUT_SCHEMA: Json = {"type": "object", "properties": {}}
LEADING_USER_TEXT = "(The conversation starts here.)"
JSON_OBJECT_INSTRUCTION = (
    "Answer with a single JSON object only: no prose, no Markdown code fences, "
    "nothing before or after the object."
)
IMAGE_MEDIA_TYPES = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp"})

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

# Fields of another protocol (`Request.extras`) refused when set: field -> what it asks for.
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


def to_request(request: Request, target: Target, *, stream: bool) -> Json:
    """The Anthropic Messages body for a request; raises what it cannot express."""
    native = request.native
    if native is not None and native.protocol == "anthropic":
        return native_body(native.body, target, stream=stream, request=request)
    _refuse_unsupported(request)
    system, messages = convert_messages(request.messages)
    schema = _json_schema(request)
    if schema is None and request.output_format and request.output_format.type != "text":
        system.append(JSON_OBJECT_INSTRUCTION)
    payload: Json = {
        "model": target.upstream_model,
        "max_tokens": hints.output_limit(request, target)
        or target.max_output_tokens
        or DEFAULT_MAX_TOKENS,
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


def _is_unsigned(block: Any) -> bool:
    return (
        isinstance(block, dict) and block.get("type") == "thinking" and not block.get("signature")
    )


def _unsigned_thinking(message: Any) -> bool:
    content = message.get("content") if isinstance(message, dict) else None
    return isinstance(content, list) and any(_is_unsigned(b) for b in content)


def _without_unsigned_thinking(message: Any) -> Any:
    if not _unsigned_thinking(message):
        return message
    return {**message, "content": [b for b in message["content"] if not _is_unsigned(b)]}


def native_body(
    body: Json, target: Target, *, stream: bool, request: Request | None = None
) -> Json:
    """The client's own Messages body, with the upstream model (and `stream` as
    asked), `max_tokens` clamped to the model's limit, and without thinking
    blocks that carry no signature (another provider's reasoning, which
    Anthropic refuses); both noted in `request.dropped`."""
    payload = {k: v for k, v in body.items() if k not in ROUTER_FIELDS}
    cap = target.max_output_tokens
    asked = payload.get("max_tokens")
    if isinstance(asked, int) and cap is not None and asked > cap:
        payload["max_tokens"] = cap
        if request is not None:
            hints.note(request, f"max_tokens clamped to {cap}")
    messages = payload.get("messages")
    if isinstance(messages, list) and any(_unsigned_thinking(m) for m in messages):
        payload["messages"] = [_without_unsigned_thinking(m) for m in messages]
        if request is not None:
            hints.note(request, "thinking blocks without a signature")
    payload.update(target.extra_body)
    payload["model"] = target.upstream_model
    if stream:
        payload["stream"] = True
    else:
        payload.pop("stream", None)
    return payload


def _json_schema(request: Request) -> Json | None:
    """The schema a json_schema output format asks for, if it gives one."""
    output = request.output_format
    if output is None or output.type != "json_schema":
        return None
    return output.schema


def _sampling(request: Request) -> Json:
    """stop_sequences, temperature, top_p, top_k and metadata."""
    out: Json = {}
    if stop_sequences := [s for s in request.stop if s]:
        out["stop_sequences"] = stop_sequences
    if request.temperature is not None:
        out["temperature"] = min(request.temperature, 1.0)
    if request.top_p is not None:
        out["top_p"] = request.top_p
    if request.top_k is not None:
        out["top_k"] = request.top_k
    if request.user:
        out["metadata"] = {"user_id": request.user}
    return out


def _output(request: Request, schema: Json | None) -> Json:
    """output_config (format, effort), and `thinking` (off, on with a budget, adaptive)."""
    config: Json = {}
    out: Json = {}
    if schema is not None:
        config["format"] = {"type": "json_schema", "schema": schema}
    reasoning = request.reasoning
    effort = reasoning.effort if reasoning else None
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
    if reasoning is not None and reasoning.mode is not None and "thinking" not in out:
        thinking: Json = {"type": reasoning.mode}
        if reasoning.mode == "enabled" and reasoning.budget_tokens is not None:
            thinking["budget_tokens"] = reasoning.budget_tokens
        out["thinking"] = thinking
    if config:
        out["output_config"] = config
    return out


def _refuse_unsupported(request: Request) -> None:
    extras = request.extras
    for name, what in _REFUSED_EXTRAS.items():
        if extras.get(name):
            raise UnsupportedFeature(f"Anthropic does not support {what}.", param=name)
    modalities = extras.get("modalities")
    if isinstance(modalities, list) and any(m != "text" for m in modalities):
        raise UnsupportedFeature("Anthropic answers with text only.", param="modalities")


def convert_messages(messages: list[Message]) -> tuple[list[str], list[Json]]:
    """(system texts, Anthropic turns): roles alternating, starting with a user turn."""
    system: list[str] = []
    turns: list[Json] = []
    for i, message in enumerate(messages):
        if message.role == "system":
            if text := _system_text(message, i):
                system.append(text)
            continue
        if message.role == "assistant":
            role, blocks = "assistant", _assistant_blocks(message, i)
        else:
            role, blocks = "user", _user_blocks(message.parts, message.role, i)
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


def _trim_prefill(turns: list[Json]) -> None:
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


def _text(text: str, cache_control: Json | None = None) -> Json:
    block: Json = {"type": "text", "text": text}
    if cache_control is not None:
        block["cache_control"] = cache_control
    return block


def _kind(part: Part) -> str:
    if isinstance(part, Opaque):
        return part.kind
    return {Image: "image_url", Document: "document"}.get(type(part), type(part).__name__)


def _unsupported_part(kind: str, role: str, i: int) -> UnsupportedFeature:
    return UnsupportedFeature(
        f"Anthropic does not accept '{kind}' content in {role} messages (messages[{i}]).",
        param="messages",
    )


def _system_text(message: Message, i: int) -> str:
    for part in message.parts:
        if not isinstance(part, Text):
            raise _unsupported_part(_kind(part), "system", i)
    return message.text()


def _user_blocks(parts: Sequence[Part], role: str, i: int) -> list[Json]:
    blocks: list[Json] = []
    for part in parts:
        if isinstance(part, Text):
            if part.text:
                blocks.append(_text(part.text, part.cache_control))
        elif isinstance(part, Image):
            blocks.append(_cached(convert_image(part, i), part.cache_control))
        elif isinstance(part, Document):
            blocks.append(convert_document(part))
        elif isinstance(part, ToolResult):
            blocks.append(_tool_result(part, i))
        else:
            raise _unsupported_part(_kind(part), role, i)
    return blocks


def _cached(block: Json, cache_control: Json | None) -> Json:
    if cache_control is not None:
        block["cache_control"] = cache_control
    return block


def _assistant_blocks(message: Message, i: int) -> list[Json]:
    blocks: list[Json] = []
    for part in message.parts:
        if isinstance(part, Text):
            if part.text:
                blocks.append(_text(part.text, part.cache_control))
        elif isinstance(part, Reasoning):
            if part.signature:  # unsigned thinking cannot be sent back
                blocks.append(
                    {"type": "thinking", "thinking": part.text, "signature": part.signature}
                )
        elif isinstance(part, RedactedReasoning):
            blocks.append({"type": "redacted_thinking", "data": part.data})
        elif isinstance(part, ToolCall):
            block: Json = {
                "type": "tool_use",
                "id": part.id,
                "name": part.name,
                "input": _arguments(part.arguments, i),
            }
            blocks.append(_cached(block, part.cache_control))
        else:
            raise _unsupported_part(_kind(part), "assistant", i)
    return blocks


def _arguments(arguments: str, i: int) -> Json:
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


def _tool_result(result: ToolResult, i: int) -> Json:
    block: Json = {"type": "tool_result", "tool_use_id": result.tool_call_id}
    content = result.content
    if len(content) == 1 and isinstance(content[0], Text) and content[0].cache_control is None:
        if content[0].text:
            block["content"] = content[0].text
    elif blocks := _user_blocks(content, "tool", i):
        block["content"] = blocks
    if result.is_error:
        block["is_error"] = True
    return _cached(block, result.cache_control)


def convert_image(image: Image, i: int = 0) -> Json:
    """An Anthropic image block: inline data, a data: URL or an http(s) URL."""
    if image.data is not None:
        return _base64_image(image.media_type or "", image.data, i)
    url = image.url or ""
    if url.startswith("data:"):
        header, comma, data = url[5:].partition(",")
        media_type, *params = header.split(";")
        if not comma or "base64" not in params or not data:
            raise InvalidRequest(
                f"messages[{i}]: an image data URL must be base64 encoded.", param="messages"
            )
        return _base64_image(media_type.strip().lower(), data, i)
    if url.startswith(("https://", "http://")):
        return {"type": "image", "source": {"type": "url", "url": url}}
    raise InvalidRequest(
        f"messages[{i}]: an image URL must be https:// or a data: URL.", param="messages"
    )


def _base64_image(media_type: str, data: str, i: int) -> Json:
    if media_type not in IMAGE_MEDIA_TYPES:
        raise UnsupportedFeature(
            f"messages[{i}]: Anthropic does not accept {media_type or 'untyped'} images; "
            f"use one of {', '.join(sorted(IMAGE_MEDIA_TYPES))}.",
            param="messages",
        )
    return {"type": "image", "source": {"type": "base64", "media_type": media_type, "data": data}}


def convert_document(document: Document) -> Json:
    source: Json
    if document.text is not None:
        source = {"type": "text", "media_type": "text/plain", "data": document.text}
    elif document.data is not None:
        source = {"type": "base64", "media_type": document.media_type, "data": document.data}
    else:
        source = {"type": "url", "url": document.url}
    block: Json = {"type": "document", "source": source, **document.extra}
    if document.title is not None:
        block["title"] = document.title
    return _cached(block, document.cache_control)


def convert_tool(tool: Tool) -> Json:
    out: Json = {"name": tool.name, "input_schema": tool.parameters or DEFAULT_INPUT_SCHEMA}
    if tool.description:
        out["description"] = tool.description
    if tool.strict:
        out["strict"] = True
    return _cached(out, tool.cache_control)


def convert_tool_choice(request: Request) -> Json | None:
    """Anthropic's tool_choice, with `disable_parallel_tool_use`; None to leave it out."""
    choice = request.tool_choice
    if not request.tools:
        if isinstance(choice, NamedTool) or choice == "required":
            raise InvalidRequest("tool_choice needs tools.", param="tool_choice")
        return None
    out: Json
    if isinstance(choice, NamedTool):
        if choice.name not in {tool.name for tool in request.tools}:
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
