"""An Anthropic Messages answer -> the neutral `Completion`: pure functions.

Blocks keep their order: `text`, `thinking` (with its signature, needed to
send it back), `redacted_thinking`, `tool_use` (input as a JSON string).
Usage follows OpenAI's convention: cache reads and writes count as input;
writes for an hour (`cache_creation.ephemeral_1h_input_tokens`) are told apart.
"""

from __future__ import annotations

from typing import Any

import orjson

from model_router.domain.completion import Completion, FinishReason
from model_router.domain.content import OutputPart, Reasoning, RedactedReasoning, Text, ToolCall
from model_router.domain.usage import Usage
from model_router.providers.http import ErrorFields, malformed

STOP_REASONS: dict[str, FinishReason] = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "pause_turn": "stop",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "tool_use": "tool_calls",
    "refusal": "content_filter",
}


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
    creation = raw.get("cache_creation")
    hour = creation.get("ephemeral_1h_input_tokens") if isinstance(creation, dict) else 0
    return Usage(
        input_tokens=int(raw.get("input_tokens") or 0) + read + write,
        output_tokens=int(raw.get("output_tokens") or 0),
        cached_input_tokens=read,
        cache_write_tokens=write,
        reasoning_tokens=int(thinking or 0),
        cache_write_1h_tokens=int(hour or 0),
    )


def from_response(data: Any, provider: str) -> Completion:
    """A Completion for an Anthropic `message` body."""
    content = data.get("content") if isinstance(data, dict) else None
    if not isinstance(content, list):
        raise malformed(provider, "no content list")
    parts: list[OutputPart] = []
    try:
        for block in content:
            kind = block.get("type")
            if kind == "text":
                if text := str(block.get("text") or ""):
                    parts.append(Text(text))
            elif kind == "thinking":
                parts.append(
                    Reasoning(str(block.get("thinking") or ""), block.get("signature") or None)
                )
            elif kind == "redacted_thinking":
                parts.append(RedactedReasoning(str(block["data"])))
            elif kind == "tool_use":
                arguments = orjson.dumps(block.get("input") or {}).decode()
                parts.append(
                    ToolCall(id=str(block["id"]), name=str(block["name"]), arguments=arguments)
                )
    except (AttributeError, KeyError, TypeError) as exc:
        raise malformed(provider, "bad content block") from exc
    return Completion(
        parts=parts,
        finish_reason=map_stop_reason(data.get("stop_reason")),
        usage=parse_usage(data.get("usage")),
        stop_sequence=data.get("stop_sequence"),
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
