"""Results before the neutral core (to be replaced by `completion`).

The request side is the OpenAI Chat Completions request itself
(`schemas.chat.ChatCompletionRequest`), since that is the router's public
contract; adapters translate it to their wire format.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from model_router.domain.usage import Usage

FinishReason = Literal["stop", "length", "tool_calls", "content_filter"]


@dataclass(slots=True)
class ToolCall:
    id: str
    name: str
    arguments: str  # a JSON string, as OpenAI sends it


@dataclass(slots=True)
class ChatResult:
    """A finished, non-streamed completion."""

    content: str | None
    finish_reason: FinishReason
    usage: Usage
    tool_calls: list[ToolCall] = field(default_factory=list)
    reasoning_content: str | None = None
    refusal: str | None = None
    upstream_id: str | None = None
    upstream_model: str | None = None


# Streaming: adapters yield these, in order; the chat service turns them into
# OpenAI `chat.completion.chunk` frames.


@dataclass(slots=True)
class TextDelta:
    text: str


@dataclass(slots=True)
class ReasoningDelta:
    text: str


@dataclass(slots=True)
class ToolCallDelta:
    """A fragment of one tool call. `index` counts tool calls only, from 0.

    `id` and `name` are set on the first fragment of a call, `arguments` is a
    piece of its JSON string.
    """

    index: int
    id: str | None = None
    name: str | None = None
    arguments: str = ""


@dataclass(slots=True)
class Finish:
    reason: FinishReason


@dataclass(slots=True)
class UsageReport:
    """Cumulative usage so far; the last one seen is the call's usage."""

    usage: Usage


@dataclass(slots=True)
class Flush:
    """Not an event: the upstream's latest network read is used up. The chat
    service sends the frames made since the last one in a single write."""


FLUSH = Flush()

StreamEvent = TextDelta | ReasoningDelta | ToolCallDelta | Finish | UsageReport | Flush
