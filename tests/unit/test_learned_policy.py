"""The bandit: its choices follow the probabilities it logs, its objectives,
its exploration share and budget, and the prior a new class borrows."""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import replace
from decimal import Decimal

import pytest

from model_router.routing.learned.policy import (
    ArmCounts,
    ClassPolicy,
    Posterior,
    decide,
    posteriors,
)
from model_router.routing.learned.pools import PoolSpec

POOL = PoolSpec(name="p", candidates=("a", "b", "c"), default_model="c", quality_bar=0.7)
COSTS = [("a", Decimal("0.001")), ("b", Decimal("0.004")), ("c", Decimal("0.02"))]
# Uncertain posteriors, so that exploitation itself spreads over the models.
UNSURE = {"a": Posterior(3, 2), "b": Posterior(4, 2), "c": Posterior(5, 2)}


def _policy(pool: PoolSpec, posterior: dict[str, Posterior], seed: int = 0) -> ClassPolicy:
    return ClassPolicy(pool, posterior, random.Random(seed))


@pytest.mark.parametrize("budget", [None, Decimal("0.005"), Decimal(0)])
def test_choices_follow_the_logged_probabilities(budget: Decimal | None) -> None:
    policy = _policy(POOL, UNSURE)
    rng = random.Random(1)
    draws = 20_000
    seen: Counter[str] = Counter()
    logged: dict[str, float] = {}
    for _ in range(draws):
        decision = decide(policy, "x", COSTS, default_model="c", budget_left=budget, rng=rng)
        seen[decision.chosen] += 1
        logged = {c.model: c.probability for c in decision.candidates}
        assert decision.probability == logged[decision.chosen]
        assert decision.default_probability == logged["c"]
    assert sum(logged.values()) == pytest.approx(1)
    for model, p in logged.items():
        assert seen[model] / draws == pytest.approx(p, abs=4 * (p * (1 - p) / draws) ** 0.5 + 1e-9)


def test_exploration_out_of_budget_never_picks_a_dearer_model_to_explore() -> None:
    sure = {"a": Posterior(90, 10), "b": Posterior(95, 5), "c": Posterior(99, 1)}
    policy = _policy(POOL, sure)
    rng = random.Random(2)
    decisions = [
        decide(policy, "x", COSTS, default_model="c", budget_left=Decimal(0), rng=rng)
        for _ in range(2000)
    ]
    assert all(d.chosen == "a" for d in decisions)  # a meets the bar and is cheapest
    assert all(d.extra_spend == 0 for d in decisions)
    assert decisions[0].default_probability == 0.0
    explored = [d for d in decisions if d.explored]
    assert explored  # exploring the cheapest model costs nothing extra: still allowed


def test_exploration_books_what_it_costs_above_the_cheapest() -> None:
    sure = {"a": Posterior(90, 10), "b": Posterior(95, 5), "c": Posterior(99, 1)}
    pool = replace(POOL, exploration=1.0)
    policy = _policy(pool, sure)
    rng = random.Random(3)
    decisions = [
        decide(policy, "x", COSTS, default_model="c", budget_left=None, rng=rng) for _ in range(300)
    ]
    for d in decisions:
        assert d.explored
        assert d.extra_spend == dict(COSTS)[d.chosen] - Decimal("0.001")
        assert d.probability == pytest.approx(1 / 3)


def test_cheapest_good_enough_takes_the_cheapest_model_meeting_the_bar() -> None:
    known = {"a": Posterior(30, 70), "b": Posterior(90, 10), "c": Posterior(99, 1)}
    pool = replace(POOL, exploration=0.0)
    decision = decide(
        _policy(pool, known), "x", COSTS, default_model="c", budget_left=None, rng=random.Random()
    )
    assert decision.chosen == "b" and decision.order == ("b", "a", "c")
    assert decision.probability == pytest.approx(1.0)
    assert "pool p: b (exploit" in decision.reason


def test_best_under_cost_takes_the_best_model_under_the_ceiling() -> None:
    known = {"a": Posterior(30, 70), "b": Posterior(90, 10), "c": Posterior(99, 1)}
    pool = replace(POOL, objective="best_under_cost", max_cost_usd=Decimal("0.01"), exploration=0)
    policy = _policy(pool, known)
    decision = decide(policy, "x", COSTS, default_model="c", budget_left=None, rng=random.Random())
    assert decision.chosen == "b"  # c is better but over the ceiling
    dear = [(m, c * 100) for m, c in COSTS]  # nothing under the ceiling: the cheapest
    decision = decide(policy, "x", dear, default_model="c", budget_left=None, rng=random.Random())
    assert decision.chosen == "a"


def test_only_the_candidates_that_can_serve_the_request_are_chosen_from() -> None:
    policy = _policy(POOL, UNSURE)
    rng = random.Random(4)
    for _ in range(200):
        decision = decide(policy, "x", COSTS[:2], default_model="c", budget_left=None, rng=rng)
        assert decision.chosen in {"a", "b"} and decision.default_probability == 0.0
        assert {c.model for c in decision.candidates} == {"a", "b"}


def test_a_new_class_borrows_the_pools_mean_for_each_model() -> None:
    arms = {
        ("p", "seen", "a"): ArmCounts(2.0, 18.0, 20),  # a is poor elsewhere
        ("p", "seen", "b"): ArmCounts(18.0, 2.0, 20),
    }
    fresh = posteriors(POOL, "new", arms)
    assert fresh["a"].mean == pytest.approx((1 + 4 * 0.1) / 6)  # prior_weight 4
    assert fresh["b"].mean == pytest.approx((1 + 4 * 0.9) / 6)
    assert fresh["c"] == Posterior(1.0, 1.0)
    own = posteriors(POOL, "seen", arms)
    assert own["a"] == Posterior(1 + 2.0, 1 + 18.0)  # a class's own counts, not borrowed twice
