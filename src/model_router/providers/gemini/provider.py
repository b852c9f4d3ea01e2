"""The Gemini adapter: `generateContent` and `streamGenerateContent?alt=sse`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote

from model_router.domain.completion import FLUSH, Completion, StreamEvent
from model_router.domain.embeddings import EmbeddingRequest, Embeddings
from model_router.domain.request import Request
from model_router.providers.base import ProviderConfig, Target
from model_router.providers.gemini.embed import from_batch_response, to_batch_request
from model_router.providers.gemini.errors import Json
from model_router.providers.gemini.stream import StreamState
from model_router.providers.gemini.translate import (
    embedded_error,
    from_response,
    gemini_error,
    parse_error,
    to_request,
)
from model_router.providers.http import (
    Client,
    decoded,
    malformed,
    open_stream,
    post,
    sse_json_batches,
)


class GeminiProvider:
    def __init__(self, config: ProviderConfig, client: Client) -> None:
        self.config = config
        self._client = client
        # GEMINI_BASE_URL is the host; tolerate one given with the API version.
        self._base = config.base_url.rstrip("/").removesuffix("/v1beta") + "/v1beta/models/"
        self._headers = {"content-type": "application/json"}
        if config.api_key:
            self._headers["x-goog-api-key"] = config.api_key

    def _url(self, target: Target, method: str) -> str:
        model = target.upstream_model.removeprefix("models/")
        return f"{self._base}{quote(model, safe='')}:{method}"

    async def _post(self, target: Target, method: str, payload: Json, answer: str) -> Any:
        """POST to `models/{model}:{method}`; an error inside a 200 (no `answer`
        field) raises as its code says."""
        name = self.config.name
        url = self._url(target, method)
        raw = await post(
            self._client, name, url, payload, self._headers, parse_error, map_error=gemini_error
        )
        data = decoded(raw, name)
        if isinstance(data, dict) and "error" in data and answer not in data:
            raise embedded_error(name, data)
        return data

    async def complete(self, request: Request, target: Target) -> Completion:
        data = await self._post(
            target, "generateContent", to_request(request, target), "candidates"
        )
        return from_response(data, self.config.name)

    async def embed(self, request: EmbeddingRequest, target: Target) -> Embeddings:
        payload = to_batch_request(request, target)
        data = await self._post(target, "batchEmbedContents", payload, "embeddings")
        return from_batch_response(data, self.config.name, request)

    async def stream(self, request: Request, target: Target) -> AsyncIterator[StreamEvent]:
        payload = to_request(request, target)
        name = self.config.name
        url = self._url(target, "streamGenerateContent") + "?alt=sse"
        state = StreamState(name)
        async with open_stream(
            self._client, name, url, payload, self._headers, parse_error, map_error=gemini_error
        ) as response:
            async for batch in sse_json_batches(response, name, "stream chunk"):
                for _event, chunk, _raw in batch:
                    for event in state.feed(chunk):
                        yield event
                yield FLUSH
        if not state.finished:
            raise malformed(name, "the stream ended before a finishReason")
