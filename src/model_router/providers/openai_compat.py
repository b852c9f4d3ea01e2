"""OpenAI Chat Completions: OpenAI itself, DeepSeek, Azure OpenAI and every
OpenAI-compatible server. Vendors differ only in configuration.

A request that came with an OpenAI body (`request.native`, the Chat
Completions front door) is passed through with the upstream model name swapped
in, so fields the router does not know still reach the provider. Any other is
translated from the neutral fields (`openai_body`). Streams yield no
`NativeFrame`s: the only front door of this protocol renders its own chunks.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from typing import Any

import orjson

from model_router.domain.completion import (
    FLUSH,
    Completion,
    Finish,
    FinishReason,
    ReasoningDelta,
    StreamEvent,
    TextDelta,
    ToolCallDelta,
    UsageReport,
)
from model_router.domain.content import OutputPart, Reasoning, Text, ToolCall
from model_router.domain.embeddings import EmbeddingRequest, Embeddings
from model_router.domain.request import ROUTER_FIELDS, NativeBody, Request
from model_router.domain.usage import Usage
from model_router.errors import UpstreamError
from model_router.providers import openai_embed
from model_router.providers.base import ProviderConfig, Target
from model_router.providers.http import (
    NO_HEADERS,
    Client,
    ErrorFields,
    decoded,
    error_from_response,
    malformed,
    open_stream,
    post,
    sse_batches,
)
from model_router.providers.openai_body import body_from_request

FINISH_REASONS: dict[str, FinishReason] = {
    "stop": "stop",
    "length": "length",
    "tool_calls": "tool_calls",
    "function_call": "tool_calls",
    "content_filter": "content_filter",
    "insufficient_system_resource": "length",  # DeepSeek: output cut short
}


def to_request(request: Request, target: Target, *, stream: bool) -> dict[str, Any]:
    """The upstream body: the client's own when it is an OpenAI body, else the
    translation of the neutral request; with the upstream model, and usage on streams."""
    native = request.native
    if native is not None and native.protocol == "openai":
        payload = {k: v for k, v in native.body.items() if k not in ROUTER_FIELDS}
    else:
        payload = body_from_request(request, target)
    payload.update(target.extra_body)
    payload["model"] = target.upstream_model
    if stream:
        payload["stream"] = True
        options = dict(payload.get("stream_options") or {})
        options["include_usage"] = True  # the router always needs the usage
        payload["stream_options"] = options
    else:
        payload.pop("stream", None)
        payload.pop("stream_options", None)
    return payload


def parse_usage(raw: Any) -> Usage:
    if not isinstance(raw, dict):
        return Usage()
    prompt_details = raw.get("prompt_tokens_details") or {}
    completion_details = raw.get("completion_tokens_details") or {}
    cached = prompt_details.get("cached_tokens")
    if cached is None:  # DeepSeek reports cache hits at the top level
        cached = raw.get("prompt_cache_hit_tokens")
    return Usage(
        input_tokens=int(raw.get("prompt_tokens") or 0),
        output_tokens=int(raw.get("completion_tokens") or 0),
        cached_input_tokens=int(cached or 0),
        reasoning_tokens=int(completion_details.get("reasoning_tokens") or 0),
    )


def map_finish(value: Any) -> FinishReason:
    return FINISH_REASONS.get(str(value), "stop")


def from_response(data: Any, provider: str) -> Completion:
    try:
        choice = data["choices"][0]
        message = choice["message"]
    except (KeyError, IndexError, TypeError) as exc:
        raise malformed(provider, "no choices[0].message") from exc
    parts: list[OutputPart] = []
    if reasoning := message.get("reasoning_content"):
        parts.append(Reasoning(str(reasoning)))
    if (content := message.get("content")) is not None:
        parts.append(Text(str(content)))
    parts.extend(
        ToolCall(
            id=str(call.get("id") or ""),
            name=str(call["function"]["name"]),
            arguments=str(call["function"].get("arguments") or ""),
        )
        for call in message.get("tool_calls") or []
    )
    return Completion(
        parts=parts,
        finish_reason=map_finish(choice.get("finish_reason")),
        usage=parse_usage(data.get("usage")),
        refusal=message.get("refusal"),
        upstream_id=data.get("id"),
        upstream_model=data.get("model"),
    )


def parse_error(data: Any) -> ErrorFields:
    error = data["error"]
    if isinstance(error, str):
        return error, None, None, None
    code = error.get("code")
    return error.get("message"), error.get("type"), str(code) if code else None, error.get("param")


def parse_chunk(data: dict[str, Any]) -> list[StreamEvent]:
    """The events in one `chat.completion.chunk` (per-chunk hot path: `in` and
    subscripts, no method calls for the keys a text chunk does not have)."""
    events: list[StreamEvent] = []
    for choice in data.get("choices") or ():
        if "index" in choice and choice["index"] != 0:
            continue
        delta = choice.get("delta") or {}
        if "reasoning_content" in delta and (text := delta["reasoning_content"]):
            events.append(ReasoningDelta(text))
        if "content" in delta and (text := delta["content"]):
            events.append(TextDelta(text))
        if "tool_calls" in delta:
            events.extend(_tool_deltas(delta["tool_calls"] or ()))
        if "finish_reason" in choice and (reason := choice["finish_reason"]):
            events.append(Finish(map_finish(reason)))
    if "usage" in data and (usage := data["usage"]):
        events.append(UsageReport(parse_usage(usage)))
    return events


def _tool_deltas(calls: Iterable[Any]) -> list[StreamEvent]:
    out: list[StreamEvent] = []
    for call in calls:
        function = call.get("function") or {}
        out.append(
            ToolCallDelta(
                index=int(call.get("index", 0)),
                id=call.get("id"),
                name=function.get("name"),
                arguments=function.get("arguments") or "",
            )
        )
    return out


class OpenAICompatProvider:
    def __init__(self, config: ProviderConfig, client: Client) -> None:
        self.config = config
        self._client = client
        self._url = config.base_url.rstrip("/") + "/chat/completions"
        self._headers = {"content-type": "application/json"}
        if config.api_key:
            if config.auth_header == "authorization":
                self._headers["authorization"] = f"Bearer {config.api_key}"
            else:
                self._headers[config.auth_header] = config.api_key

    async def complete(self, request: Request, target: Target) -> Completion:
        payload = to_request(request, target, stream=False)
        name = self.config.name
        raw = await post(self._client, name, self._url, payload, self._headers, parse_error)
        data = decoded(raw, name)
        if isinstance(data, dict) and "error" in data and "choices" not in data:
            raise error_from_response(name, 502, NO_HEADERS, raw, parse_error)
        completion = from_response(data, name)
        if request.native is not None and request.native.protocol == "openai":
            completion.native = NativeBody("openai", data)
        return completion

    async def embed(self, request: EmbeddingRequest, target: Target) -> Embeddings:
        url = self._url.removesuffix("/chat/completions") + "/embeddings"
        payload = openai_embed.to_body(request, target)
        name = self.config.name
        raw = await post(self._client, name, url, payload, self._headers, parse_error)
        data = decoded(raw, name)
        if not isinstance(data, dict) or ("error" in data and "data" not in data):
            raise error_from_response(name, 502, NO_HEADERS, raw, parse_error)
        return openai_embed.from_response(data, name, request, raw)

    async def stream(self, request: Request, target: Target) -> AsyncIterator[StreamEvent]:
        payload = to_request(request, target, stream=True)
        name = self.config.name
        async with open_stream(
            self._client, name, self._url, payload, self._headers, parse_error
        ) as response:
            finished = False
            async for batch in sse_batches(response, name):
                for _event, data in batch:
                    if data == b"[DONE]":
                        return
                    try:
                        chunk = orjson.loads(data)
                    except orjson.JSONDecodeError as exc:
                        raise malformed(name, "stream chunk is not JSON") from exc
                    if isinstance(chunk, dict) and "error" in chunk:
                        raise _stream_error(name, chunk)
                    for event in parse_chunk(chunk):
                        finished = finished or isinstance(event, Finish)
                        yield event
                yield FLUSH
            if not finished:  # no [DONE] and no finish_reason: the stream was cut
                raise malformed(name, "the stream ended before it finished")


def _stream_error(provider: str, chunk: dict[str, Any]) -> UpstreamError:
    error = error_from_response(provider, 502, NO_HEADERS, orjson.dumps(chunk), parse_error)
    error.status_code = 502
    return error
