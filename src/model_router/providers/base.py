"""The Provider protocol every adapter implements, and what it is given."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from model_router.domain.completion import Completion, StreamEvent
from model_router.domain.embeddings import EmbeddingRequest, Embeddings
from model_router.domain.request import WIRE_PROTOCOLS, Request, WireProtocol
from model_router.providers.http import Client

Protocol_ = WireProtocol
PROTOCOLS: tuple[Protocol_, ...] = WIRE_PROTOCOLS


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
    # False for a model known to read text only (images and PDFs are refused
    # when translating); None when unknown (sent, the upstream decides).
    reads_images: bool | None = None


class Provider(Protocol):
    """A wire protocol, spoken from the neutral `Request`.

    When `request.native` is a body of the adapter's own protocol, the adapter
    sends it on (model swapped, the router's own fields removed) and returns
    the upstream's own answer beside the parsed one (`Completion.native`, or a
    `NativeFrame` before the events of each streamed frame, where a front door
    of that protocol reads them). Otherwise it translates the neutral fields,
    and refuses (`UnsupportedFeature`, a 400 naming the field) what it cannot
    express.
    """

    config: ProviderConfig

    async def complete(self, request: Request, target: Target) -> Completion: ...

    def stream(self, request: Request, target: Target) -> AsyncIterator[StreamEvent]: ...


class EmbeddingProvider(Provider, Protocol):
    """An adapter whose protocol has an embeddings endpoint (the registry says
    which). It refuses (`UnsupportedFeature`, a 400 naming the field) what its
    endpoint cannot take, such as token arrays for Gemini."""

    async def embed(self, request: EmbeddingRequest, target: Target) -> Embeddings: ...


@runtime_checkable
class TokenCounter(Protocol):
    """An adapter whose upstream counts a request's input tokens itself
    (Anthropic's `POST /v1/messages/count_tokens`), given the client's body."""

    async def count_tokens(
        self, body: dict[str, Any], headers: Mapping[str, str], target: Target
    ) -> int: ...


class ProviderFactory(Protocol):
    def __call__(self, config: ProviderConfig, client: Client) -> Provider: ...
