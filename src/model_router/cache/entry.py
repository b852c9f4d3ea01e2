"""A cached answer: what is stored, built from a successful call's row, and
replayed as a completion or as a stream of `chat.completion.chunk` frames."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import orjson

from model_router.domain import ChatResult, FinishReason, ToolCall, Usage
from model_router.schemas.render import ChunkWriter

FINISH: dict[str, FinishReason] = {
    "stop": "stop",
    "length": "length",
    "tool_calls": "tool_calls",
    "content_filter": "content_filter",
}
PIECE = 64  # characters of content per replayed chunk


@dataclass(frozen=True, slots=True)
class CachedAnswer:
    model: str
    provider: str | None
    content: str | None
    finish_reason: FinishReason
    reasoning_content: str | None = None
    tool_calls: list[dict[str, str]] = field(default_factory=list)
    cost_usd: Decimal | None = None  # what the original call cost: a hit saves this

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> CachedAnswer | None:
        """The answer of a successful call's row; None when there is nothing to replay."""
        content, calls = row.get("response_text"), row.get("tool_calls") or []
        if content is None and not calls:
            return None
        return cls(
            model=str(row["model"]),
            provider=row.get("provider"),
            content=content,
            finish_reason=FINISH.get(str(row.get("finish_reason")), "stop"),
            reasoning_content=row.get("reasoning_text"),
            tool_calls=[
                {"id": str(c["id"]), "name": str(c["name"]), "arguments": str(c["arguments"])}
                for c in calls
            ],
            cost_usd=row.get("total_cost_usd"),
        )

    def to_bytes(self) -> bytes:
        return orjson.dumps(
            {
                "model": self.model,
                "provider": self.provider,
                "content": self.content,
                "finish_reason": self.finish_reason,
                "reasoning_content": self.reasoning_content,
                "tool_calls": self.tool_calls,
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
                content=data.get("content"),
                finish_reason=FINISH.get(str(data.get("finish_reason")), "stop"),
                reasoning_content=data.get("reasoning_content"),
                tool_calls=[dict(c) for c in data.get("tool_calls") or []],
                cost_usd=None if cost is None else Decimal(str(cost)),
            )
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError, ArithmeticError):
            return None

    def result(self) -> ChatResult:
        """As a result that consumed nothing: a hit costs no tokens."""
        return ChatResult(
            content=self.content,
            finish_reason=self.finish_reason,
            usage=Usage(),
            tool_calls=[ToolCall(c["id"], c["name"], c["arguments"]) for c in self.tool_calls],
            reasoning_content=self.reasoning_content,
        )


async def replay(
    answer: CachedAnswer,
    writer: ChunkWriter,
    *,
    include_usage: bool,
    usage_chunk: Callable[[], bytes],
    on_first: Callable[[], None],
    done: bytes,
) -> AsyncIterator[bytes]:
    """The answer as the frames a live stream would have sent, ending with [DONE]."""
    yield writer.chunk({"role": "assistant", "content": ""})
    on_first()
    if answer.reasoning_content:
        yield writer.chunk({"reasoning_content": answer.reasoning_content})
    text = answer.content or ""
    for start in range(0, len(text), PIECE):
        yield writer.chunk({"content": text[start : start + PIECE]})
    for index, call in enumerate(answer.tool_calls):
        yield writer.chunk(
            {
                "tool_calls": [
                    {
                        "index": index,
                        "id": call["id"],
                        "type": "function",
                        "function": {"name": call["name"], "arguments": call["arguments"]},
                    }
                ]
            }
        )
    yield writer.chunk({}, answer.finish_reason)
    if include_usage:
        yield usage_chunk()
    yield done
