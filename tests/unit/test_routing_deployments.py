"""Spreading traffic over deployments: by weight, away from failing, slow,
capped and cooling deployments, and never to an open circuit."""

from __future__ import annotations

import random
from collections import Counter

from model_router.routing.deployments import order
from tests.unit.routing_fixtures import Clock, deployment, model

INFO = model("gpt-4o-mini")


def _firsts(deployments: list, n: int = 2000, seed: int = 7) -> Counter[str]:
    rng = random.Random(seed)
    return Counter(order(deployments, rng)[0].name for _ in range(n))


def test_first_choices_follow_the_weights() -> None:
    deployments = [
        deployment("a", INFO, weight=3),
        deployment("b", INFO, weight=1),
        deployment("c", INFO, weight=1),
    ]
    counts = _firsts(deployments)
    # Expected 1200 / 400 / 400; the tolerance is over 5 standard deviations.
    assert abs(counts["a"] - 1200) < 120
    assert abs(counts["b"] - 400) < 100
    assert abs(counts["c"] - 400) < 100


def test_every_usable_deployment_is_in_the_order_once() -> None:
    deployments = [deployment(n, INFO) for n in "abcd"]
    picked = order(deployments, random.Random(1))
    assert sorted(d.name for d in picked) == ["a", "b", "c", "d"]


def test_an_open_circuit_gets_no_traffic() -> None:
    a, b = deployment("a", INFO), deployment("b", INFO)
    for _ in range(3):
        a.state.circuit.record(False)
    assert a.state.circuit.state == "open"
    assert {d.name for d in order([a, b], random.Random(1))} == {"b"}


def test_a_failing_deployment_gets_less_traffic() -> None:
    a, b = deployment("a", INFO), deployment("b", INFO)
    for i in range(20):  # half of a's recent calls failed (never 3 in a row)
        a.state.stats.record(i % 2 == 0, 100)
        b.state.stats.record(True, 100)
    counts = _firsts([a, b])
    # a's weight is scaled by (1 - 0.5)^2: expected share 0.2 of 2000.
    assert abs(counts["a"] - 400) < 100


def test_a_slow_deployment_gets_less_traffic() -> None:
    a, b = deployment("a", INFO), deployment("b", INFO)
    for _ in range(10):
        a.state.stats.record(True, 1000)
        b.state.stats.record(True, 250)
    counts = _firsts([a, b])
    # a is 4x slower at the median: weight 1/4, expected share 0.2.
    assert abs(counts["a"] - 400) < 100


def test_a_deployment_at_its_rpm_cap_gets_no_traffic_until_the_minute_passes() -> None:
    clock = Clock()
    a = deployment("a", INFO, rpm=2, clock=clock)
    b = deployment("b", INFO, clock=clock)
    a.state.usage.add_request()
    a.state.usage.add_request()
    assert a.at_cap()
    assert {d.name for d in order([a, b], random.Random(1))} == {"b"}
    clock.now += 61
    assert not a.at_cap()


def test_the_usage_window_counts_the_last_minute_at_any_rate() -> None:
    clock = Clock()
    a = deployment("a", INFO, rpm=6_000, tpm=600_000, clock=clock)
    for _ in range(120 * 100):  # 100 requests/s for two minutes, 50 tokens each
        a.state.usage.add_request()
        a.state.usage.add_tokens(50)
        clock.now += 0.01
    # The last minute, give or take the one-second bucket the count is kept in.
    assert 6_000 <= a.state.usage.requests() <= 6_100
    assert 300_000 <= a.state.usage.tokens() <= 305_000
    assert a.at_cap()
    clock.now += 61
    assert a.state.usage.requests() == 0 and a.state.usage.tokens() == 0
    assert not a.at_cap()


def test_a_deployment_at_its_tpm_cap_gets_no_traffic() -> None:
    a = deployment("a", INFO, tpm=1000)
    a.state.usage.add_tokens(1200)
    assert a.at_cap()
    assert order([a], random.Random(1)) == []


def test_a_deployment_cooling_after_retry_after_goes_last() -> None:
    clock = Clock()
    a = deployment("a", INFO, weight=100, clock=clock)
    b = deployment("b", INFO, clock=clock)
    a.state.cooling_until = clock.now + 5
    assert [d.name for d in order([a, b], random.Random(1))] == ["b", "a"]
    clock.now += 6
    assert _firsts([a, b], n=200)["a"] > 150
