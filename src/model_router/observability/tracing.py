"""OpenTelemetry tracing, built only when OTEL_EXPORTER_OTLP_ENDPOINT is set.

A SERVER span per request (opened by the chat route, continuing a caller's
W3C `traceparent`), finished with what the request-log row says, and a
CLIENT span per upstream attempt (`TracedProvider` wraps each adapter the
provider pool hands out). Attributes follow the OpenTelemetry GenAI semantic
conventions: `gen_ai.operation.name`, `gen_ai.provider.name` (and the older
`gen_ai.system`), `gen_ai.request.model`, `gen_ai.response.model`,
`gen_ai.usage.input_tokens`, `gen_ai.usage.output_tokens`, ...

When the endpoint is unset this module is never imported: the route checks
one attribute and the pool hands out the adapters themselves.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, cast
from urllib.parse import urlsplit

from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import Span, SpanKind, Status, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from model_router.db.records import RequestRecord
from model_router.domain import Completion, StreamEvent, Usage, UsageReport
from model_router.domain.embeddings import EmbeddingRequest, Embeddings
from model_router.domain.request import Request
from model_router.providers.base import EmbeddingProvider, Provider, Target

Row = RequestRecord
SCOPE = "model_router"
EXPORT_TIMEOUT = 5  # seconds per export, retries included
OPERATIONS = {"/v1/embeddings": "embeddings"}
"""GenAI operation names of the traced endpoints other than "chat"."""


def traces_url(endpoint: str) -> str:
    """OTEL_EXPORTER_OTLP_ENDPOINT is the collector's base; traces go to /v1/traces."""
    base = endpoint.rstrip("/")
    return base if base.endswith("/v1/traces") else base + "/v1/traces"


def parse_headers(value: str | None) -> dict[str, str]:
    """`k1=v1,k2=v2`, as OTEL_EXPORTER_OTLP_HEADERS."""
    out: dict[str, str] = {}
    for part in (value or "").split(","):
        name, sep, val = part.partition("=")
        if sep and name.strip():
            out[name.strip()] = val.strip()
    return out


def _usage_attributes(usage: Usage) -> dict[str, int]:
    return {
        "gen_ai.usage.input_tokens": usage.input_tokens,
        "gen_ai.usage.output_tokens": usage.output_tokens,
        "gen_ai.usage.cache_read.input_tokens": usage.cached_input_tokens,
        "gen_ai.usage.cache_creation.input_tokens": usage.cache_write_tokens,
        "gen_ai.usage.reasoning.output_tokens": usage.reasoning_tokens,
    }


class Tracing:
    """The tracer provider, its OTLP/HTTP exporter, and the router's spans."""

    def __init__(
        self,
        endpoint: str,
        *,
        service_name: str,
        headers: str | None = None,
        schedule_delay_ms: int = 5000,
    ) -> None:
        self.provider = TracerProvider(resource=Resource.create({"service.name": service_name}))
        # A short export timeout: a collector that is down costs dropped spans,
        # never a slow shut-down.
        exporter = OTLPSpanExporter(
            endpoint=traces_url(endpoint), headers=parse_headers(headers), timeout=EXPORT_TIMEOUT
        )
        self.provider.add_span_processor(
            BatchSpanProcessor(exporter, schedule_delay_millis=schedule_delay_ms)
        )
        self.tracer = self.provider.get_tracer(SCOPE)
        self._propagator = TraceContextTextMapPropagator()

    @contextmanager
    def request_span(self, headers: Mapping[str, str], path: str) -> Iterator[Span]:
        """The request's span, current while the request (and its stream) runs."""
        parent = self._propagator.extract(headers)
        operation = OPERATIONS.get(path, "chat")
        with self.tracer.start_as_current_span(
            operation,
            context=parent,
            kind=SpanKind.SERVER,
            attributes={
                "gen_ai.operation.name": operation,
                "http.request.method": "POST",
                "url.path": path,
            },
        ) as span:
            yield span

    def on_row(self, row: Row, key_prefix: str | None = None) -> None:
        """Request-log listener: the row completes the current request span."""
        span = trace.get_current_span()
        if not span.is_recording():
            return
        operation = "embeddings" if row.front_door == "embeddings" else "chat"
        span.update_name(f"{operation} {row.model}")
        attributes: dict[str, Any] = {
            "gen_ai.request.model": row.requested_model or row.model,
            "gen_ai.usage.input_tokens": row.input_tokens,
            "gen_ai.usage.output_tokens": row.output_tokens,
            "http.response.status_code": row.http_status or 0,
            "model_router.request_id": str(row.id),
            "model_router.status": row.status,
            "model_router.latency_ms": row.latency_ms,
        }
        if row.provider:
            attributes["gen_ai.provider.name"] = row.provider
            attributes["gen_ai.system"] = row.provider
        if row.total_cost_usd is not None:
            attributes["model_router.cost_usd"] = float(row.total_cost_usd)
        if row.ttft_ms is not None:
            attributes["model_router.ttft_ms"] = row.ttft_ms
        if row.cache_status:
            attributes["model_router.cache"] = row.cache_status
        if key_prefix:
            attributes["model_router.key"] = key_prefix
        span.set_attributes(attributes)
        if row.status != "success":
            span.set_attribute("error.type", str(row.http_status or "error"))
            span.set_status(Status(StatusCode.ERROR, row.error_message or None))

    def wrap(self, provider: Provider) -> Provider:
        return TracedProvider(provider, self.tracer)

    async def aclose(self) -> None:
        """Export what is still buffered, then stop the exporter."""
        await asyncio.to_thread(self.provider.shutdown)


