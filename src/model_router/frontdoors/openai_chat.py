"""The Chat Completions front door (`POST /v1/chat/completions`).

Requests translate in `openai_chat_translate`. Answers render as a superset of
OpenAI's `chat.completion` (so the SDKs parse it) and of the original design's
response (`provider`, `content`, `finish_reason`, `latency_ms`, `created_at`,
and cost fields in `usage`); streams as `chat.completion.chunk` frames ending
with `data: [DONE]`. Errors are OpenAI's `{"error": {...}}`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import orjson

from model_router.costs.pricing import Cost
from model_router.domain.completion import (
    Completion,
    Finish,
    FinishReason,
    ReasoningDelta,
    StreamEvent,
    TextDelta,
    ToolCallDelta,
)
from model_router.domain.content import ToolCall
from model_router.domain.request import FrontDoor, Request
from model_router.domain.usage import Usage
from model_router.errors import RouterError
from model_router.frontdoors.base import Answered
from model_router.frontdoors.openai_chat_translate import to_request
from model_router.jsonutil import dumps

DONE = b"data: [DONE]\n\n"


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


def completion_json(completion: Completion, answered: Answered) -> dict[str, Any]:
    content = completion.text
    message: dict[str, Any] = {
        "role": "assistant",
        "content": content,
        "refusal": completion.refusal,
    }
    if calls := completion.tool_calls:
        message["tool_calls"] = tool_calls_json(calls)
    if reasoning := completion.reasoning_text:
        message["reasoning_content"] = reasoning
    created = answered.created
    return {
        "id": answered.request_id,
        "object": "chat.completion",
        "created": int(created.timestamp()),
        "model": answered.model,
        "choices": [
            {
                "index": 0,
                "message": message,
                "finish_reason": completion.finish_reason,
                "logprobs": None,
            }
        ],
        "usage": usage_json(completion.usage, answered.cost),
        "provider": answered.provider,
        "content": content,
        "finish_reason": completion.finish_reason,
        "latency_ms": answered.latency_ms,
        "created_at": created.isoformat(),
    }


def sse(data: dict[str, Any]) -> bytes:
    return b"data: " + dumps(data) + b"\n\n"


def error_json(
    message: str, error_type: str, param: str | None, code: str | None
) -> dict[str, Any]:
    return {"error": {"message": message, "type": error_type, "param": param, "code": code}}


def router_error_json(error: RouterError) -> dict[str, Any]:
    return error_json(error.message, error.error_type, error.param, error.code)


class ChunkWriter:
    """Frames `chat.completion.chunk` events for one streamed answer, as SSE bytes.

    The parts that never change within a stream are serialised once; each chunk
    only serialises its delta (this is the per-chunk hot path). The first chunk
    says the role.
    """

    __slots__ = ("_head", "_include_usage", "_open", "_started", "_tail", "_tails")

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
        self._tail = self._tails[None]
        self._include_usage = include_usage
        self._started = False

    def chunk(self, delta: dict[str, Any], finish_reason: FinishReason | None = None) -> bytes:
        return self._open + dumps(delta) + self._tails[finish_reason]

    def _start(self) -> bytes:
        if self._started:
            return b""
        self._started = True
        return self.chunk({"role": "assistant", "content": ""})

    def event(self, event: StreamEvent) -> bytes:
        if isinstance(event, TextDelta):  # the hot path: one call into orjson, no other
            if self._started:
                return self._open + orjson.dumps({"content": event.text}) + self._tail
            return self._start() + self.chunk({"content": event.text})
        if isinstance(event, ReasoningDelta):
            return self._start() + self.chunk({"reasoning_content": event.text})
        if isinstance(event, ToolCallDelta):
            out: dict[str, Any] = {"index": event.index}
            if event.id:
                out["id"] = event.id
                out["type"] = "function"
            function: dict[str, str] = {"arguments": event.arguments}
            if event.name:
                function["name"] = event.name
            out["function"] = function
            return self._start() + self.chunk({"tool_calls": [out]})
        if isinstance(event, Finish):
            return self._start() + self.chunk({}, event.reason)
        return self._start()

    def close(self, completion: Completion, answered: Answered) -> bytes:
        out = self._start()
        if self._include_usage:
            body = {
                **self._head,
                "choices": [],
                "usage": usage_json(completion.usage, answered.cost),
                "provider": answered.provider,
            }
            out += sse(body)
        return out + DONE

    def error(self, error: RouterError) -> bytes:
        return self._start() + sse(router_error_json(error))


class OpenAIChatDoor:
    """OpenAI Chat Completions in and out."""

    name: FrontDoor = "chat_completions"

    def to_request(self, body: dict[str, Any], headers: Mapping[str, str]) -> Request:
        return to_request(body)

    def render(self, completion: Completion, answered: Answered, request: Request) -> bytes:
        return dumps(completion_json(completion, answered))

    def stream_writer(self, request: Request, answered: Answered) -> ChunkWriter:
        options = request.native.body.get("stream_options") if request.native else None
        include_usage = isinstance(options, dict) and bool(options.get("include_usage"))
        return ChunkWriter(answered.request_id, answered.model, answered.created, include_usage)

    def error_body(self, error: RouterError) -> bytes:
        return dumps(router_error_json(error))
