"""The learned router's in-memory side: what the request path calls.

    learner.choose(pool, request, candidates)  -> Decision   (no I/O, microseconds)
    learner.observe(request_id, decision, request, outcome, key_id=...)   (no I/O)
    learner.feedback(request_id, score)                       (no I/O)

`choose` reads the current snapshot (one `ClassPolicy` per pool and class
seen, and one per pool for classes not yet seen); `rebuild(arms)` replaces
it from the shared counters. `observe` and `feedback` queue a decision row
and revisions, which `drain()` hands to the store (runtime.py writes them in
batches, off the request path). `Learner` itself does no I/O, so the
simulation in the tests drives it directly.
"""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from model_router.domain.request import Request
from model_router.routing.learned.features import Features, features_of
from model_router.routing.learned.policy import (
    ArmCounts,
    ArmKey,
    ClassPolicy,
    Decision,
    Posterior,
    decide,
    pool_totals,
    posteriors,
)
from model_router.routing.learned.pools import PoolSpec
from model_router.routing.learned.signals import Outcome, Source, implicit_quality

ZERO = Decimal(0)
RECENT_PROMPTS = 50_000  # fingerprints kept for regeneration detection
Snapshot = tuple[dict[tuple[str, str], ClassPolicy], dict[str, ClassPolicy]]
REBUILD_MOVE = 0.5  # posteriors moved by fewer observations keep their sample bank


@dataclass(slots=True)
class DecisionRecord:
    """A `routing_decisions` row."""

    request_id: uuid.UUID
    created_at: datetime
    pool: str
    task_class: str
    features: dict[str, str | int]
    chosen: str
    answered_by: str | None
    probability: float
    default_model: str
    default_probability: float
    explored: bool
    candidates: list[dict[str, Any]]
    estimated_cost_usd: Decimal
    default_cost_usd: Decimal | None  # the default's estimate for this request
    cost_usd: Decimal | None  # what the call cost
    extra_spend_usd: Decimal
    quality: float | None
    quality_source: str
    key_id: uuid.UUID | None
    reason: str


@dataclass(frozen=True, slots=True)
class Revision:
    request_id: uuid.UUID
    quality: float | None
    source: Source


@dataclass(slots=True)
class ExplorationBudget:
    """Exploration's extra spend today (UTC), against each pool's cap.

    `local` is this instance's booking; `others` what the database says the
    other instances spent (the day's total less what this instance wrote)."""

    day: date
    local: dict[str, Decimal] = field(default_factory=dict)
    flushed: dict[str, Decimal] = field(default_factory=dict)
    others: dict[str, Decimal] = field(default_factory=dict)

    def roll(self, today: date) -> None:
        if today != self.day:
            self.day = today
            self.local.clear()
            self.flushed.clear()
            self.others.clear()

    def spent(self, pool: str) -> Decimal:
        return self.local.get(pool, ZERO) + self.others.get(pool, ZERO)

    def left(self, pool: PoolSpec) -> Decimal | None:
        cap = pool.exploration_budget_usd_per_day
        return None if cap is None else max(ZERO, cap - self.spent(pool.name))

    def book(self, pool: str, amount: Decimal) -> None:
        if amount:
            self.local[pool] = self.local.get(pool, ZERO) + amount

    def wrote(self, pool: str, amount: Decimal) -> None:
        self.flushed[pool] = self.flushed.get(pool, ZERO) + amount

    def seen(self, pool: str, day_total: Decimal) -> None:
        self.others[pool] = max(ZERO, day_total - self.flushed.get(pool, ZERO))


def _close(old: Mapping[str, Posterior], new: Mapping[str, Posterior]) -> bool:
    if old.keys() != new.keys():
        return False
    moved = sum(abs(new[m].alpha - p.alpha) + abs(new[m].beta - p.beta) for m, p in old.items())
    return moved < REBUILD_MOVE


