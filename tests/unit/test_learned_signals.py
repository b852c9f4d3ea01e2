"""Implicit quality signals, regenerations, feedback that outranks them, and the
exploration budget's day."""

from __future__ import annotations

import random
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from model_router.domain.content import Message, Text
from model_router.domain.request import Request
from model_router.routing.learned.learner import Learner, Revision
from model_router.routing.learned.memory import MemoryStore
from model_router.routing.learned.pools import PoolSpec, Signals
from model_router.routing.learned.signals import Outcome, implicit_quality, revision_delta

POOL = PoolSpec(name="p", candidates=("a", "b"), default_model="b")
COSTS = [("a", Decimal("0.001")), ("b", Decimal("0.002"))]
KEY = uuid.uuid4()


def _request(text: str = "hello") -> Request:
    return Request(model="p", messages=[Message("user", [Text(text)])])


@pytest.mark.parametrize(
    ("outcome", "schema", "expected"),
    [
        (Outcome("error"), False, (0.0, "error")),
        (Outcome("success", "length", "cut"), False, (0.0, "length")),
        (Outcome("success", "stop", "not json"), True, (0.0, "invalid_json")),
        (Outcome("success", "stop", '{"ok": true}'), True, (None, "success")),
        (Outcome("success", "stop", "not json"), False, (None, "success")),
    ],
)
def test_an_outcome_implies_a_quality(
    outcome: Outcome, schema: bool, expected: tuple[float | None, str]
) -> None:
    assert implicit_quality(POOL, outcome, wants_schema=schema) == expected


def test_each_signal_can_be_switched_off() -> None:
    off = replace(
        POOL,
        signals=Signals(upstream_error=False, truncated=False, invalid_json=False),
        unrated_success=0.6,
    )
    assert implicit_quality(off, Outcome("error"), wants_schema=False) == (None, "error")
    assert implicit_quality(off, Outcome("success", "length"), wants_schema=False) == (
        0.6,
        "success",
    )
    assert implicit_quality(off, Outcome("success", "stop", "x"), wants_schema=True)[0] == 0.6


def test_stronger_evidence_replaces_weaker_and_never_the_reverse() -> None:
    assert revision_delta(0.0, "error", 0.9, "feedback") == pytest.approx((0.9, -0.9, 0))
    assert revision_delta(None, "success", 0.0, "regenerated") == (0.0, 1.0, 1)
    assert revision_delta(0.9, "feedback", 0.0, "regenerated") is None
    assert revision_delta(0.9, "feedback", 0.3, "feedback") == pytest.approx((-0.6, 0.6, 0))


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 12, 2, 23, 59, tzinfo=UTC).timestamp()

    def __call__(self) -> float:
        return self.now


def _learner(pool: PoolSpec = POOL) -> tuple[Learner, Clock]:
    clock = Clock()
    return Learner({pool.name: pool}, rng=random.Random(1), clock=clock), clock


def _call(learner: Learner, text: str, key: uuid.UUID | None = KEY) -> uuid.UUID:
    request_id = uuid.uuid4()
    decision = learner.choose(POOL, _request(text), COSTS)
    learner.observe(request_id, decision, _request(text), Outcome("success"), key_id=key)
    return request_id


def test_the_same_prompt_again_from_the_same_key_marks_the_earlier_answer_bad() -> None:
    learner, clock = _learner()
    first = _call(learner, "write a limerick")
    _call(learner, "write a limerick", key=uuid.uuid4())  # someone else: not a regeneration
    _call(learner, "something else")
    clock.now += 60
    _call(learner, "write a limerick")
    assert learner.revisions == [Revision(first, 0.0, "regenerated")]


def test_a_repeat_after_the_window_is_not_a_regeneration() -> None:
    learner, clock = _learner()
    _call(learner, "write a limerick")
    clock.now += POOL.signals.regeneration_window_seconds + 1
    _call(learner, "write a limerick")
    assert learner.revisions == []


def test_feedback_after_a_regeneration_decides_the_quality() -> None:
    pool = replace(POOL, unrated_success=1.0)
    learner, _ = _learner(pool)
    first = _call(learner, "again")
    _call(learner, "again")
    learner.feedback(first, 8)
    store = MemoryStore()
    store.write(*learner.drain())
    assert store.decisions[first].quality == pytest.approx(0.8)
    assert store.decisions[first].quality_source == "feedback"
    assert sum(a.n for a in store.arms.values()) == 2
    assert sum(a.alpha for a in store.arms.values()) == pytest.approx(1.8)


def test_the_exploration_budget_starts_afresh_each_utc_day() -> None:
    pool = replace(POOL, exploration=1.0, exploration_budget_usd_per_day=Decimal("0.0015"))
    learner, clock = _learner(pool)
    for _ in range(50):
        learner.choose(pool, _request(), COSTS)
    assert learner.budget.spent("p") <= Decimal("0.0015")
    assert learner.budget.spent("p") == Decimal("0.001")  # one exploration of b fitted
    clock.now += timedelta(minutes=2).total_seconds()  # past midnight
    learner.choose(pool, _request(), COSTS)
    assert learner.budget.spent("p") <= Decimal("0.001")
    assert learner.budget.day == datetime.fromtimestamp(clock.now, UTC).date()
