"""complete_chat and stream_chat: validate, route, call, price, record.

Every call that passed authentication becomes exactly one request-log row,
whatever happens: invalid body, unknown model, upstream error, client gone.
"""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from model_router.cache.service import ResponseCache
from model_router.costs.pricing import Cost, cost
from model_router.domain import (
    ChatResult,
    Finish,
    FinishReason,
    Flush,
    ReasoningDelta,
    StreamEvent,
    TextDelta,
    ToolCall,
    ToolCallDelta,
    Usage,
    UsageReport,
)
from model_router.errors import (
    InvalidRequest,
    ProviderNotConfigured,
    RouterError,
    UnsupportedFeature,
    UpstreamError,
)
from model_router.governance.governor import Governor
from model_router.governance.store import MemoryStore
from model_router.ids import uuid7
from model_router.providers.base import Provider
from model_router.providers.registry import ProviderPool
from model_router.routing.config import RoutingConfig
from model_router.routing.deployments import Deployment
from model_router.routing.router import Plan, Router
from model_router.schemas.chat import ChatCompletionRequest
from model_router.schemas.render import ChunkWriter, completion_json, error_json, sse
from model_router.services.catalogue import Catalogue, ModelInfo
from model_router.services.experiments import ExperimentSet
from model_router.services.keys import KeyInfo
from model_router.services.request_log import RequestLog
from model_router.settings import Settings

if TYPE_CHECKING:
    from model_router.cache.service import CacheState

DONE = b"data: [DONE]\n\n"


def _is_union_tag(part: str | int) -> bool:
    """pydantic names the union member it tried in `loc`; callers never wrote that."""
    return isinstance(part, str) and (part == "str" or part.startswith("part:") or "[" in part)


def validation_error(exc: ValidationError) -> InvalidRequest:
    """The most specific problem pydantic found, as a 400 naming the field."""
    first = max(exc.errors(), key=lambda e: len(e["loc"]))
    parts = list(first["loc"])
    loc = ".".join(str(p) for p in parts if not _is_union_tag(p))
    message = first["msg"].removeprefix("Value error, ")
    where = f"'{loc}'" if loc else "the body"
    return InvalidRequest(
        f"Invalid value for {where}: {message}", param=loc or None, code="invalid_value"
    )


@dataclass(slots=True)
class Call:
    """What is known about one call, as it goes; becomes its request-log row.

    `headers` are the client's request headers (lower-case names);
    `response_headers` are added to whatever the client gets back, success or
    error (rate-limit counters, the routing reason, cache status).
    """

    key: KeyInfo
    body: dict[str, Any]
    headers: Mapping[str, str] = field(default_factory=dict)
    response_headers: dict[str, str] = field(default_factory=dict)
    id: uuid.UUID = field(default_factory=uuid7)
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    started: float = field(default_factory=time.perf_counter)
    request: ChatCompletionRequest | None = None
    model: ModelInfo | None = None
    ttft_ms: int | None = None
    # Routing (issue 5): the plan, every upstream attempt, the answering deployment.
    plan: Plan | None = None
    attempts: list[dict[str, Any]] = field(default_factory=list)
    deployment: Deployment | None = None
    default_cost_usd: Decimal | None = None
    # Response cache and experiments (issue 10): model_router.cache, services/experiments.
    cache: CacheState | None = None
    cache_status: str | None = None
    saved_cost_usd: Decimal | None = None
    experiment_id: uuid.UUID | None = None
    variant: str | None = None

    def elapsed_ms(self) -> int:
        return round((time.perf_counter() - self.started) * 1000)

    def row(
        self,
        *,
        status: str,
        result: ChatResult | None = None,
        price_cost: Cost | None = None,
        error: RouterError | None = None,
        error_message: str | None = None,
        http_status: int = 200,
    ) -> dict[str, Any]:
        usage = result.usage if result else Usage()
        model = self.model
        raw_model = self.body.get("model")
        rates = price_cost.rates if price_cost else None
        return {
            "id": self.id,
            "user_id": self.key.id,
            "model_id": model.id if model else None,
            "provider_id": model.provider_id if model else None,
            "model": model.name
            if model
            else (raw_model if isinstance(raw_model, str) else "")[:200],
            "provider": model.provider if model else None,
            "prompt_text": self.request.prompt_text() if self.request else "",
            "request_messages": self.body.get("messages"),
            "response_text": result.content if result else None,
            "reasoning_text": result.reasoning_content if result else None,
            "tool_calls": [vars_of(c) for c in result.tool_calls]
            if result and result.tool_calls
            else None,
            "finish_reason": result.finish_reason if result else None,
            "input_tokens": usage.input_tokens,
            "output_tokens": usage.output_tokens,
            "total_tokens": usage.total_tokens,
            "cached_input_tokens": usage.cached_input_tokens,
            "cache_write_tokens": usage.cache_write_tokens,
            "reasoning_tokens": usage.reasoning_tokens,
            "input_price_per_1m_tokens": rates.input if rates else None,
            "output_price_per_1m_tokens": rates.output if rates else None,
            "cached_input_price_per_1m_tokens": rates.cached_input if rates else None,
            "cache_write_price_per_1m_tokens": rates.cache_write if rates else None,
            "input_cost_usd": price_cost.input_usd if price_cost else None,
            "output_cost_usd": price_cost.output_usd if price_cost else None,
            "total_cost_usd": price_cost.total_usd if price_cost else None,
            "cost_unknown": price_cost is None and model is not None and model.price is None,
            "latency_ms": self.elapsed_ms(),
            "ttft_ms": self.ttft_ms,
            "is_stream": bool(self.body.get("stream")),
            "status": status,
            "error_message": error_message or (error.message if error else None),
            "upstream_status": getattr(error, "upstream_status", None),
            "http_status": error.status_code if error else http_status,
            "created_at": self.created_at,
            "completed_at": datetime.now(UTC),
            "cache_status": self.cache_status,
            "saved_cost_usd": self.saved_cost_usd,
            "requested_model": self.plan.requested if self.plan else None,
            "route_reason": self.response_headers.get("x-router-reason"),
            "attempts": self.attempts or None,
            "estimated_cost_usd": self.plan.estimated_cost if self.plan else None,
            "default_cost_usd": self.default_cost_usd,
            "experiment_id": self.experiment_id,
            "variant": self.variant,
        }