class Learner:
    def __init__(
        self,
        pools: Mapping[str, PoolSpec],
        *,
        file_default: str | None = None,
        rng: random.Random | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.pools = dict(pools)
        self.defaults = {name: pool.baseline(file_default) for name, pool in self.pools.items()}
        self._rng = rng or random.Random()
        self._bank_rng = random.Random(self._rng.random())  # sample banks, maybe in a thread
        self._clock = clock
        self._classes: dict[tuple[str, str], ClassPolicy] = {}
        self._unseen: dict[str, ClassPolicy] = {}
        self.budget = ExplorationBudget(self._today())
        self.records: list[DecisionRecord] = []
        self.revisions: list[Revision] = []
        self._recent: dict[int, tuple[uuid.UUID, float]] = {}
        self._class_names: dict[tuple[object, ...], str] = {}
        self.rebuild({})

    def _today(self) -> date:
        return datetime.fromtimestamp(self._clock(), UTC).date()

    def rebuild(self, arms: Mapping[ArmKey, ArmCounts]) -> None:
        """A new snapshot from the shared counters (called every few seconds)."""
        self.install(self.snapshot(arms))

    def install(self, snapshot: Snapshot) -> None:
        self._classes, self._unseen = snapshot

    def snapshot(self, arms: Mapping[ArmKey, ArmCounts]) -> Snapshot:
        """The policies for `arms`, to `install`. Safe to run in a worker thread
        (it only reads the current snapshot, and draws from its own generator).

        A class whose posteriors moved by less than half an observation keeps
        its sample bank (and its exploit tables): the work is proportional to
        the classes that saw traffic, not to every class ever seen."""
        classes: dict[tuple[str, str], ClassPolicy] = {}
        unseen: dict[str, ClassPolicy] = {}
        for name, pool in self.pools.items():
            totals = pool_totals(name, arms)
            unseen[name] = self._policy(
                pool, posteriors(pool, "", arms, totals), self._unseen.get(name)
            )
            for arm_pool, task_class, _model in arms:
                if arm_pool == name and (name, task_class) not in classes:
                    post = posteriors(pool, task_class, arms, totals)
                    old = self._classes.get((name, task_class))
                    classes[(name, task_class)] = self._policy(pool, post, old)
        return classes, unseen

    def _policy(
        self, pool: PoolSpec, post: dict[str, Posterior], old: ClassPolicy | None
    ) -> ClassPolicy:
        if old is not None and old.pool is pool and _close(old.posterior, post):
            return old
        return ClassPolicy(pool, post, self._bank_rng)

    def posterior(self, pool: str, task_class: str) -> dict[str, Posterior]:
        """What the current snapshot believes of each candidate in a class."""
        policy = self._classes.get((pool, task_class)) or self._unseen[pool]
        return dict(policy.posterior)

    def choose(
        self,
        pool: PoolSpec,
        request: Request,
        candidates: Sequence[tuple[str, Decimal]],
        *,
        features: Features | None = None,
    ) -> Decision:
        """Pick one of `candidates` (pool models that can serve the request,
        with their estimated cost) for `request` (`features`: its features,
        when the caller has them already)."""
        features = features or features_of(request)
        key = (features.values(), pool.features)
        task_class = self._class_names.get(key)
        if task_class is None:  # at most 1,800 value combinations per feature list
            task_class = self._class_names[key] = features.task_class(pool.features)
        policy = self._classes.get((pool.name, task_class)) or self._unseen[pool.name]
        self.budget.roll(self._today())
        decision = decide(
            policy,
            task_class,
            candidates,
            default_model=self.defaults[pool.name],
            budget_left=self.budget.left(pool),
            rng=self._rng,
            features=features,
        )
        self.budget.book(pool.name, decision.extra_spend)
        return decision

    def observe(
        self,
        request_id: uuid.UUID,
        decision: Decision,
        request: Request,
        outcome: Outcome,
        *,
        key_id: uuid.UUID | None = None,
        created_at: datetime | None = None,
    ) -> DecisionRecord:
        """Queue the decision's row with the quality its outcome implies; a
        repeat of a recent prompt by the same key revises the earlier answer."""
        pool = self.pools[decision.pool]
        fmt = request.output_format
        wants_schema = fmt is not None and fmt.type == "json_schema"
        quality, source = implicit_quality(pool, outcome, wants_schema=wants_schema)
        if pool.signals.regeneration and key_id is not None:
            self._regeneration(pool, request_id, key_id, request)
        record = DecisionRecord(
            request_id=request_id,
            created_at=created_at or datetime.fromtimestamp(self._clock(), UTC),
            pool=decision.pool,
            task_class=decision.task_class,
            features=decision.features.as_dict() if decision.features else {},
            chosen=decision.chosen,
            answered_by=outcome.answered_by,
            probability=decision.probability,
            default_model=decision.default_model,
            default_probability=decision.default_probability,
            explored=decision.explored,
            candidates=[
                {
                    "model": c.model,
                    "estimated_cost_usd": c.estimated_cost,
                    "probability": c.probability,
                }
                for c in decision.candidates
            ],
            estimated_cost_usd=decision.estimated_cost,
            default_cost_usd=decision.default_cost,
            cost_usd=outcome.cost_usd,
            extra_spend_usd=decision.extra_spend,
            quality=quality,
            quality_source=source,
            key_id=key_id,
            reason=decision.reason,
        )
        self.records.append(record)
        return record

    def _regeneration(
        self, pool: PoolSpec, request_id: uuid.UUID, key_id: uuid.UUID, request: Request
    ) -> None:
        now = self._clock()
        fingerprint = hash((pool.name, key_id, request.prompt_text()))
        earlier = self._recent.pop(fingerprint, None)
        if earlier is not None and now - earlier[1] <= pool.signals.regeneration_window_seconds:
            self.revisions.append(Revision(earlier[0], 0.0, "regenerated"))
        self._recent[fingerprint] = (request_id, now)
        if len(self._recent) > RECENT_PROMPTS:  # the oldest go first (insertion order)
            for old in list(self._recent)[: RECENT_PROMPTS // 10]:
                del self._recent[old]

    def feedback(self, request_id: uuid.UUID, score: float) -> None:
        """An explicit score (0 to 10) for a request; a no-op for one no pool routed."""
        self.revisions.append(Revision(request_id, min(max(score / 10.0, 0.0), 1.0), "feedback"))

    def drain(self) -> tuple[list[DecisionRecord], list[Revision]]:
        records, revisions = self.records, self.revisions
        self.records, self.revisions = [], []
        return records, revisions
