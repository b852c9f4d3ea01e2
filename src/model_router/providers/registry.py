"""Protocol name -> adapter. The only place that switches on a provider kind.

One pooled HTTP client per provider, for the life of the process.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import cast

from model_router.errors import UnsupportedFeature
from model_router.providers.anthropic import AnthropicProvider
from model_router.providers.base import (
    EmbeddingProvider,
    Protocol_,
    Provider,
    ProviderConfig,
    ProviderFactory,
    TokenCounter,
)
from model_router.providers.gemini import GeminiProvider
from model_router.providers.http import Client
from model_router.providers.openai_compat import OpenAICompatProvider

ADAPTERS: dict[Protocol_, ProviderFactory] = {
    "openai": OpenAICompatProvider,
    "anthropic": AnthropicProvider,
    "gemini": GeminiProvider,
}

# The protocols with an embeddings endpoint (their adapters have `embed`).
EMBEDDING_PROTOCOLS: frozenset[Protocol_] = frozenset({"openai", "gemini"})


def token_counter(provider: Provider) -> TokenCounter | None:
    """The adapter, if its upstream counts tokens itself (a traced adapter's inner one)."""
    inner = getattr(provider, "inner", provider)
    return inner if isinstance(inner, TokenCounter) else None


def make_client(*, connect_timeout: float, read_timeout: float, max_connections: int) -> Client:
    """A keep-alive pool. `read_timeout` bounds each wait for bytes, not the whole
    answer, so long streams live as long as tokens keep coming."""
    return Client(
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
        max_connections=max_connections,
        keepalive=60.0,
    )


class ProviderPool:
    """The adapters in use, each with its own client, built on first use."""

    def __init__(
        self,
        *,
        connect_timeout: float,
        read_timeout: float,
        max_connections: int,
        wrap: Callable[[Provider], Provider] | None = None,
    ):
        self._timeouts = (connect_timeout, read_timeout, max_connections)
        # Tracing on: each adapter is handed out inside a wrapper that traces its calls.
        self._wrap = wrap
        self._providers: dict[str, Provider] = {}
        self._clients: dict[str, Client] = {}

    def get(self, config: ProviderConfig) -> Provider:
        provider = self._providers.get(config.name)
        if provider is None or provider.config != config:
            client = self._clients.get(config.name)
            if client is None:
                connect, read, limit = self._timeouts
                client = make_client(
                    connect_timeout=connect, read_timeout=read, max_connections=limit
                )
                self._clients[config.name] = client
            provider = ADAPTERS[config.protocol](config, client)
            if self._wrap is not None:
                provider = self._wrap(provider)
            self._providers[config.name] = provider
        return provider

    def embedder(self, config: ProviderConfig) -> EmbeddingProvider:
        """The adapter of `config` for an embeddings call; a 400 if its protocol has none."""
        if config.protocol not in EMBEDDING_PROTOCOLS:
            raise UnsupportedFeature(
                f"Provider '{config.name}' ({config.protocol}) has no embeddings endpoint.",
                param="model",
                code="unsupported_model",
            )
        return cast(EmbeddingProvider, self.get(config))

    async def aclose(self) -> None:
        for client in self._clients.values():
            await client.aclose()
        self._clients.clear()
        self._providers.clear()
