"""The provider-neutral request: what every front door translates into and
every provider adapter translates out of."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from model_router.domain.content import Json, Message, Opaque

WireProtocol = Literal["openai", "anthropic", "gemini"]
WIRE_PROTOCOLS: tuple[WireProtocol, ...] = ("openai", "anthropic", "gemini")

FrontDoor = Literal["chat_completions", "messages", "responses", "embeddings"]

ROUTER_FIELDS = frozenset({"models", "routing", "cache"})
"""Body fields that steer the router itself (`Request.options`), never sent upstream."""


@dataclass(slots=True)
class Tool:
    """A function the model may call. `parameters` is a JSON Schema object.

    `builtin` is set for a tool the provider defines rather than the client
    (Anthropic's server tools such as `web_search_20250305`, or its own client
    tools such as `bash_20250124`), kept verbatim: only an adapter of its
    protocol can send it; others refuse it.
    """

    name: str
    description: str | None = None
    parameters: Json | None = None
    strict: bool | None = None
    cache_control: Json | None = None
    builtin: Opaque | None = None


@dataclass(frozen=True, slots=True)
class NamedTool:
    """`tool_choice` naming the one tool the model must call."""

    name: str


ToolChoice = Literal["auto", "none", "required"] | NamedTool


@dataclass(slots=True)
class OutputFormat:
    """What the answer must be: free text, any JSON object, or JSON matching `schema`."""

    type: Literal["text", "json_object", "json_schema"]
    schema: Json | None = None
    name: str | None = None
    strict: bool | None = None


@dataclass(slots=True)
class ReasoningConfig:
    """How much the model should think.

    `effort` in OpenAI's words ("none", "minimal", "low", "medium", "high",
    "xhigh", "max"); `budget_tokens` in Anthropic's (extended thinking);
    `mode` "enabled", "disabled" or "adaptive" (Anthropic's `thinking.type`).
    A provider maps whichever it can to its own knob.
    """

    effort: str | None = None
    budget_tokens: int | None = None
    mode: Literal["enabled", "disabled", "adaptive"] | None = None


@dataclass(frozen=True, slots=True)
class NativeBody:
    """A body in a protocol's own wire format, kept whole so that an upstream
    of the same protocol gets (or a front door of it returns) exactly it.

    `headers` are that protocol's own headers to pass on (for Anthropic:
    `anthropic-version`, `anthropic-beta`).
    """

    protocol: WireProtocol
    body: Json
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class Request:
    """One model call, whichever API it came through.

    `native` is the client's own body when its front door speaks a provider's
    protocol (Chat Completions: "openai", Messages: "anthropic"): an adapter of
    that protocol sends it on, model swapped, so nothing the core does not
    model is lost. Every other adapter translates the neutral fields.
    `dropped` lists the hints a translation dropped or clamped (for the
    request log); adapters append to it.
    `client_body` is the client's body as received, for a front door that
    echoes the request in its answer or whose conversation the service stores
    (Responses); no adapter reads it.

    `extras` are the client's top-level fields the core does not model, by
    their name in the door's protocol (`logprobs`, `modalities`, ...): an
    adapter of another protocol refuses those that would change the answer and
    ignores the rest. `options` are the router's own fields (`models`,
    `routing`, `cache`), never sent upstream.
    """

    model: str
    messages: list[Message]
    front_door: FrontDoor = "chat_completions"
    stream: bool = False
    max_output_tokens: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    top_k: int | None = None
    stop: list[str] = field(default_factory=list)
    seed: int | None = None
    user: str | None = None
    tools: list[Tool] = field(default_factory=list)
    tool_choice: ToolChoice | None = None
    parallel_tool_calls: bool | None = None
    output_format: OutputFormat | None = None
    reasoning: ReasoningConfig | None = None
    presence_penalty: float | None = None
    frequency_penalty: float | None = None
    metadata: dict[str, Any] | None = None
    native: NativeBody | None = None
    client_body: Json | None = None
    dropped: list[str] = field(default_factory=list)
    extras: dict[str, Any] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)

    def prompt_text(self) -> str:
        """The conversation as text, for the request log and its search."""
        return "\n".join([f"{m.role}: {m.text()}" for m in self.messages])
