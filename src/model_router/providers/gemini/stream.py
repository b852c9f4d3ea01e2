"""`streamGenerateContent?alt=sse` chunks -> stream events.

Each SSE `data:` line is a whole GenerateContentResponse carrying only the new
text. Function calls arrive whole, so each becomes one ToolCallDelta with its
full arguments. `finishReason` comes on the last chunk, `usageMetadata` is
cumulative, and there is no `[DONE]`: the stream ends with the body.
"""

from __future__ import annotations

from typing import Any

from model_router.domain.completion import (
    Finish,
    ReasoningDelta,
    StreamEvent,
    TextDelta,
    ToolCallDelta,
    UsageReport,
)
from model_router.providers.gemini.translate import (
    candidate_parts,
    embedded_error,
    function_call,
    map_finish,
    parse_usage,
)
from model_router.providers.http import malformed


class StreamState:
    """Translates the chunks of one stream, in order."""

    def __init__(self, provider: str) -> None:
        self.provider = provider
        self.tool_calls = 0  # tool-call index across chunks
        self.finished = False

    def feed(self, data: Any) -> list[StreamEvent]:
        """The events in one chunk; a mid-stream error payload raises UpstreamError."""
        if not isinstance(data, dict):
            raise malformed(self.provider, "stream chunk is not a JSON object")
        if "error" in data:
            raise embedded_error(self.provider, data)
        events: list[StreamEvent] = []
        candidates = data.get("candidates")
        if candidates:
            if not isinstance(candidates, list) or not isinstance(candidates[0], dict):
                raise malformed(self.provider, "candidates[0] is not an object")
            events.extend(self._parts(data))
            if reason := candidates[0].get("finishReason"):
                finish = map_finish(
                    reason, has_tool_calls=self.tool_calls > 0, provider=self.provider
                )
                events.append(Finish(finish))
                self.finished = True
        elif (data.get("promptFeedback") or {}).get("blockReason"):
            events.append(Finish("content_filter"))
            self.finished = True
        if usage := data.get("usageMetadata"):
            events.append(UsageReport(parse_usage(usage)))
        return events

    def _parts(self, data: dict[str, Any]) -> list[StreamEvent]:
        events: list[StreamEvent] = []
        for part in candidate_parts(data, self.provider):
            if "functionCall" in part:
                call = function_call(part, self.provider)
                events.append(ToolCallDelta(self.tool_calls, call.id, call.name, call.arguments))
                self.tool_calls += 1
            elif isinstance(text := part.get("text"), str) and text:
                events.append(ReasoningDelta(text) if part.get("thought") else TextDelta(text))
        return events
