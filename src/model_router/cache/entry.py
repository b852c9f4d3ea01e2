"""A cached answer: what is stored (a neutral `Completion`, with the model that
gave it and what it cost), and the stream events that replay it, so that any
front door can answer a hit in its own format."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import orjson

from model_router.domain.completion import (
    Completion,
    Finish,
    FinishReason,
    ReasoningDelta,
    ReasoningSignature,
    RedactedReasoningBlock,
    StreamEvent,
    TextDelta,
    ToolCallDelta,
)
from model_router.domain.content import OutputPart, Reasoning, RedactedReasoning, Text, ToolCall
from model_router.domain.usage import Usage

FINISH: dict[str, FinishReason] = {
    "stop": "stop",
    "length": "length",
    "tool_calls": "tool_calls",
    "content_filter": "content_filter",
}
PIECE = 64  # characters of text per replayed event


@dataclass(frozen=True, slots=True)
class CachedAnswer:
    model: str
    provider: str | None
    parts: list[OutputPart]
    finish_reason: FinishReason
    stop_sequence: str | None = None
    cost_usd: Decimal | None = None  # what the original call cost: a hit saves this

    @classmethod
    def of(
        cls, model: str, provider: str | None, completion: Completion, cost_usd: Decimal | None
    ) -> CachedAnswer | None:
        """The answer to keep; None when there is nothing to replay."""
        if completion.text is None and not completion.tool_calls:
            return None
        return cls(
            model,
            provider,
            list(completion.parts),
            completion.finish_reason,
            completion.stop_sequence,
            cost_usd,
        )

    def completion(self) -> Completion:
        """As a completion that consumed nothing: a hit costs no tokens."""
        return Completion(list(self.parts), self.finish_reason, Usage(), self.stop_sequence)

    def to_bytes(self) -> bytes:
        return orjson.dumps(
            {
                "model": self.model,
                "provider": self.provider,
                "parts": [_part_json(p) for p in self.parts],
                "finish_reason": self.finish_reason,
                "stop_sequence": self.stop_sequence,
                "cost_usd": None if self.cost_usd is None else str(self.cost_usd),
            }
        )

    @classmethod
    def from_bytes(cls, raw: bytes) -> CachedAnswer | None:
        """None for anything unreadable (another version's entry): a miss."""
        try:
            data = orjson.loads(raw)
            cost = data.get("cost_usd")
            return cls(
                model=str(data["model"]),
                provider=data.get("provider"),
                parts=[_part_of(p) for p in data["parts"]],
                finish_reason=FINISH.get(str(data.get("finish_reason")), "stop"),
                stop_sequence=data.get("stop_sequence"),
                cost_usd=None if cost is None else Decimal(str(cost)),
            )
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError, ArithmeticError):
            return None


def _part_json(part: OutputPart) -> dict[str, Any]:
    if isinstance(part, Text):
        return {"type": "text", "text": part.text}
    if isinstance(part, Reasoning):
        return {"type": "reasoning", "text": part.text, "signature": part.signature}
    if isinstance(part, RedactedReasoning):
        return {"type": "redacted_reasoning", "data": part.data}
    return {"type": "tool_call", "id": part.id, "name": part.name, "arguments": part.arguments}


def _part_of(data: dict[str, Any]) -> OutputPart:
    kind = data["type"]
    if kind == "text":
        return Text(str(data["text"]))
    if kind == "reasoning":
        return Reasoning(str(data["text"]), data.get("signature"))
    if kind == "redacted_reasoning":
        return RedactedReasoning(str(data["data"]))
    if kind == "tool_call":
        return ToolCall(str(data["id"]), str(data["name"]), str(data["arguments"]))
    raise ValueError(kind)


def replay(answer: CachedAnswer) -> list[StreamEvent]:
    """The events a live stream of the answer would have carried (text in pieces)."""
    events: list[StreamEvent] = []
    calls = 0
    for part in answer.parts:
        if isinstance(part, Text):
            text = part.text
            events.extend(TextDelta(text[i : i + PIECE]) for i in range(0, len(text), PIECE))
        elif isinstance(part, Reasoning):
            if part.text:
                events.append(ReasoningDelta(part.text))
            if part.signature:
                events.append(ReasoningSignature(part.signature))
        elif isinstance(part, RedactedReasoning):
            events.append(RedactedReasoningBlock(part.data))
        else:
            events.append(ToolCallDelta(calls, part.id, part.name, part.arguments))
            calls += 1
    events.append(Finish(answer.finish_reason, answer.stop_sequence))
    return events
