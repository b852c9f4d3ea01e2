"""Anthropic Messages server-sent events -> the router's StreamEvents.

    message_start         UsageReport (input and cache counts)
    content_block_start   TextDelta / ReasoningDelta if the block starts with text,
                          ToolCallDelta(index, id, name) for a tool_use block,
                          RedactedReasoningBlock for a redacted_thinking block
    content_block_delta   TextDelta, ReasoningDelta, ToolCallDelta(index, arguments),
                          ReasoningSignature (signature_delta)
    message_delta         Finish, then UsageReport (cumulative: overwritten, never added)
    message_stop          the end
    ping, content_block_stop, citations_delta: nothing
    error                 raises an UpstreamError (503 if overloaded, else 502)

Anthropic's `index` counts every content block; a ToolCallDelta's counts tool
calls only, from 0, as OpenAI's does.
"""

from __future__ import annotations

from typing import Any

import orjson

from model_router.domain.completion import (
    Finish,
    ReasoningDelta,
    ReasoningSignature,
    RedactedReasoningBlock,
    StreamEvent,
    TextDelta,
    ToolCallDelta,
    UsageReport,
)
from model_router.errors import UpstreamError
from model_router.providers.anthropic.response import map_stop_reason, parse_error, parse_usage
from model_router.providers.http import NO_HEADERS, error_from_response, malformed


class StreamState:
    """Translates the events of one streamed response, in order."""

    def __init__(self, provider: str) -> None:
        self.provider = provider
        self.finished = False  # message_delta with a stop_reason seen
        self.done = False  # message_stop seen
        self._usage: dict[str, Any] = {}
        self._tool_calls: dict[int, int] = {}  # block index -> tool call index

    def feed(self, event: str | None, data: Any) -> list[StreamEvent]:
        """The StreamEvents for one SSE event (`event:` name and decoded `data:`)."""
        if not isinstance(data, dict):
            raise malformed(self.provider, "stream event is not a JSON object")
        kind = event or data.get("type")
        try:
            if kind == "message_start":
                return self._usage_update(data["message"].get("usage"))
            if kind == "content_block_start":
                return self._block_start(int(data["index"]), data["content_block"])
            if kind == "content_block_delta":
                return self._block_delta(int(data["index"]), data["delta"])
            if kind == "message_delta":
                return self._message_delta(data)
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            raise malformed(self.provider, f"bad {kind} event") from exc
        if kind == "error":
            raise stream_error(self.provider, data)
        if kind == "message_stop":
            self.done = True
        return []

    def _usage_update(self, raw: Any) -> list[StreamEvent]:
        if not isinstance(raw, dict):
            return []
        self._usage.update({k: v for k, v in raw.items() if v is not None})
        return [UsageReport(parse_usage(self._usage))]

    def _block_start(self, index: int, block: dict[str, Any]) -> list[StreamEvent]:
        kind = block.get("type")
        if kind == "tool_use":
            call = self._tool_calls[index] = len(self._tool_calls)
            return [ToolCallDelta(index=call, id=str(block["id"]), name=str(block["name"]))]
        if kind == "text" and block.get("text"):
            return [TextDelta(str(block["text"]))]
        if kind == "thinking" and block.get("thinking"):
            return [ReasoningDelta(str(block["thinking"]))]
        if kind == "redacted_thinking":
            return [RedactedReasoningBlock(str(block["data"]))]
        return []

    def _block_delta(self, index: int, delta: dict[str, Any]) -> list[StreamEvent]:
        kind = delta.get("type")
        if kind == "text_delta" and delta.get("text"):
            return [TextDelta(str(delta["text"]))]
        if kind == "thinking_delta" and delta.get("thinking"):
            return [ReasoningDelta(str(delta["thinking"]))]
        if kind == "signature_delta" and delta.get("signature"):
            return [ReasoningSignature(str(delta["signature"]))]
        if kind == "input_json_delta" and delta.get("partial_json") and index in self._tool_calls:
            return [ToolCallDelta(index=self._tool_calls[index], arguments=delta["partial_json"])]
        return []

    def _message_delta(self, data: dict[str, Any]) -> list[StreamEvent]:
        events: list[StreamEvent] = []
        delta = data.get("delta") or {}
        reason = delta.get("stop_reason")
        if reason is not None:
            self.finished = True
            events.append(Finish(map_stop_reason(reason), delta.get("stop_sequence")))
        return events + self._usage_update(data.get("usage"))


def stream_error(provider: str, data: dict[str, Any]) -> UpstreamError:
    """The error for an `event: error` frame: 503 if Anthropic is overloaded, else 502."""
    error = data.get("error")
    overloaded = isinstance(error, dict) and error.get("type") == "overloaded_error"
    return error_from_response(
        provider, 529 if overloaded else 502, NO_HEADERS, orjson.dumps(data), parse_error
    )
