"""The circuit breaker: opens on consecutive failures or a failure rate,
probes after the cooldown, closes on success, and tells its listeners."""

from __future__ import annotations

from model_router.routing.circuit import CircuitBreaker, CircuitPolicy, CircuitState
from tests.unit.routing_fixtures import Clock


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