def vars_of(call: ToolCall) -> dict[str, str]:
    return {"id": call.id, "name": call.name, "arguments": call.arguments}


class ChatService:
    def __init__(
        self,
        catalogue: Catalogue,
        pool: ProviderPool,
        request_log: RequestLog,
        *,
        cache: ResponseCache | None = None,
        experiments: ExperimentSet | None = None,
        router: Router | None = None,
        governor: Governor | None = None,
    ) -> None:
        self._catalogue = catalogue
        self._pool = pool
        self._log = request_log
        self.router = router or Router(catalogue, RoutingConfig(), Settings.model_construct())
        self._cache = cache or ResponseCache.disabled()
        self._experiments = experiments or ExperimentSet()
        self._governor = governor or Governor(MemoryStore())

    def _prepare(self, call: Call) -> Plan:
        """Validate the body and plan the route: the models to try, in order,
        before any upstream call. `call.model` is the first choice until an
        attempt answers."""
        self._experiments.apply(call)  # may set the model and parameters
        try:
            call.request = ChatCompletionRequest.model_validate(call.body)
        except ValidationError as exc:
            raise validation_error(exc) from None
        if (call.request.n or 1) > 1:
            raise UnsupportedFeature("n > 1 is not supported by the router.", param="n")
        try:
            call.plan = plan = self.router.plan(call.request, call.body)
        except InvalidRequest as exc:  # said in the error; the header says where
            call.response_headers["x-router-reason"] = f"no route: {exc.code}"
            raise
        call.model = plan.routes[0].info
        call.response_headers["x-router-reason"] = plan.reason
        return plan

    def _provider(self, call: Call, deployment: Deployment) -> Provider:
        """The adapter for one attempt; `call.model` follows the deployment tried."""
        call.model = deployment.model
        call.deployment = deployment
        config = deployment.config
        if config.api_key is None and config.api_key_setting:
            raise ProviderNotConfigured(config.name, config.api_key_setting)
        return self._pool.get(config)

    def _answered(self, call: Call, deployment: Deployment) -> None:
        """The routing reason, completed with who answered and after how many tries."""
        assert call.plan is not None
        reason = call.plan.reason
        if call.plan.notes:
            reason += "; " + "; ".join(call.plan.notes)
        tries = len(call.attempts)
        reason += f"; answered by {deployment.name}"
        if tries > 1:
            failed = ", ".join(f"{a['deployment']} {a['status']}" for a in call.attempts[:-1])
            reason += f" after {tries} attempts ({failed})"
        call.response_headers["x-router-reason"] = reason

    def _savings(self, call: Call, usage: Usage) -> None:
        """For `auto`: what the default model would have cost for the same usage."""
        if call.plan is None or not call.plan.is_auto:
            return
        default = self.router.default_route()
        if default is not None:
            priced = cost(usage, default.info.price, call.created_at)
            call.default_cost_usd = priced.total_usd if priced else None

    def _record(self, call: Call, row: dict[str, Any]) -> None:
        """The one place a finished call ends up: its request-log row."""
        self._governor.finish(call, row)  # tags, privacy, budget settlement: once per call
        self._log.add(row)
        self._cache.remember(call, row)

    def reject(self, key: KeyInfo, error: RouterError) -> None:
        """Record a call whose body could not even be read."""
        call = Call(key=key, body={})
        self._record(call, call.row(status="error", error=error))

    async def complete(self, call: Call) -> dict[str, Any]:
        body = call.body

        async def attempt(deployment: Deployment, _timeout: float) -> ChatResult:
            assert call.request is not None
            provider = self._provider(call, deployment)
            return await provider.complete(call.request, body, deployment.model.target)

        try:
            plan = self._prepare(call)
            assert call.request is not None and call.model is not None
            await self._governor.admit(call, plan.routes)  # limits, budget: may refuse
            if hit := await self._cache.lookup(call):
                return self._cache.complete_hit(call, hit, self._record)
            result, deployment = await self.router.run(plan, attempt, call.attempts, call.started)
        except RouterError as exc:
            self._record(call, call.row(status="error", error=exc))
            raise
        assert call.model is not None
        self._answered(call, deployment)
        self.router.report_tokens(deployment, result.usage.total_tokens)
        self._savings(call, result.usage)
        price_cost = cost(result.usage, call.model.price, call.created_at)
        latency = call.elapsed_ms()
        self._record(call, call.row(status="success", result=result, price_cost=price_cost))
        return completion_json(
            request_id=str(call.id),
            model=call.model.name,
            provider=call.model.provider,
            result=result,
            cost=price_cost,
            created=call.created_at,
            latency_ms=latency,
        )

    async def stream(self, call: Call) -> AsyncIterator[bytes]:
        """Open the upstream stream; errors up to its first event raise here.

        Returns the iterator of SSE frames for the response body.
        """
        body = call.body

        async def attempt(deployment: Deployment, _timeout: float) -> _Opened:
            """Open the stream and hold it back until its first content."""
            assert call.request is not None
            provider = self._provider(call, deployment)
            events = provider.stream(call.request, body, deployment.model.target).__aiter__()
            held: list[StreamEvent] = []
            try:
                while (event := await anext(events, None)) is not None:
                    held.append(event)
                    if isinstance(event, TextDelta | ReasoningDelta | ToolCallDelta):
                        break
            except BaseException:
                await _close(events)
                raise
            return _Opened(events, held)

        try:
            plan = self._prepare(call)
            assert call.request is not None and call.model is not None
            await self._governor.admit(call, plan.routes)  # limits, budget: may refuse
            if hit := await self._cache.lookup(call):
                return self._cache.stream_hit(call, hit, self._record, DONE)
            opened, deployment = await self.router.run(plan, attempt, call.attempts, call.started)
        except RouterError as exc:
            self._record(call, call.row(status="error", error=exc))
            raise
        self._answered(call, deployment)
        return self._frames(call, opened, deployment)

    async def _frames(
        self, call: Call, opened: _Opened, deployment: Deployment
    ) -> AsyncIterator[bytes]:
        assert call.request is not None and call.model is not None
        events, held = opened.events, iter(opened.held)
        options = call.request.stream_options
        include_usage = bool(options and options.include_usage)
        writer = ChunkWriter(str(call.id), call.model.name, call.created_at, include_usage)
        acc = _Accumulator()
        outcome: dict[str, Any] = {"status": "error", "error_message": "client disconnected"}
        # Frames wait here until the upstream read they came from is used up (a
        # `Flush`), then go out in one write: an upstream that sends several
        # events at once costs one send, not one per event. The first content
        # goes at once (time to first token).
        frames = [writer.chunk({"role": "assistant", "content": ""})]
        try:
            event = next(held, None) or await anext(events, None)
            while event is not None:
                if isinstance(event, Flush):
                    if frames:
                        yield b"".join(frames)
                        frames.clear()
                elif (delta := acc.feed(event)) is not None:
                    frames.append(writer.chunk(delta))
                    if call.ttft_ms is None:
                        call.ttft_ms = call.elapsed_ms()
                        yield b"".join(frames)
                        frames.clear()
                elif isinstance(event, Finish):
                    frames.append(writer.chunk({}, event.reason))
                event = next(held, None) or await anext(events, None)
            result = acc.result()
            self.router.report_tokens(deployment, result.usage.total_tokens)
            self._savings(call, result.usage)
            price_cost = cost(result.usage, call.model.price, call.created_at)
            if include_usage:
                frames.append(writer.usage_chunk(result.usage, price_cost, call.model.provider))
            frames.append(DONE)
            yield b"".join(frames)
            outcome = {"status": "success", "result": result, "price_cost": price_cost}
        except UpstreamError as exc:
            result = acc.result()
            self._failed_after_content(call, deployment, exc)
            outcome = {
                "status": "error",
                "result": result,
                "price_cost": cost(result.usage, call.model.price, call.created_at),
                "error": exc,
            }
            frames.append(sse(error_json(exc.message, exc.error_type, exc.param, exc.code)))
            yield b"".join(frames)
        finally:
            if "result" not in outcome:  # the client went away mid-stream
                result = acc.result()
                if acc.usage == Usage():
                    result.usage = estimate_usage(call.request, result)
                    outcome["error_message"] += "; usage estimated at 4 characters a token"
                outcome["result"] = result
                outcome["price_cost"] = cost(result.usage, call.model.price, call.created_at)
            self._record(call, call.row(**outcome))
            await _close(events)

    def _failed_after_content(self, call: Call, deployment: Deployment, exc: UpstreamError) -> None:
        """No failover once content reached the client: the attempt is marked failed."""
        if call.attempts:
            call.attempts[-1]["status"] = exc.upstream_status or exc.status_code
            call.attempts[-1]["error"] = exc.message
        self.router.report_failure(
            deployment, exc, call.attempts[-1]["latency_ms"] if call.attempts else 0
        )


