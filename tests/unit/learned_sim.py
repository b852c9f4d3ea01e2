"""A pure, seeded simulation of learned routing: mock models with known
quality per task class and known prices, and a feedback simulator.

The learner is driven exactly as the request path drives it (`choose`, then
`observe` with the call's outcome, `feedback` for a rated answer); every
`batch` requests the queue is written to an in-memory store and the snapshot
rebuilt from its counters, as the runtime does every few seconds.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from decimal import Decimal

from model_router.domain.content import Message, Text
from model_router.domain.request import Request
from model_router.routing.learned.learner import DecisionRecord, Learner
from model_router.routing.learned.memory import MemoryStore
from model_router.routing.learned.pools import PoolSpec
from model_router.routing.learned.signals import Outcome

M = Decimal(1_000_000)
# USD per 1M tokens: (input, output)
PRICES = {
    "cheap": (Decimal("0.15"), Decimal("0.6")),
    "mid": (Decimal("1"), Decimal("4")),
    "premium": (Decimal("5"), Decimal("15")),
}
PROMPTS = {
    "code=no,script=latin": "Summarise the meeting notes about the quarterly budget, briefly.",
    "code=yes,script=latin": "Fix this function:\n```python\ndef f(x):\n    return x +\n```",
    "code=no,script=cjk": "请把这段文字翻译成英文，并解释其中的语法。",
}
# The probability that each model's answer is good enough, per class.
QUALITY = {
    "code=no,script=latin": {"cheap": 0.88, "mid": 0.9, "premium": 0.95},
    "code=yes,script=latin": {"cheap": 0.35, "mid": 0.85, "premium": 0.93},
    "code=no,script=cjk": {"cheap": 0.3, "mid": 0.5, "premium": 0.92},
}
EXPECTED_OUTPUT = 256  # what the router assumes before the call
MEAN_OUTPUT = 250  # what the mock models write on average (uniform 100..400)
NOW = datetime(2026, 12, 2, 12, tzinfo=UTC)

POOL = PoolSpec(
    name="auto-sim",
    candidates=("cheap", "mid", "premium"),
    default_model="premium",
    objective="cheapest_good_enough",
    quality_bar=0.75,
    exploration=0.1,
    features=("code", "script"),
)


def price(model: str, prompt: int, output: int) -> Decimal:
    rate_in, rate_out = PRICES[model]
    return (rate_in * prompt + rate_out * output) / M


def oracle(task_class: str, pool: PoolSpec = POOL) -> str:
    """The cheapest model whose true quality meets the bar."""
    ok = [m for m in pool.candidates if QUALITY[task_class][m] >= pool.quality_bar]
    return min(ok, key=lambda m: PRICES[m])


@dataclass
class Run:
    records: list[DecisionRecord] = field(default_factory=list)
    classes: list[str] = field(default_factory=list)
    regret: list[int] = field(default_factory=list)  # 1: not the oracle's choice
    true_savings: list[Decimal] = field(default_factory=list)  # expected, per request
    store: MemoryStore = field(default_factory=MemoryStore)


def simulate(
    requests: int,
    *,
    pool: PoolSpec = POOL,
    seed: int = 7,
    feedback_rate: float = 0.6,
    batch: int = 100,
    truncation: dict[str, dict[str, float]] | None = None,
) -> Run:
    """`truncation`: per class and model, the share of answers cut at the
    token limit (an implicit signal); none by default."""
    world = random.Random(seed)
    learner = Learner({pool.name: pool}, rng=random.Random(seed + 1), clock=lambda: NOW.timestamp())
    run = Run()
    classes = sorted(PROMPTS)
    for i in range(requests):
        task_class = classes[world.randrange(len(classes))]
        prompt = world.randint(200, 2000)
        request = Request(model=pool.name, messages=[Message("user", [Text(PROMPTS[task_class])])])
        candidates = [(m, price(m, prompt, EXPECTED_OUTPUT)) for m in pool.candidates]
        decision = learner.choose(pool, request, candidates)
        assert decision.task_class == task_class
        chosen = decision.chosen
        output = world.randint(100, 400)
        request_id = uuid.UUID(int=i + 1)
        cut = world.random() < (truncation or {}).get(task_class, {}).get(chosen, 0.0)
        finish = "length" if cut else "stop"
        learner.observe(
            request_id,
            decision,
            request,
            Outcome("success", finish, "ok", price(chosen, prompt, output), chosen),
            created_at=NOW,
        )
        good = world.random() < QUALITY[task_class][chosen]
        if world.random() < feedback_rate:
            learner.feedback(request_id, 10.0 if good else 0.0)
        run.classes.append(task_class)
        run.regret.append(int(chosen != oracle(task_class, pool)))
        run.true_savings.append(
            price(pool.baseline(None), prompt, MEAN_OUTPUT) - price(chosen, prompt, MEAN_OUTPUT)
        )
        if (i + 1) % batch == 0 or i + 1 == requests:
            run.store.write(*learner.drain())
            learner.rebuild(run.store.arms)
    run.records = [run.store.decisions[uuid.UUID(int=i + 1)] for i in range(requests)]
    return run


def capped(pool: PoolSpec, usd: str) -> PoolSpec:
    return replace(pool, exploration_budget_usd_per_day=Decimal(usd))
