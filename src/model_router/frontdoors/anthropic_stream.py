"""A streamed answer in Anthropic's event sequence:

    message_start                     (empty content, the usage known so far)
    content_block_start  index 0      (then one `ping`, after the first block opens)
    content_block_delta  index 0 ...  (text_delta, thinking_delta, signature_delta,
    content_block_stop   index 0       input_json_delta)
    content_block_start  index 1 ...
    message_delta                     (stop_reason, stop_sequence, the final usage)
    message_stop

A block is opened each time the kind of content changes (thinking -> text ->
tool_use) and for each new tool call; a signature closes its thinking block;
a redacted thinking block opens and closes at once. `message_start` waits for
the first content (or the end), so that usage an upstream reports up front
(Anthropic's own input count) is in it.

When the upstream speaks Anthropic too, the stream starts with a
`NativeFrame`: from then on the upstream's frames go out verbatim and the
parsed events are ignored, so nothing the core does not model is lost.

Each call returns the bytes it made, at once; the service holds them until a
`Flush` (which makes nothing itself) and writes them in one go.
"""

from __future__ import annotations

from typing import Any

from model_router.domain.completion import (
    Completion,
    Finish,
    Flush,
    NativeFrame,
    ReasoningDelta,
    ReasoningSignature,
    RedactedReasoningBlock,
    StreamEvent,
    TextDelta,
    ToolCallDelta,
    UsageReport,
)
from model_router.domain.usage import Usage
from model_router.errors import RouterError
from model_router.frontdoors.anthropic_render import (
    error_json,
    message_id,
    stop_reason,
    usage_json,
)
from model_router.frontdoors.base import Answered, sse

PING = sse("ping", {"type": "ping"})


class MessagesStreamWriter:
    """Frames one streamed answer as Anthropic server-sent events."""

    def __init__(self, answered: Answered) -> None:
        self._answered = answered
        self._native: bool | None = None  # decided by the first event that is not a Flush
        self._started = False
        self._pinged = False
        self._usage = Usage()
        self._index = -1
        self._open: tuple[str, int] | None = None  # (kind, tool call index) of the open block

    def event(self, event: StreamEvent) -> bytes:
        if isinstance(event, NativeFrame):
            if self._native is None:
                self._native = event.protocol == "anthropic"
            return event.frame if self._native else b""
        if self._native or isinstance(event, Flush):
            return b""
        self._native = False
        if isinstance(event, UsageReport):
            self._usage = event.usage
            return b""
        if isinstance(event, Finish):
            return self._close_block()
        return self._content(event)

    def close(self, completion: Completion, answered: Answered) -> bytes:
        if self._native:
            return b""
        usage = usage_json(completion.usage, answered.cost)
        delta = {
            "type": "message_delta",
            "delta": {
                "stop_reason": stop_reason(completion.finish_reason, completion.stop_sequence),
                "stop_sequence": completion.stop_sequence,
            },
            "usage": usage,
        }
        return (
            self._start()
            + self._close_block()
            + sse("message_delta", delta)
            + sse("message_stop", {"type": "message_stop"})
        )

    def error(self, error: RouterError) -> bytes:
        return sse("error", error_json(error))

    # --- blocks ---------------------------------------------------------------------

    def _content(self, event: StreamEvent) -> bytes:
        if isinstance(event, TextDelta):
            head = self._block("text", {"type": "text", "text": ""})
            return head + self._delta({"type": "text_delta", "text": event.text})
        if isinstance(event, ReasoningDelta):
            head = self._block("thinking", {"type": "thinking", "thinking": "", "signature": ""})
            return head + self._delta({"type": "thinking_delta", "thinking": event.text})
        if isinstance(event, ReasoningSignature):
            head = self._block("thinking", {"type": "thinking", "thinking": "", "signature": ""})
            frame = self._delta({"type": "signature_delta", "signature": event.signature})
            return head + frame + self._close_block()
        if isinstance(event, RedactedReasoningBlock):
            block = {"type": "redacted_thinking", "data": event.data}
            return self._block("redacted_thinking", block) + self._close_block()
        if isinstance(event, ToolCallDelta):
            return self._tool_call(event)
        return b""

    def _tool_call(self, event: ToolCallDelta) -> bytes:
        head = b""
        if self._open != ("tool_use", event.index):
            block = {
                "type": "tool_use",
                "id": event.id
                or f"toolu_{self._answered.request_id.replace('-', '')}_{event.index}",
                "name": event.name or "",
                "input": {},
            }
            head = self._block("tool_use", block, event.index)
        if not event.arguments:
            return head
        return head + self._delta({"type": "input_json_delta", "partial_json": event.arguments})

    def _block(self, kind: str, block: dict[str, Any], call: int = -1) -> bytes:
        """Open a block of `kind` unless one is open already; "" if so."""
        if self._open == (kind, call):
            return b""
        frames = self._start() + self._close_block()
        self._index += 1
        self._open = (kind, call)
        start = {"type": "content_block_start", "index": self._index, "content_block": block}
        frames += sse("content_block_start", start)
        if not self._pinged:
            self._pinged = True
            frames += PING
        return frames

    def _delta(self, delta: dict[str, Any]) -> bytes:
        body = {"type": "content_block_delta", "index": self._index, "delta": delta}
        return sse("content_block_delta", body)

    def _close_block(self) -> bytes:
        if self._open is None:
            return b""
        self._open = None
        return sse("content_block_stop", {"type": "content_block_stop", "index": self._index})

    def _start(self) -> bytes:
        if self._started:
            return b""
        self._started = True
        answered = self._answered
        message: dict[str, Any] = {
            "id": message_id(answered),
            "type": "message",
            "role": "assistant",
            "model": answered.model,
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": usage_json(self._usage, None),
            "provider": answered.provider,
        }
        return sse("message_start", {"type": "message_start", "message": message})
