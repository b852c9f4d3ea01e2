"""Our results in OpenAI's wire format, plus the router's own fields.

The response is a superset of OpenAI's `chat.completion` (so the SDKs parse
it) and of the original design's response (`provider`, `content`,
`finish_reason`, `latency_ms`, `created_at`, and cost fields in `usage`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from model_router.costs.pricing import Cost
from model_router.domain import ChatResult, FinishReason, ToolCall, Usage
from model_router.jsonutil import dumps


def usage_json(usage: Usage, cost: Cost | None) -> dict[str, Any]:
    return {
        "prompt_tokens": usage.input_tokens,
        "completion_tokens": usage.output_tokens,
        "total_tokens": usage.total_tokens,
        "prompt_tokens_details": {
            "cached_tokens": usage.cached_input_tokens,
            "cache_write_tokens": usage.cache_write_tokens,
        },
        "completion_tokens_details": {"reasoning_tokens": usage.reasoning_tokens},
        "input_cost_usd": cost.input_usd if cost else None,
        "output_cost_usd": cost.output_usd if cost else None,
        "total_cost_usd": cost.total_usd if cost else None,
    }


def tool_calls_json(calls: list[ToolCall]) -> list[dict[str, Any]]:
    return [
        {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}
        for c in calls
    ]


def completion_json(
    *,
    request_id: str,
    model: str,
    provider: str,
    result: ChatResult,
    cost: Cost | None,
    created: datetime,
    latency_ms: int,
) -> dict[str, Any]:
    message: dict[str, Any] = {
        "role": "assistant",
        "content": result.content,
        "refusal": result.refusal,
    }
    if result.tool_calls:
        message["tool_calls"] = tool_calls_json(result.tool_calls)
    if result.reasoning_content:
        message["reasoning_content"] = result.reasoning_content
    return {
        "id": request_id,
        "object": "chat.completion",
        "created": int(created.timestamp()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": message,
                "finish_reason": result.finish_reason,
                "logprobs": None,
            }
        ],
        "usage": usage_json(result.usage, cost),
        "provider": provider,
        "content": result.content,
        "finish_reason": result.finish_reason,
        "latency_ms": latency_ms,
        "created_at": created.isoformat(),
    }


class ChunkWriter:
    """Frames `chat.completion.chunk` events for one streamed answer, as SSE bytes.

    The parts that never change within a stream are serialised once; each chunk
    only serialises its delta (this is the per-chunk hot path).
    """

    def __init__(self, request_id: str, model: str, created: datetime, include_usage: bool):
        self._head = {
            "id": request_id,
            "object": "chat.completion.chunk",
            "created": int(created.timestamp()),
            "model": model,
        }
        head = dumps(self._head)[:-1]  # without the closing brace
        self._open = b"data: " + head + b',"choices":[{"index":0,"delta":'
        tail = b',"logprobs":null}]' + (b',"usage":null' if include_usage else b"") + b"}\n\n"
        self._tails: dict[FinishReason | None, bytes] = {
            reason: b',"finish_reason":' + dumps(reason) + tail
            for reason in (None, "stop", "length", "tool_calls", "content_filter")
        }

    def chunk(self, delta: dict[str, Any], finish_reason: FinishReason | None = None) -> bytes:
        return self._open + dumps(delta) + self._tails[finish_reason]

    def usage_chunk(self, usage: Usage, cost: Cost | None, provider: str) -> bytes:
        body = {**self._head, "choices": [], "usage": usage_json(usage, cost), "provider": provider}
        return sse(body)


def sse(data: dict[str, Any]) -> bytes:
    return b"data: " + dumps(data) + b"\n\n"


def error_json(
    message: str, error_type: str, param: str | None, code: str | None
) -> dict[str, Any]:
    return {"error": {"message": message, "type": error_type, "param": param, "code": code}}
