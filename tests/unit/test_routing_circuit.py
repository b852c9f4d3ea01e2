"""The circuit breaker: opens on consecutive failures or a failure rate,
probes after the cooldown, closes on success, and tells its listeners. Then the
choices built on it: probes first, panic routing when every deployment is
open, and 429s that never open a circuit."""

from __future__ import annotations

import asyncio
import random
import time
from typing import Any

import pytest

from model_router.costs.models import Catalogue
from model_router.errors import UpstreamError
from model_router.providers.http import error_from_response
from model_router.routing.circuit import CircuitBreaker, CircuitPolicy, CircuitState
from model_router.routing.config import RoutingConfig
from model_router.routing.deployments import Deployment, order, panic_order
from model_router.routing.errors import NoDeploymentAvailable
from model_router.routing.retry import at_capacity
from model_router.routing.route import Route
from model_router.routing.router import Plan, Router
from model_router.settings import Settings
from tests.unit.routing_fixtures import Clock, deployment, model


def _breaker(
    clock: Clock, **policy: float
) -> tuple[CircuitBreaker, list[tuple[str, CircuitState]]]:
    events: list[tuple[str, CircuitState]] = []
    settings = {"failures": 3, "error_rate": 0.5, "window": 10, "cooldown": 30.0, **policy}
    breaker = CircuitBreaker(
        "dep",
        CircuitPolicy(
            failures=int(settings["failures"]),
            error_rate=settings["error_rate"],
            window=int(settings["window"]),
            cooldown=settings["cooldown"],
        ),
        lambda name, state: events.append((name, state)),
        clock,
    )
    return breaker, events


def test_consecutive_failures_open_it_and_it_then_refuses_traffic() -> None:
    breaker, events = _breaker(Clock())
    for _ in range(2):
        breaker.record(False)
    assert breaker.allow()
    breaker.record(False)
    assert breaker.state == "open"
    assert not breaker.allow() and not breaker.available()
    assert events == [("dep", "open")]


def test_a_success_resets_the_consecutive_count() -> None:
    breaker, _ = _breaker(Clock(), window=100)
    for _ in range(5):
        breaker.record(False)
        breaker.record(False)
        breaker.record(True)
    assert breaker.state == "closed"


def test_a_failure_rate_over_the_window_opens_it() -> None:
    breaker, _ = _breaker(Clock(), failures=100, window=10)
    for i in range(9):
        breaker.record(i % 2 == 0)  # 4 of 9 failed: the window is not full yet
    assert breaker.state == "closed"
    breaker.record(False)  # 5 of 10
    assert breaker.state == "open"


def test_after_the_cooldown_one_probe_goes_and_its_success_closes_it() -> None:
    clock = Clock()
    breaker, events = _breaker(clock)
    for _ in range(3):
        breaker.record(False)
    clock.now += 29
    assert not breaker.allow()
    clock.now += 1
    assert breaker.allow()
    assert breaker.state == "half_open"
    assert not breaker.allow()  # only the probe
    breaker.record(True)
    assert breaker.state == "closed" and breaker.allow()
    assert [s for _, s in events] == ["open", "half_open", "closed"]


def test_a_failed_probe_opens_it_for_another_cooldown() -> None:
    clock = Clock()
    breaker, events = _breaker(clock)
    for _ in range(3):
        breaker.record(False)
    clock.now += 30
    assert breaker.allow()
    breaker.record(False)
    assert breaker.state == "open"
    clock.now += 29
    assert not breaker.allow()
    assert [s for _, s in events] == ["open", "half_open", "open"]


def test_a_probe_that_never_reports_is_released() -> None:
    clock = Clock()
    breaker, _ = _breaker(clock)
    for _ in range(3):
        breaker.record(False)
    clock.now += 30
    assert breaker.allow()
    breaker.release()  # the caller went away
    assert breaker.allow()


def test_a_failure_on_an_open_circuit_restarts_its_cooldown() -> None:
    clock = Clock()
    breaker, events = _breaker(clock)
    for _ in range(3):
        breaker.record(False)
    opened = breaker.opened_at
    clock.now += 20
    breaker.record(False)  # a call made in panic, that failed
    assert breaker.state == "open" and breaker.opened_at == opened + 20
    clock.now += 20  # 40 s after it opened, 20 s after the last failure
    assert not breaker.available()
    assert events == [("dep", "open")]


def test_a_success_on_an_open_circuit_closes_it() -> None:
    breaker, events = _breaker(Clock())
    for _ in range(3):
        breaker.record(False)
    breaker.record(True)  # a call made in panic, that succeeded
    assert breaker.state == "closed" and breaker.allow()
    assert [s for _, s in events] == ["open", "closed"]


def test_a_probe_without_an_outcome_lets_the_next_call_probe() -> None:
    clock = Clock()
    breaker, _ = _breaker(clock)
    for _ in range(3):
        breaker.record(False)
    clock.now += 30
    assert breaker.probe_due() and breaker.allow()
    assert not breaker.probe_due()  # its probe is out
    breaker.release()  # it answered 429: at capacity says nothing of health
    assert breaker.state == "half_open" and breaker.probe_due()


