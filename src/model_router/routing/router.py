"""The router: plans a call (which models, in what order, and why) and runs
it (attempts across deployments with retries, backoff, retry-after and a
deadline), keeping every deployment's health.

    plan = router.plan(request)                  # before any upstream call
    result, deployment = await router.run(plan, attempt, log, started)

`attempt(deployment, timeout)` makes one upstream call; for a stream it
returns once the first content arrived, so failures before it are retried.
When open circuits leave nothing to call in the whole chain, the deployments
open longest are called anyway ("panic"); a 429 never counts towards opening
a circuit (docs/routing.md).
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
from model_router.routing.deployments import Deployment, order, panic_order
from model_router.routing.errors import ContextTooLong, DeadlineExceeded, NoDeploymentAvailable
from model_router.routing.health_report import deployment_health, models_in_panic
from model_router.routing.retry import RetryPolicy, at_capacity, retry_after, verdict
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
    # Said in the routing reason: models skipped before any call, panic routing.
    notes: list[str] = field(default_factory=list)

    @property
    def is_auto(self) -> bool:
        return self.requested == auto.AUTO


def models_list(options: dict[str, Any]) -> list[str]:
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


def chain(table: RoutingTable, names: list[str]) -> list[Route]:
    """The routes of the models named (the first, then the caller's `models`),
    then the first one's fallbacks from the routing file."""
    names = list(dict.fromkeys(names))
    routes = [table.get(name) for name in names]
    routes += [table.get(f) for f in dict.fromkeys(routes[0].fallbacks) if f not in names]
    return routes


def chat_routes(routes: list[Route], requested: str) -> list[Route]:
    """The routes a chat call may take: an embedding model named first is a
    400; one among the fallbacks is skipped."""
    if routes[0].embeds:
        raise InvalidRequest(
            f"The model '{requested}' is an embedding model: use POST /v1/embeddings.",
            param="model",
            code="model_not_supported",
        )
    return [r for r in routes if not r.embeds]


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


def _why_unusable(route: Route) -> str:
    """Why no deployment of a model can be called now."""
    if not route.deployments:
        return "no deployment"
    if all(d.at_cap() for d in route.deployments):
        return "every deployment at its rpm/tpm cap"
    return "no healthy deployment"


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
        names = [request.model, *models_list(request.options)]
        routes = chat_routes(chain(self.table, names), request.model)
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
        return self.route_of(self.table.default_model)

    def route_of(self, name: str) -> Route | None:
        """The route of a model name, None when there is none."""
        try:
            return self.table.get(name)
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
        When open circuits leave no deployment of any of the plan's models to
        call, the request is tried anyway on those open longest (`_panic`).
        """
        deadline = started + self.retry.deadline
        before = len(attempts)
        last: RouterError | None = None
        for route in plan.routes:
            candidates = order(route.deployments, self._rng)
            if not candidates:
                continue
            outcome = await self._run_route(route, candidates, attempt, attempts, deadline)
            if isinstance(outcome, RouterError):
                if last is None or not isinstance(outcome, NoDeploymentAvailable):
                    last = outcome  # an upstream's error says more than "none free"
                continue
            return outcome
        if len(attempts) == before:  # open circuits (or caps) left nothing to call
            panicked = await self._panic(plan, attempt, attempts, deadline)
            if panicked is not None:
                if isinstance(panicked, RouterError):
                    raise panicked
                return panicked
        if last is not None and len(attempts) > before:
            raise last
        raise NoDeploymentAvailable(
            "No deployment can take the request now: "
            + ", ".join(f"{r.name} ({_why_unusable(r)})" for r in plan.routes)
            + "."
        )

    async def _panic(
        self,
        plan: Plan,
        attempt: Attempt[T],
        attempts: list[AttemptRecord],
        deadline: float,
    ) -> tuple[T, Deployment] | RouterError | None:
        """Panic routing: every deployment of the plan's models has an open
        circuit, so rather than refuse, call them anyway, open longest first,
        each once and at most `max_retries + 1` calls. None: nothing to call
        (every deployment is at its cap)."""
        candidates = panic_order([d for r in plan.routes for d in r.deployments])
        if not candidates:
            return None
        models = ", ".join(r.name for r in plan.routes)
        plan.notes.append(
            f"panic: every deployment of {models} has an open circuit, "
            f"so the one open longest ({candidates[0].name}) is tried anyway"
        )
        last: RouterError | None = None
        for deployment in candidates[: self.retry.max_retries + 1]:
            remaining = deadline - time.perf_counter()
            if remaining <= 0:
                raise DeadlineExceeded(self._deadline_message(attempts, last))
            log.info("panic routing: calling %s although its circuit is open", deployment.name)
            result, error = await self._attempt(
                deployment, attempt, attempts, remaining, panic=True
            )
            if error is None:
                return result, deployment  # type: ignore[return-value]
            if isinstance(error, DeadlineExceeded) or verdict(error) == "stop":
                raise error
            last = error
            self._cool(deployment, error)
        return last

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
            if (hint := self._cool(deployment, error)) is not None:
                hinted.add(deployment.name)
                if hint > self.retry.retry_after_max:
                    candidates.remove(deployment)  # longer than we wait: go elsewhere
            tries += 1
        return last or NoDeploymentAvailable(
            f"No deployment of {route.name} can take the request now."
        )

    @staticmethod
    def _cool(deployment: Deployment, error: RouterError) -> float | None:
        """Honour the upstream's retry-after (returned), if it sent one: the
        deployment goes last in the order until then; it is not refused."""
        hint = retry_after(error)
        if hint is not None:
            deployment.state.cooling_until = deployment.clock() + hint
        return hint

    async def _attempt(
        self,
        deployment: Deployment,
        attempt: Attempt[T],
        attempts: list[AttemptRecord],
        remaining: float,
        *,
        panic: bool = False,
    ) -> tuple[T | None, RouterError | None]:
        """One upstream call: (result, None) or (None, its error); health recorded.

        `panic`: the call is made although the circuit is open; its record says
        so. A 429 is no outcome for the circuit (at capacity, not broken)."""
        state = deployment.state
        state.usage.add_request()
        if panic:
            state.stats.record_panic()
        began = time.perf_counter()
        outcome: bool | None = None

        def record(status: int, error: str | None) -> AttemptRecord:
            entry = attempt_record(deployment, status, began, error)
            if panic:
                entry["panic"] = True
            attempts.append(entry)
            return entry

        limit = min(remaining, self.retry.attempt_timeout)
        try:
            async with asyncio.timeout(limit):
                result = await attempt(deployment, limit)
            outcome = True
            state.stats.record(True, record(200, None)["latency_ms"])
            return result, None
        except TimeoutError:
            outcome = False
            deadline = limit >= remaining
            message = f"{deployment.name}: no answer within {limit:g}s" + (
                " (the request's deadline)" if deadline else ""
            )
            state.stats.record(False, record(504, message)["latency_ms"], message)
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
            record(exc.status_code, exc.message)
            return None, exc
        except RouterError as exc:
            kind = verdict(exc)
            status = getattr(exc, "upstream_status", None) or exc.status_code
            entry = record(status, exc.message)
            if kind != "stop":
                state.stats.record(False, entry["latency_ms"], exc.message)
            # A request's own fault (a 400) shows the deployment up, not failing;
            # a 429 shows it at capacity: no outcome for the circuit.
            outcome = None if at_capacity(exc) else kind == "stop"
            return None, exc
        finally:
            if outcome is not None:
                state.circuit.record(outcome)
            elif not panic:  # a panic call never took the probe
                state.circuit.release()

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
        return deployment_health(self.table)

    def in_panic(self) -> list[str]:
        """The models whose requests now go through on open circuits."""
        return models_in_panic(self.table)