class TracedProvider:
    """An adapter whose every call is a CLIENT span under the current request span."""

    def __init__(self, inner: Provider, tracer: trace.Tracer) -> None:
        self.inner = inner
        self.config = inner.config
        self._tracer = tracer
        self._server = urlsplit(inner.config.base_url).hostname or ""

    def _start(self, request: Request, target: Target, stream: bool) -> Span:
        attributes: dict[str, Any] = {
            "gen_ai.operation.name": "chat",
            "gen_ai.provider.name": self.config.name,
            "gen_ai.system": self.config.name,
            "gen_ai.request.model": target.upstream_model,
            "server.address": self._server,
            "model_router.stream": stream,
        }
        for name, value in (
            ("gen_ai.request.max_tokens", request.max_output_tokens),
            ("gen_ai.request.temperature", request.temperature),
            ("gen_ai.request.top_p", request.top_p),
        ):
            if value is not None:
                attributes[name] = value
        return self._tracer.start_span(
            f"chat {target.upstream_model}", kind=SpanKind.CLIENT, attributes=attributes
        )

    @staticmethod
    def _fail(span: Span, exc: BaseException) -> None:
        span.set_attribute("error.type", type(exc).__name__)
        upstream = getattr(exc, "upstream_status", None)
        if upstream is not None:
            span.set_attribute("http.response.status_code", upstream)
        span.set_status(Status(StatusCode.ERROR, getattr(exc, "message", None) or str(exc)))

    async def complete(self, request: Request, target: Target) -> Completion:
        span = self._start(request, target, stream=False)
        try:
            result = await self.inner.complete(request, target)
        except BaseException as exc:
            self._fail(span, exc)
            span.end()
            raise
        span.set_attributes(_usage_attributes(result.usage))
        span.set_attribute("gen_ai.response.finish_reasons", [result.finish_reason])
        span.set_attribute("gen_ai.response.model", result.upstream_model or target.upstream_model)
        if result.upstream_id:
            span.set_attribute("gen_ai.response.id", result.upstream_id)
        span.end()
        return result

    async def embed(self, request: EmbeddingRequest, target: Target) -> Embeddings:
        span = self._tracer.start_span(
            f"embeddings {target.upstream_model}",
            kind=SpanKind.CLIENT,
            attributes={
                "gen_ai.operation.name": "embeddings",
                "gen_ai.provider.name": self.config.name,
                "gen_ai.system": self.config.name,
                "gen_ai.request.model": target.upstream_model,
                "server.address": self._server,
            },
        )
        try:
            result = await cast(EmbeddingProvider, self.inner).embed(request, target)
        except BaseException as exc:
            self._fail(span, exc)
            span.end()
            raise
        span.set_attributes(_usage_attributes(result.usage))
        span.end()
        return result

    def stream(self, request: Request, target: Target) -> AsyncIterator[StreamEvent]:
        return self._stream(request, target)

    async def _stream(self, request: Request, target: Target) -> AsyncIterator[StreamEvent]:
        span = self._start(request, target, stream=True)
        events = self.inner.stream(request, target)
        try:
            async for event in events:
                if isinstance(event, UsageReport):
                    span.set_attributes(_usage_attributes(event.usage))
                yield event
            span.set_attribute("gen_ai.response.model", target.upstream_model)
        except GeneratorExit:
            span.set_attribute("model_router.cancelled", True)
            raise
        except BaseException as exc:
            self._fail(span, exc)
            raise
        finally:
            aclose = getattr(events, "aclose", None)
            if aclose is not None:
                await aclose()
            span.end()
