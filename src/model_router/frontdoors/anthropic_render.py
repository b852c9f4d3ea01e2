"""Our answers in Anthropic's wire format: the `Message` JSON, its usage, stop
reasons and error bodies (shared by the whole and the streamed answer).

Beside Anthropic's own fields we add the router's: `provider` and
`latency_ms` on the message, and `input_cost_usd`, `output_cost_usd`,
`total_cost_usd` in `usage` (null when a price is unknown, never $0). The
Anthropic SDKs ignore fields they do not know.
"""

from __future__ import annotations

from typing import Any, Literal

import orjson

from model_router.costs.pricing import Cost
from model_router.domain.completion import Completion, FinishReason
from model_router.domain.content import OutputPart, Reasoning, RedactedReasoning, Text, ToolCall
from model_router.domain.usage import Usage
from model_router.errors import RouterError
from model_router.frontdoors.base import Answered, cost_json

StopReason = Literal[
    "end_turn",
    "max_tokens",
    "stop_sequence",
    "tool_use",
    "pause_turn",
    "refusal",
    "model_context_window_exceeded",
]

STOP_REASONS: dict[FinishReason, StopReason] = {
    "stop": "end_turn",  # "stop_sequence" when the completion names the sequence
    "length": "max_tokens",
    "tool_calls": "tool_use",
    "content_filter": "refusal",
}
"""Neutral finish reason -> Anthropic `stop_reason`. `pause_turn` and
`model_context_window_exceeded` exist only in an Anthropic upstream's own
answer, which a native answer passes on as it is."""

ERROR_TYPES: dict[int, str] = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "billing_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    502: "api_error",
    503: "overloaded_error",
    504: "timeout_error",
    529: "overloaded_error",
}
"""HTTP status -> Anthropic error type, as Anthropic's API and SDK name them
(`request_too_large` is in its docs, not in its SDK's models); other 4xx are
`invalid_request_error`, other 5xx `api_error`."""


def stop_reason(reason: FinishReason, stop_sequence: str | None) -> StopReason:
    if reason == "stop" and stop_sequence is not None:
        return "stop_sequence"
    return STOP_REASONS[reason]


def message_id(answered: Answered) -> str:
    return "msg_" + answered.request_id.replace("-", "")


def usage_json(usage: Usage, cost: Cost | None) -> dict[str, Any]:
    """Anthropic's usage: `input_tokens` without cache reads and writes (the
    neutral count includes them), and the cache writes split by lifetime."""
    write_1h = usage.cache_write_1h_tokens
    out: dict[str, Any] = {
        "input_tokens": max(
            0, usage.input_tokens - usage.cached_input_tokens - usage.cache_write_tokens
        ),
        "output_tokens": usage.output_tokens,
        "cache_creation_input_tokens": usage.cache_write_tokens,
        "cache_read_input_tokens": usage.cached_input_tokens,
        "cache_creation": {
            "ephemeral_5m_input_tokens": max(0, usage.cache_write_tokens - write_1h),
            "ephemeral_1h_input_tokens": write_1h,
        },
    }
    if usage.reasoning_tokens:
        out["output_tokens_details"] = {"thinking_tokens": usage.reasoning_tokens}
    return out | cost_json(cost)


def tool_input(arguments: str) -> dict[str, Any]:
    """A tool call's JSON arguments as the object Anthropic sends; arguments
    that are not a JSON object are kept under `_raw_arguments`."""
    if not arguments.strip():
        return {}
    try:
        value = orjson.loads(arguments)
    except orjson.JSONDecodeError:
        value = None
    return value if isinstance(value, dict) else {"_raw_arguments": arguments}


def block_json(part: OutputPart) -> dict[str, Any]:
    if isinstance(part, Text):
        return {"type": "text", "text": part.text}
    if isinstance(part, Reasoning):
        return {"type": "thinking", "thinking": part.text, "signature": part.signature or ""}
    if isinstance(part, RedactedReasoning):
        return {"type": "redacted_thinking", "data": part.data}
    assert isinstance(part, ToolCall)
    return {
        "type": "tool_use",
        "id": part.id,
        "name": part.name,
        "input": tool_input(part.arguments),
    }


def message_json(completion: Completion, answered: Answered) -> dict[str, Any]:
    """The whole answer: the upstream's own body when it spoke Anthropic, else
    a `Message` built from the neutral parts."""
    extras = {"provider": answered.provider, "latency_ms": answered.latency_ms}
    native = completion.native
    if native is not None and native.protocol == "anthropic":
        usage = native.body.get("usage")
        usage = usage if isinstance(usage, dict) else {}
        return native.body | extras | {"usage": usage | cost_json(answered.cost)}
    content = [block_json(p) for p in completion.parts]
    if completion.refusal and not completion.text:
        content.append({"type": "text", "text": completion.refusal})
    return {
        "id": message_id(answered),
        "type": "message",
        "role": "assistant",
        "model": answered.model,
        "content": content,
        "stop_reason": stop_reason(completion.finish_reason, completion.stop_sequence),
        "stop_sequence": completion.stop_sequence,
        "usage": usage_json(completion.usage, answered.cost),
        **extras,
    }


def error_json(error: RouterError) -> dict[str, Any]:
    status = error.status_code
    kind = ERROR_TYPES.get(status, "api_error" if status >= 500 else "invalid_request_error")
    body: dict[str, Any] = {"type": kind, "message": error.message}
    if error.param is not None:
        body["param"] = error.param
    if error.code is not None:
        body["code"] = error.code
    return {"type": "error", "error": body}