@dataclass(slots=True)
class _Opened:
    """A stream opened by an attempt: the events held back, and the rest."""

    events: AsyncIterator[StreamEvent]
    held: list[StreamEvent]


CHARS_PER_TOKEN = 4


def estimate_usage(request: ChatCompletionRequest, result: ChatResult) -> Usage:
    """Usage for a stream cut before the provider reported it: what was sent and
    what was generated so far, at about 4 characters a token (OpenAI's rule of
    thumb for English), so the row is charged something close, never $0."""
    generated = len(result.content or "") + len(result.reasoning_content or "")
    generated += sum(len(c.name) + len(c.arguments) for c in result.tool_calls)
    prompt = len(request.prompt_text())
    return Usage(
        input_tokens=max(1, -(-prompt // CHARS_PER_TOKEN)),
        output_tokens=-(-generated // CHARS_PER_TOKEN),
    )


async def _close(events: AsyncIterator[StreamEvent]) -> None:
    aclose = getattr(events, "aclose", None)
    if aclose is not None:
        # Closing after a disconnect may itself be cancelled; the socket goes either way.
        with contextlib.suppress(BaseException):
            await aclose()


class _Accumulator:
    """Collects a stream's events into the result that is priced and logged."""

    def __init__(self) -> None:
        self.text: list[str] = []
        self.reasoning: list[str] = []
        self.calls: dict[int, ToolCall] = {}
        self.finish: FinishReason = "stop"
        self.usage = Usage()

    def feed(self, event: StreamEvent) -> dict[str, Any] | None:
        """Record an event; returns the chunk delta to send, if any."""
        if isinstance(event, TextDelta):
            self.text.append(event.text)
            return {"content": event.text}
        if isinstance(event, ReasoningDelta):
            self.reasoning.append(event.text)
            return {"reasoning_content": event.text}
        if isinstance(event, ToolCallDelta):
            call = self.calls.get(event.index)
            if call is None:
                call = self.calls[event.index] = ToolCall(id=event.id or "", name="", arguments="")
            call.id = event.id or call.id
            call.name = event.name or call.name
            call.arguments += event.arguments
            out: dict[str, Any] = {"index": event.index}
            if event.id:
                out["id"] = event.id
                out["type"] = "function"
            function: dict[str, str] = {"arguments": event.arguments}
            if event.name:
                function["name"] = event.name
            out["function"] = function
            return {"tool_calls": [out]}
        if isinstance(event, Finish):
            self.finish = event.reason
        elif isinstance(event, UsageReport):
            self.usage = event.usage
        return None

    def result(self) -> ChatResult:
        return ChatResult(
            content="".join(self.text) or None,
            finish_reason=self.finish,
            usage=self.usage,
            tool_calls=[self.calls[i] for i in sorted(self.calls)],
            reasoning_content="".join(self.reasoning) or None,
        )
