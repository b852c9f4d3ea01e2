"""The router: plans a call (which models, in what order, and why) and runs
it (attempts across deployments with retries, backoff, retry-after and a
deadline), keeping every deployment's health.

    plan = router.plan(request)                  # before any upstream call
    result, deployment = await router.run(plan, attempt, log, started)

`attempt(deployment, timeout)` makes one upstream call; for a stream it
returns once the first content arrived, so failures before it are retried.
`router.on_circuit_change` holds callbacks `(deployment_name, state)`.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, TypeVar

from model_router.costs.models import Catalogue
from model_router.db.records import Attempt as AttemptRecord
from model_router.domain.request import Request
from model_router.errors import (
    InvalidRequest,
    ProviderNotConfigured,
    RouterError,
    UpstreamError,
    UpstreamTimeout,
)
from model_router.routing import auto
from model_router.routing.circuit import CircuitPolicy, CircuitState, Listener
from model_router.routing.config import RoutingConfig
from model_router.routing.deployments import Deployment, order
from model_router.routing.errors import ContextTooLong, DeadlineExceeded, NoDeploymentAvailable
from model_router.routing.retry import RetryPolicy, retry_after, verdict
from model_router.routing.route import Route
from model_router.routing.table import RoutingTable
from model_router.routing.tokens import (
    estimate_cost,
    estimate_prompt_tokens,
    expected_output_tokens,
)
from model_router.settings import Settings

log = logging.getLogger(__name__)
T = TypeVar("T")
Attempt = Callable[[Deployment, float], Awaitable[T]]
MAX_MODELS = 10


@dataclass(slots=True)
class Plan:
    requested: str
    routes: list[Route]
    reason: str
    prompt_tokens: int
    output_tokens: int
    estimated_cost: Decimal | None = None
    default_cost: Decimal | None = None
    notes: list[str] = field(default_factory=list)  # models skipped before any call

    @property
    def is_auto(self) -> bool:
        return self.requested == auto.AUTO


def _models_list(options: dict[str, Any]) -> list[str]:
    raw = options.get("models")
    if raw is None:
        return []
    if (
        not isinstance(raw, list)
        or not all(isinstance(m, str) and m for m in raw)
        or len(raw) > MAX_MODELS
    ):
        raise InvalidRequest(
            f"Invalid value for 'models': expected a list of up to {MAX_MODELS} model names",
            param="models",
            code="invalid_value",
        )
    return list(raw)


def attempt_record(
    deployment: Deployment, status: int, started: float, error: str | None
) -> AttemptRecord:
    return {
        "deployment": deployment.name,
        "provider": deployment.provider,
        "model": deployment.route,
        "status": status,
        "latency_ms": round((time.perf_counter() - started) * 1000),
        "error": error,
    }


class Router:
    def __init__(
        self,
        catalogue: Catalogue,
        config: RoutingConfig,
        settings: Settings,
        *,
        rng: random.Random | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.retry = RetryPolicy(
            max_retries=settings.router_max_retries,
            backoff_base=settings.router_backoff_base,
            backoff_max=settings.router_backoff_max,
            retry_after_max=settings.router_retry_after_max,
            deadline=settings.router_deadline,
            attempt_timeout=settings.router_attempt_timeout,
        )
        circuit = CircuitPolicy(
            failures=settings.router_circuit_failures,
            error_rate=settings.router_circuit_error_rate,
            window=settings.router_circuit_window,
            cooldown=settings.router_circuit_cooldown,
        )
        self.on_circuit_change: list[Listener] = []
        self.table = RoutingTable(
            catalogue, config, settings, circuit, self._circuit_changed, clock
        )
        self._rng = rng or random.Random()

    def _circuit_changed(self, name: str, state: CircuitState) -> None:
        log.warning("circuit of deployment %s is now %s", name, state)
        for listener in list(self.on_circuit_change):
            try:
                listener(name, state)
            except Exception:
                log.exception("circuit listener failed")

    # --- planning ---------------------------------------------------------------

    def plan(self, request: Request) -> Plan:
        """The models to try, in order, before any upstream call."""
        prompt = estimate_prompt_tokens(request)
        output = expected_output_tokens(request)
        needs = auto.needs_of(request, prompt, output)
        if request.model == auto.AUTO:
            default = self.table.default_model
            default_cost = self._estimate(default, prompt, output)
            limits = auto.parse_constraints(request.options.get("routing"))
            ranked = auto.rank(self.table.all(), needs, limits)
            routes = [r.route for r in ranked]
            reason = auto.explain(ranked, needs, default, default_cost)
            return Plan(auto.AUTO, routes, reason, prompt, output, ranked[0].cost, default_cost)
        names = [request.model, *_models_list(request.options)]
        routes = [self.table.get(name) for name in dict.fromkeys(names)]
        for fallback in routes[0].fallbacks:
            if fallback not in names:
                names.append(fallback)
                routes.append(self.table.get(fallback))
        fitting = [r for r in routes if auto.fits(r, needs)]
        notes = [
            f"{r.name} skipped: ~{prompt} prompt tokens + {needs.max_output or 0} max output "
            f"exceed its {r.info.context_window}-token window"
            for r in routes
            if r not in fitting
        ]
        if not fitting:
            raise ContextTooLong(
                f"The prompt (~{prompt} tokens estimated) plus max_tokens "
                f"({needs.max_output or 0}) does not fit the context window of "
                + ", ".join(f"{r.name} ({r.info.context_window})" for r in routes)
                + "."
            )
        first = fitting[0]
        reason = f"requested {request.model}"
        if first is not routes[0]:
            reason = f"requested {request.model}; context-window fallback to {first.name}"
        estimated = estimate_cost(prompt, output, first.info.price)
        return Plan(request.model, fitting, reason, prompt, output, estimated, None, notes)

    def default_route(self) -> Route | None:
        """The configured default model, that `auto` savings are measured against."""
        try:
            return self.table.get(self.table.default_model)
        except RouterError:
            return None

    def _estimate(self, name: str, prompt: int, output: int) -> Decimal | None:
        route = self.default_route() if name == self.table.default_model else None
        return estimate_cost(prompt, output, route.info.price) if route else None

    # --- running ----------------------------------------------------------------

    async def run(
        self,
        plan: Plan,
        attempt: Attempt[T],
        attempts: list[AttemptRecord],
        started: float,
    ) -> tuple[T, Deployment]:
        """Try the plan's models in order until one answers.

        `attempts` receives one record per upstream call; `started` is the
        request's `time.perf_counter()` at arrival, from which the deadline runs.
        """
        deadline = started + self.retry.deadline
        last: RouterError | None = None
        skipped: list[str] = []
        for route in plan.routes:
            candidates = order(route.deployments, self._rng)
            if not candidates:
                skipped.append(f"{route.name} (no healthy deployment)")
                continue
            outcome = await self._run_route(route, candidates, attempt, attempts, deadline)
            if isinstance(outcome, RouterError):
                last = outcome
                continue
            return outcome
        if last is not None:
            raise last
        raise NoDeploymentAvailable(
            "No deployment can take the request now: " + ", ".join(skipped) + "."
        )

    async def _run_route(
        self,
        route: Route,
        candidates: list[Deployment],
        attempt: Attempt[T],
        attempts: list[AttemptRecord],
        deadline: float,
    ) -> tuple[T, Deployment] | RouterError:
        """The attempts on one model; its last error when they all fail."""
        tries = 0
        tried: set[str] = set()
        hinted: set[str] = set()  # sent a retry-after: wait it out, not a backoff
        last: RouterError | None = None
        while candidates and tries <= self.retry.max_retries:
            deployment = candidates[tries % len(candidates)]
            if deployment.name in tried:
                if deployment.name in hinted:
                    wait = max(0.0, deployment.state.cooling_until - deployment.clock())
                else:
                    wait = self.retry.backoff(tries - 1, self._rng)
                if time.perf_counter() + wait >= deadline:
                    raise DeadlineExceeded(self._deadline_message(attempts, last)) from last
                await asyncio.sleep(wait)
            remaining = deadline - time.perf_counter()
            if remaining <= 0:
                raise DeadlineExceeded(self._deadline_message(attempts, last))
            if not deployment.state.circuit.allow():
                candidates.remove(deployment)
                continue
            result, error = await self._attempt(deployment, attempt, attempts, remaining)
            if error is None:
                return result, deployment  # type: ignore[return-value]
            if isinstance(error, DeadlineExceeded):
                raise error
            last = error
            kind = verdict(error)
            if kind == "stop":
                raise error
            if kind == "next":
                candidates.remove(deployment)
                continue
            tried.add(deployment.name)
            hint = retry_after(error)
            if hint is not None:
                if hint > self.retry.retry_after_max:
                    candidates.remove(deployment)  # longer than we wait: go elsewhere
                deployment.state.cooling_until = deployment.clock() + hint
                hinted.add(deployment.name)
            tries += 1
        return last or NoDeploymentAvailable(
            f"No deployment of {route.name} can take the request now."
        )

    async def _attempt(
        self,
        deployment: Deployment,
        attempt: Attempt[T],
        attempts: list[AttemptRecord],
        remaining: float,
    ) -> tuple[T | None, RouterError | None]:
        """One upstream call: (result, None) or (None, its error); health recorded."""
        state = deployment.state
        state.usage.add_request()
        began = time.perf_counter()
        outcome: bool | None = None
        limit = min(remaining, self.retry.attempt_timeout)
        try:
            async with asyncio.timeout(limit):
                result = await attempt(deployment, limit)
            outcome = True
            record = attempt_record(deployment, 200, began, None)
            attempts.append(record)
            state.stats.record(True, record["latency_ms"])
            return result, None
        except TimeoutError:
            outcome = False
            deadline = limit >= remaining
            message = f"{deployment.name}: no answer within {limit:g}s" + (
                " (the request's deadline)" if deadline else ""
            )
            record = attempt_record(deployment, 504, began, message)
            attempts.append(record)
            state.stats.record(False, record["latency_ms"], message)
            if deadline:
                return None, DeadlineExceeded(
                    self._deadline_message(attempts, None), provider=deployment.provider
                )
            return None, UpstreamTimeout(
                message,
                provider=deployment.provider,
                status_code=504,
                error_type="timeout_error",
                retryable=True,
            )
        except ProviderNotConfigured as exc:  # our configuration, not the deployment's health
            attempts.append(attempt_record(deployment, exc.status_code, began, exc.message))
            return None, exc
        except RouterError as exc:
            kind = verdict(exc)
            status = getattr(exc, "upstream_status", None) or exc.status_code
            record = attempt_record(deployment, status, began, exc.message)
            attempts.append(record)
            # A request's own fault (a 400) shows the deployment up, not failing.
            outcome = kind == "stop"
            if not outcome:
                state.stats.record(False, record["latency_ms"], exc.message)
            return None, exc
        finally:
            if outcome is None:
                state.circuit.release()
            else:
                state.circuit.record(outcome)

    def _deadline_message(self, attempts: list[AttemptRecord], last: RouterError | None) -> str:
        tail = f"; last error: {last.message}" if last is not None else ""
        return (
            f"No answer within the router's deadline of {self.retry.deadline:g}s "
            f"after {len(attempts)} attempt(s){tail}"
        )

    # --- after the call ---------------------------------------------------------

    def report_failure(self, deployment: Deployment, error: UpstreamError, latency_ms: int) -> None:
        """A stream that failed after its first content (no retry is possible then)."""
        deployment.state.stats.record(False, latency_ms, error.message)
        deployment.state.circuit.record(False)

    def reset_health(self) -> None:
        """Close every circuit and forget every deployment's history."""
        self.table.reset()

    def report_tokens(self, deployment: Deployment, tokens: int) -> None:
        deployment.state.usage.add_tokens(tokens)

    def health(self) -> list[dict[str, Any]]:
        """Every deployment's state, for `GET /health/providers` and metrics."""
        out = []
        for d in self.table.deployments():
            stats = d.state.stats
            rate = stats.error_rate
            out.append(
                {
                    "deployment": d.name,
                    "model": d.route,
                    "provider": d.provider,
                    "upstream_model": d.model.target.upstream_model,
                    "weight": d.weight,
                    "state": d.state.circuit.state,
                    "error_rate": None if rate is None else round(rate, 4),
                    "p50_latency_ms": stats.p50,
                    "p95_latency_ms": stats.p95,
                    "requests": stats.total,
                    "failures": stats.failures,
                    "recent_calls": stats.samples,
                    "last_error": stats.last_error,
                    "at_capacity": d.at_cap(),
                    "cooling_down": d.cooling(),
                }
            )
        return out
