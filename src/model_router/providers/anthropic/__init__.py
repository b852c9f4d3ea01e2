"""Anthropic Messages API (`POST {base_url}/v1/messages`).

`translate` holds the pure request/response translation and what is refused
or dropped; `stream` turns server-sent events into StreamEvents. This module
only sends requests.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any

import orjson

from model_router.domain.completion import FLUSH, Completion, NativeFrame, StreamEvent
from model_router.domain.request import NativeBody, Request
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
    decoded,
    error_from_response,
    malformed,
    open_stream,
    post,
    sse_json_batches,
)

__all__ = ["AnthropicProvider"]

PASSED_HEADERS = ("anthropic-version", "anthropic-beta")


def sse_frame(event: str | None, data: bytes) -> bytes:
    """One SSE frame as Anthropic sends it (`event:` line, `data:` line), its
    data passed on as the upstream wrote it (on one line: SSE data sent over
    several `data:` lines arrives joined by newlines)."""
    if b"\n" in data:
        data = orjson.dumps(orjson.loads(data))
    if event:
        return b"event: " + event.encode() + b"\ndata: " + data + b"\n\n"
    return b"data: " + data + b"\n\n"


class AnthropicProvider:
    def __init__(self, config: ProviderConfig, client: Client) -> None:
        self.config = config
        self._client = client
        # ANTHROPIC_BASE_URL has no /v1, as with the official SDK.
        self._url = config.base_url.rstrip("/") + "/v1/messages"
        self._count_url = self._url + "/count_tokens"
        self._headers = {
            "content-type": "application/json",
            "anthropic-version": ANTHROPIC_VERSION,
        }
        if config.api_key:
            self._headers["x-api-key"] = config.api_key

    def _headers_for(self, request: Request) -> dict[str, str]:
        """Ours, with the client's own `anthropic-version` and `anthropic-beta` on a
        native request."""
        native = request.native
        if native is None or native.protocol != "anthropic" or not native.headers:
            return self._headers
        headers = dict(self._headers)
        for name in PASSED_HEADERS:
            if value := native.headers.get(name):
                headers[name] = value
        return headers

    async def complete(self, request: Request, target: Target) -> Completion:
        payload = to_request(request, target, stream=False)
        name = self.config.name
        headers = self._headers_for(request)
        raw = await post(self._client, name, self._url, payload, headers, parse_error)
        data = decoded(raw, name)
        if isinstance(data, dict) and data.get("type") == "error":
            raise error_from_response(name, 502, NO_HEADERS, raw, parse_error)
        completion = from_response(data, name)
        if request.native is not None and request.native.protocol == "anthropic":
            completion.native = NativeBody("anthropic", data)
        return completion

    async def stream(self, request: Request, target: Target) -> AsyncIterator[StreamEvent]:
        payload = to_request(request, target, stream=True)
        name = self.config.name
        state = StreamState(name)
        native = request.native is not None and request.native.protocol == "anthropic"
        headers = self._headers_for(request)
        async with open_stream(
            self._client, name, self._url, payload, headers, parse_error
        ) as response:
            async for batch in sse_json_batches(response, name, "stream event"):
                for event, decoded, raw in batch:
                    if native:
                        yield NativeFrame("anthropic", sse_frame(event, raw))
                    for item in state.feed(event, decoded):
                        yield item
                    if state.done:
                        return
                yield FLUSH
        if not state.finished:
            raise malformed(name, "the stream ended before message_delta")

    async def count_tokens(
        self, body: dict[str, Any], headers: Mapping[str, str], target: Target
    ) -> int:
        """`POST /v1/messages/count_tokens` upstream: the client's body, model swapped,
        with its `anthropic-version` and `anthropic-beta`."""
        sent = dict(self._headers)
        for name in PASSED_HEADERS:
            if value := headers.get(name):
                sent[name] = value
        payload = {**body, "model": target.upstream_model}
        name = self.config.name
        raw = await post(self._client, name, self._count_url, payload, sent, parse_error)
        data = decoded(raw, name)
        tokens = data.get("input_tokens") if isinstance(data, dict) else None
        if not isinstance(tokens, int):
            raise malformed(name, "count_tokens answered without input_tokens")
        return tokens
