"""The Provider protocol every adapter implements, and what it is given."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from model_router.domain import ChatResult, StreamEvent
from model_router.providers.http import Client
from model_router.schemas.chat import ChatCompletionRequest

Protocol_ = Literal["openai", "anthropic", "gemini"]
PROTOCOLS: tuple[Protocol_, ...] = ("openai", "anthropic", "gemini")


@dataclass(frozen=True, slots=True)
class ProviderConfig:
    """One upstream account: a protocol, where it lives and the key to use."""

    name: str
    protocol: Protocol_
    base_url: str
    api_key: str | None
    api_key_setting: str
    # Azure OpenAI and some self-hosted servers want the key in another header.
    auth_header: str = "authorization"


@dataclass(frozen=True, slots=True)
class Target:
    """The model an adapter is asked to call, with the limits it needs."""

    upstream_model: str
    max_output_tokens: int | None = None
    context_window: int | None = None
    # Fields added to the upstream body (e.g. DeepSeek's `thinking` for an alias).
    extra_body: Mapping[str, Any] = field(default_factory=dict)


class Provider(Protocol):
    """A wire protocol. `body` is the client's raw JSON, for pass-through."""

    config: ProviderConfig

    async def complete(
        self, request: ChatCompletionRequest, body: dict[str, Any], target: Target
    ) -> ChatResult: ...

    def stream(
        self, request: ChatCompletionRequest, body: dict[str, Any], target: Target
    ) -> AsyncIterator[StreamEvent]: ...


class ProviderFactory(Protocol):
    def __call__(self, config: ProviderConfig, client: Client) -> Provider: ...
