"""Learned routing against a simulated world with known answers (seeded, in-process)."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from model_router.routing.learned.report import build_report
from tests.unit.learned_sim import POOL, PROMPTS, Run, capped, oracle, simulate

REQUESTS = 6000


@pytest.fixture(scope="module")
def run() -> Run:
    return simulate(REQUESTS)


def test_each_class_ends_up_mostly_on_the_cheapest_model_that_meets_the_bar(run: Run) -> None:
    last = range(REQUESTS * 2 // 3, REQUESTS)
    for task_class in PROMPTS:
        chosen = [run.records[i].chosen for i in last if run.classes[i] == task_class]
        share = chosen.count(oracle(task_class)) / len(chosen)
        assert share >= 0.8, (task_class, share)


def test_regret_grows_sublinearly(run: Run) -> None:
    half = REQUESTS // 2
    first, second = sum(run.regret[:half]), sum(run.regret[half:])
    # Exploration keeps a floor (10 % of traffic, 2 of 3 candidates off the
    # oracle): 1/15 of requests. Above the floor, the second half must regret
    # far less than the first.
    floor = half * POOL.exploration * 2 / 3
    assert second < first
    assert second - floor < (first - floor) / 2, (first, second, floor)


def test_exploration_stays_within_its_share(run: Run) -> None:
    explored = sum(r.explored for r in run.records) / REQUESTS
    # 10 % on average; 3 standard errors of slack for a binomial share.
    assert explored <= POOL.exploration + 3 * (0.1 * 0.9 / REQUESTS) ** 0.5


def test_logged_probabilities_are_those_of_the_choices_made(run: Run) -> None:
    """Averaged over decisions, 1/p of the chosen model sums to about K per
    decision (the inverse-propensity identity): the propensities are honest."""
    per_decision = sum(1 / r.probability for r in run.records) / REQUESTS
    assert per_decision == pytest.approx(len(POOL.candidates), rel=0.1)


def test_report_savings_interval_contains_the_true_savings(run: Run) -> None:
    report = build_report(POOL.name, "premium", run.records, days=1)
    savings = report.overall.savings_per_request_usd
    assert savings is not None and savings.low is not None and savings.high is not None
    true = sum(run.true_savings, Decimal(0)) / REQUESTS
    assert savings.low <= true <= savings.high, (savings, true)
    assert savings.estimate > 0


def test_report_shows_quality_per_class_with_intervals(run: Run) -> None:
    report = build_report(POOL.name, "premium", run.records, days=1)
    assert {c.task_class for c in report.classes} == set(PROMPTS)
    code = next(c for c in report.classes if c.task_class == "code=yes,script=latin")
    top = code.models[0]
    assert top.model == "mid"
    assert top.quality is not None and top.quality.low is not None and top.quality.high is not None
    assert top.quality.low <= 0.85 <= top.quality.high


def test_exploration_spend_stays_under_its_daily_cap() -> None:
    pool = capped(POOL, "0.02")
    run = simulate(3000, pool=pool)
    spent = sum((r.extra_spend_usd for r in run.records if r.explored), Decimal(0))
    assert spent <= Decimal("0.02")
    explored = [r for r in run.records if r.explored]
    assert explored and any(r.default_probability == 0 for r in run.records[-500:])


def test_the_same_seed_gives_the_same_decisions() -> None:
    a, b = simulate(500, seed=3), simulate(500, seed=3)
    assert [r.chosen for r in a.records] == [r.chosen for r in b.records]


def test_implicit_signals_alone_steer_a_class_away_from_a_model_that_truncates() -> None:
    """No feedback at all; unrated successes count as good (`unrated_success: 1`)
    and answers cut at the token limit as bad: in the code class the cheap model
    truncates 60 % of its answers, so the class moves to the next cheapest."""
    pool = replace(POOL, unrated_success=1.0)
    truncation = {"code=yes,script=latin": {"cheap": 0.6, "mid": 0.05, "premium": 0.05}}
    run = simulate(3000, pool=pool, feedback_rate=0.0, truncation=truncation)
    last = [
        r.chosen
        for r, c in zip(run.records[2000:], run.classes[2000:], strict=True)
        if c == "code=yes,script=latin"
    ]
    assert last.count("mid") / len(last) >= 0.8
    plain = [
        r.chosen
        for r, c in zip(run.records[2000:], run.classes[2000:], strict=True)
        if c == "code=no,script=latin"
    ]
    assert plain.count("cheap") / len(plain) >= 0.8
    assert any(r.quality_source == "length" for r in run.records)
