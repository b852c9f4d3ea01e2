"""Anthropic Messages API (`POST {base_url}/v1/messages`).

`translate` holds the pure request/response translation and what is refused
or dropped; `stream` turns server-sent events into StreamEvents. This module
only sends requests.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import orjson

from model_router.domain import FLUSH, ChatResult, StreamEvent
from model_router.providers.anthropic.stream import StreamState
from model_router.providers.anthropic.translate import (
    ANTHROPIC_VERSION,
    from_response,
    parse_error,
    to_request,
)
from model_router.providers.base import ProviderConfig, Target
from model_router.providers.http import (
    NO_HEADERS,
    Client,
    error_from_response,
    malformed,
    open_stream,
    post_json,
    sse_json_batches,
)
from model_router.schemas.chat import ChatCompletionRequest

__all__ = ["AnthropicProvider"]


class AnthropicProvider:
    def __init__(self, config: ProviderConfig, client: Client) -> None:
        self.config = config
        self._client = client
        # ANTHROPIC_BASE_URL has no /v1, as with the official SDK.
        self._url = config.base_url.rstrip("/") + "/v1/messages"
        self._headers = {
            "content-type": "application/json",
            "anthropic-version": ANTHROPIC_VERSION,
        }
        if config.api_key:
            self._headers["x-api-key"] = config.api_key

    async def complete(
        self, request: ChatCompletionRequest, body: dict[str, Any], target: Target
    ) -> ChatResult:
        payload = to_request(request, target, stream=False)
        name = self.config.name
        data = await post_json(self._client, name, self._url, payload, self._headers, parse_error)
        if isinstance(data, dict) and data.get("type") == "error":
            raise error_from_response(name, 502, NO_HEADERS, orjson.dumps(data), parse_error)
        return from_response(data, name)

    async def stream(
        self, request: ChatCompletionRequest, body: dict[str, Any], target: Target
    ) -> AsyncIterator[StreamEvent]:
        payload = to_request(request, target, stream=True)
        name = self.config.name
        state = StreamState(name)
        async with open_stream(
            self._client, name, self._url, payload, self._headers, parse_error
        ) as response:
            async for batch in sse_json_batches(response, name, "stream event"):
                for event, decoded in batch:
                    for item in state.feed(event, decoded):
                        yield item
                    if state.done:
                        return
                yield FLUSH
        if not state.finished:
            raise malformed(name, "the stream ended before message_delta")
