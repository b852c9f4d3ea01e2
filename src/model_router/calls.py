"""`Call`: what is known about one call as it goes through the router.

It lives just below `services/` (not in `domain/`, which imports nothing of
the router's own): each stage of the request path reads it and fills in its
part, and each of those stages (routing, governance, cache, experiments) can
import it without importing the service that drives them. Each field says
which stage sets it. A finished call becomes one request-log record (`row`).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from model_router.cache.state import CacheState
from model_router.costs.models import ModelInfo
from model_router.costs.pricing import Cost
from model_router.db.records import Attempt, RequestRecord
from model_router.domain.completion import Completion
from model_router.domain.keys import KeyInfo
from model_router.domain.request import FrontDoor, Request
from model_router.domain.usage import Usage
from model_router.errors import RouterError
from model_router.ids import uuid7
from model_router.routing.deployments import Deployment
from model_router.routing.learned.policy import Decision
from model_router.routing.router import Plan


@dataclass(slots=True)
class Call:
    """One call. `headers` are the client's request headers (lower-case names);
    `response_headers` are added to whatever the client gets back, success or
    error (rate-limit counters, the routing reason, cache status)."""

    # The front door: who asks, through which API, with what body.
    key: KeyInfo
    body: dict[str, Any]
    front_door: FrontDoor = "chat_completions"
    headers: Mapping[str, str] = field(default_factory=dict)
    response_headers: dict[str, str] = field(default_factory=dict)
    id: uuid.UUID = field(default_factory=uuid7)
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    started: float = field(default_factory=time.perf_counter)
    # The service: the neutral request (once the body translated) and time to first token.
    request: Request | None = None
    ttft_ms: int | None = None
    # Routing: the plan, every upstream attempt, the model and deployment tried last.
    plan: Plan | None = None
    model: ModelInfo | None = None
    attempts: list[Attempt] = field(default_factory=list)
    deployment: Deployment | None = None
    default_cost_usd: Decimal | None = None
    # The response cache.
    cache: CacheState | None = None
    cache_status: str | None = None
    saved_cost_usd: Decimal | None = None
    # Learned routing: the pool's decision, when `model` names a pool.
    decision: Decision | None = None
    # Experiments.
    experiment_id: uuid.UUID | None = None
    variant: str | None = None

    def elapsed_ms(self) -> int:
        return round((time.perf_counter() - self.started) * 1000)

    def row(
        self,
        *,
        status: str,
        result: Completion | None = None,
        price_cost: Cost | None = None,
        error: RouterError | None = None,
        error_message: str | None = None,
        http_status: int = 200,
    ) -> RequestRecord:
        usage = result.usage if result else Usage()
        model = self.model
        raw_model = self.body.get("model")
        rates = price_cost.rates if price_cost else None
        calls = result.tool_calls if result else None
        return RequestRecord(
            id=self.id,
            user_id=self.key.id,
            model_id=model.id if model else None,
            provider_id=model.provider_id if model else None,
            model=model.name if model else (raw_model if isinstance(raw_model, str) else "")[:200],
            provider=model.provider if model else None,
            prompt_text=self.request.prompt_text() if self.request else "",
            # What the client sent as its conversation: `messages` (Chat
            # Completions, Messages) or `input` (Responses, embeddings).
            request_messages=self.body.get("messages", self.body.get("input")),
            response_text=result.text if result else None,
            reasoning_text=result.reasoning_text if result else None,
            tool_calls=[{"id": c.id, "name": c.name, "arguments": c.arguments} for c in calls]
            if calls
            else None,
            finish_reason=result.finish_reason if result else None,
            input_tokens=usage.input_tokens,
            output_tokens=usage.output_tokens,
            total_tokens=usage.total_tokens,
            cached_input_tokens=usage.cached_input_tokens,
            cache_write_tokens=usage.cache_write_tokens,
            cache_write_1h_tokens=usage.cache_write_1h_tokens,
            reasoning_tokens=usage.reasoning_tokens,
            input_price_per_1m_tokens=rates.input if rates else None,
            output_price_per_1m_tokens=rates.output if rates else None,
            cached_input_price_per_1m_tokens=rates.cached_input if rates else None,
            cache_write_price_per_1m_tokens=rates.cache_write if rates else None,
            cache_write_1h_price_per_1m_tokens=rates.cache_write_1h if rates else None,
            input_cost_usd=price_cost.input_usd if price_cost else None,
            output_cost_usd=price_cost.output_usd if price_cost else None,
            total_cost_usd=price_cost.total_usd if price_cost else None,
            cost_unknown=price_cost is None and model is not None and model.price is None,
            latency_ms=self.elapsed_ms(),
            ttft_ms=self.ttft_ms,
            is_stream=bool(self.body.get("stream")),
            status=status,
            error_message=error_message or (error.message if error else None),
            upstream_status=getattr(error, "upstream_status", None),
            http_status=error.status_code if error else http_status,
            created_at=self.created_at,
            completed_at=datetime.now(UTC),
            cache_status=self.cache_status,
            saved_cost_usd=self.saved_cost_usd,
            requested_model=self.plan.requested if self.plan else None,
            route_reason=self.response_headers.get("x-router-reason"),
            attempts=self.attempts or None,
            estimated_cost_usd=self.plan.estimated_cost if self.plan else None,
            default_cost_usd=self.default_cost_usd,
            experiment_id=self.experiment_id,
            variant=self.variant,
            front_door=self.front_door,
            dropped_hints=list(self.request.dropped)
            if self.request and self.request.dropped
            else None,
        )
