"""Content parts: what a message is made of, in every protocol.

A part is a plain dataclass; `cache_control` is Anthropic's prompt-caching
hint, kept so that a provider that understands it can send it on (others
drop it, and the request lists it among its dropped hints).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Json = dict[str, Any]
Role = Literal["system", "user", "assistant", "tool"]


@dataclass(slots=True)
class Text:
    text: str
    cache_control: Json | None = None


@dataclass(slots=True)
class Image:
    """An image by URL (`url`) or inline (`data`, base64, with `media_type`)."""

    url: str | None = None
    data: str | None = None
    media_type: str | None = None
    detail: str | None = None  # OpenAI's "auto" | "low" | "high"
    cache_control: Json | None = None


@dataclass(slots=True)
class Document:
    """A document: a PDF (base64 `data` or `url`) or plain text (`text`).

    `extra` keeps what only Anthropic reads (`citations`, `context`).
    """

    media_type: str
    data: str | None = None
    url: str | None = None
    text: str | None = None
    title: str | None = None
    extra: Json = field(default_factory=dict)
    cache_control: Json | None = None


@dataclass(slots=True)
class ToolCall:
    """A call the assistant made. `arguments` is a JSON string, as OpenAI sends it.

    `signature` is the provider's opaque proof that goes with the call when it is
    sent back (Gemini's thought signature)."""

    id: str
    name: str
    arguments: str
    cache_control: Json | None = None
    signature: str | None = None


@dataclass(slots=True)
class ToolResult:
    """The answer to a tool call, sent back by the client."""

    tool_call_id: str
    content: list[Text | Image | Document | Opaque]
    is_error: bool = False
    cache_control: Json | None = None

    def text(self) -> str:
        return "".join(p.text for p in self.content if isinstance(p, Text))


@dataclass(slots=True)
class Reasoning:
    """Thinking. `signature` is the provider's proof, needed to send it back."""

    text: str
    signature: str | None = None


@dataclass(slots=True)
class RedactedReasoning:
    """Thinking the provider encrypted (Anthropic's `redacted_thinking`)."""

    data: str


@dataclass(slots=True)
class Opaque:
    """A part the core does not model (OpenAI `input_audio`, `file`, ...), kept
    verbatim: only a provider of `protocol` can send it; others refuse it."""

    protocol: str
    kind: str
    raw: Json


Part = Text | Image | Document | ToolCall | ToolResult | Reasoning | RedactedReasoning | Opaque
OutputPart = Text | ToolCall | Reasoning | RedactedReasoning


@dataclass(slots=True)
class Message:
    """One turn. System instructions are messages of role "system", in place.

    A "tool" message holds the `ToolResult`s of one or more calls.
    """

    role: Role
    parts: list[Part]
    name: str | None = None

    def text(self) -> str:
        """The text parts joined; other parts are left out."""
        out: list[str] = []
        for part in self.parts:
            if isinstance(part, Text):
                out.append(part.text)
            elif isinstance(part, ToolResult):
                out.append(part.text())
        return "".join(out)