# --- choosing deployments: probes first, panic order --------------------------------

INFO = model("gpt-4o-mini")


def _open(d: Deployment) -> Deployment:
    for _ in range(3):
        d.state.circuit.record(False)
    return d


def test_a_deployment_due_a_probe_goes_first_whatever_its_weight() -> None:
    clock = Clock()
    a = deployment("a", INFO, weight=0.001, clock=clock)
    b = deployment("b", INFO, weight=1000, clock=clock)
    _open(a)
    assert [d.name for d in order([a, b], random.Random(1))] == ["b"]
    clock.now += 10  # the cooldown (10 s in the fixtures) passed
    for seed in range(20):
        assert [d.name for d in order([a, b], random.Random(seed))] == ["a", "b"]


def test_panic_order_is_the_open_deployments_open_longest_first() -> None:
    clock = Clock()
    a, b, c = (deployment(n, INFO, clock=clock) for n in "abc")
    _open(b)
    clock.now += 1
    _open(a)
    assert [d.name for d in panic_order([a, b, c, b])] == ["b", "a"]


def test_panic_order_leaves_out_deployments_at_their_cap() -> None:
    clock = Clock()
    a = _open(deployment("a", INFO, rpm=1, clock=clock))
    b = _open(deployment("b", INFO, clock=clock))
    a.state.usage.add_request()
    assert [d.name for d in panic_order([a, b])] == ["b"]


def test_only_a_429_is_at_capacity() -> None:
    assert at_capacity(_upstream(429))
    assert not any(at_capacity(_upstream(s)) for s in (408, 500, 503, 529))


# --- the router: panic routing and 429s, with a scripted upstream -------------------


def _upstream(status: int, retry_after: str | None = None) -> UpstreamError:
    headers = {"retry-after": retry_after} if retry_after else {}
    return error_from_response("openai", status, headers, b"{}", lambda d: (None,) * 4)


class Upstream:
    """Stands in for the provider call: answers each attempt from a script."""

    def __init__(self, *script: int) -> None:
        self.script = list(script)
        self.calls: list[str] = []

    async def __call__(self, deployment: Deployment, _timeout: float) -> str:
        self.calls.append(deployment.name)
        status = self.script.pop(0) if self.script else 200
        if status != 200:
            raise _upstream(status, "100" if status == 429 else None)
        return "answer"


def _run(route: Route, upstream: Upstream) -> tuple[Plan, list[dict[str, Any]], str]:
    settings = Settings.model_construct(router_backoff_base=0.001, router_backoff_max=0.001)
    catalogue = Catalogue(None, settings)  # type: ignore[arg-type]  # run() never reads it
    router = Router(catalogue, RoutingConfig(), settings, rng=random.Random(1))
    plan = Plan(route.name, [route], f"requested {route.name}", 10, 10)
    attempts: list[dict[str, Any]] = []
    result, _ = asyncio.run(router.run(plan, upstream, attempts, time.perf_counter()))
    return plan, attempts, str(result)


def test_a_route_whose_only_deployment_is_open_is_called_in_panic() -> None:
    solo = _open(deployment("solo", INFO))
    upstream = Upstream(200)
    plan, attempts, result = _run(Route("m", [solo]), upstream)
    assert result == "answer" and upstream.calls == ["solo"]
    assert [(a["status"], a.get("panic")) for a in attempts] == [(200, True)]
    assert solo.state.circuit.state == "closed"
    assert solo.state.stats.panics == 1
    assert plan.notes == [
        "panic: every deployment of m has an open circuit, "
        "so the one open longest (solo) is tried anyway"
    ]


def test_an_open_deployment_gets_nothing_while_a_sibling_is_healthy() -> None:
    a, b = _open(deployment("a", INFO)), deployment("b", INFO)
    upstream = Upstream()
    plan, attempts, _ = _run(Route("m", [a, b]), upstream)
    assert upstream.calls == ["b"] and "panic" not in attempts[0]
    assert plan.notes == []


def test_a_failed_panic_call_is_not_retried_on_the_same_deployment() -> None:
    solo = _open(deployment("solo", INFO))
    with pytest.raises(UpstreamError):
        _run(Route("m", [solo]), Upstream(500, 200))
    assert solo.state.circuit.state == "open"


def test_429s_are_retried_but_never_open_the_circuit() -> None:
    solo = deployment("solo", INFO)
    for _ in range(5):  # retry-after 100 s: longer than the router waits, so one call each
        with pytest.raises(UpstreamError) as raised:
            _run(Route("m", [solo]), Upstream(429))
        assert raised.value.upstream_status == 429
    assert solo.state.circuit.state == "closed" and solo.cooling()
    assert solo.state.stats.failures == 5  # still counted in its error rate
    _, attempts, _ = _run(Route("m", [solo]), Upstream())  # cooling is tried, not refused
    assert "panic" not in attempts[0]


def test_a_route_whose_every_deployment_is_capped_is_refused() -> None:
    capped = deployment("capped", INFO, rpm=1)
    capped.state.usage.add_request()
    with pytest.raises(NoDeploymentAvailable, match="every deployment at its rpm/tpm cap"):
        _run(Route("m", [capped]), Upstream())
