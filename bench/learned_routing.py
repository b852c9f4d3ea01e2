"""Micro-benchmark: what learned routing adds to a request, in microseconds.

    .venv/bin/python bench/learned_routing.py [--calls 20000]

Times `Learner.choose` (features of the request, its task class, the
snapshot lookup, the Thompson draw, exact probabilities, the exploration
budget) and `Learner.observe` (after the call: the decision row queued,
implicit signals, the regeneration check), on a snapshot rebuilt from arms
of 200 classes x 4 candidates, for a few kinds of request. Prints the median
and the 99th percentile per call, and a calibration (`sum(range(1000))`,
about 8 µs on an idle modern core) to read them against on a busy machine.
No timing is asserted anywhere in the tests.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
import uuid
from decimal import Decimal

from model_router.domain.content import Image, Message, Text
from model_router.domain.request import OutputFormat, Request, Tool
from model_router.routing.learned.features import FEATURES
from model_router.routing.learned.learner import Learner
from model_router.routing.learned.policy import ArmCounts
from model_router.routing.learned.pools import PoolSpec
from model_router.routing.learned.signals import Outcome

POOL = PoolSpec(
    name="auto-bench",
    candidates=("mini", "haiku", "flash", "large"),
    default_model="large",
    exploration_budget_usd_per_day=Decimal("5"),
)
COSTS = [
    ("mini", Decimal("0.00021")),
    ("haiku", Decimal("0.0011")),
    ("flash", Decimal("0.00035")),
    ("large", Decimal("0.0042")),
]
CODE = "def handler(event):\n    return {'ok': True}\n" * 400  # ~17k characters


def _requests() -> dict[str, Request]:
    def user(*parts: Text | Image) -> Message:
        return Message("user", list(parts))

    chat = [Message("system", [Text("You are helpful.")])]
    for i in range(10):
        chat.append(user(Text(f"Question {i} about the weather in Paris?")))
        chat.append(Message("assistant", [Text("It is sunny." * 20)]))
    chat.append(user(Text("And tomorrow?")))
    return {
        "short chat": Request(model="auto-bench", messages=[user(Text("Hi, how are you?"))]),
        "21-turn chat": Request(model="auto-bench", messages=chat),
        "17k-char code": Request(model="auto-bench", messages=[user(Text("Fix:\n" + CODE))]),
        "CJK + schema": Request(
            model="auto-bench",
            messages=[user(Text("请把这段文字翻译成英文，并解释其中的语法。" * 30))],
            output_format=OutputFormat("json_schema", {"type": "object"}),
        ),
        "tools + image": Request(
            model="auto-bench",
            messages=[user(Text("What is this?"), Image(url="https://example.com/a.png"))],
            tools=[Tool(name="lookup", description="Look a thing up")],
        ),
    }


def _arms(rng: random.Random) -> dict[tuple[str, str, str], ArmCounts]:
    sizes, flags, outputs = ("xs", "s", "m", "l", "xl"), ("no", "yes"), ("text", "json", "schema")
    arms = {}
    for _ in range(200):
        values = {
            "size": rng.choice(sizes),
            "tools": rng.choice(flags),
            "images": rng.choice(flags),
            "output": rng.choice(outputs),
            "code": rng.choice(flags),
            "turns": rng.choice(("1", "2-5", "6+")),
            "script": rng.choice(("latin", "cjk")),
        }
        task_class = ",".join(f"{f}={values[f]}" for f in FEATURES)
        for model, _ in COSTS:
            n = rng.randint(5, 500)
            good = rng.random() * n
            arms[(POOL.name, task_class, model)] = ArmCounts(good, n - good, n)
    return arms


def _time(calls: int, work: object) -> tuple[float, float]:
    assert callable(work)
    samples = []
    for _ in range(calls):
        began = time.perf_counter_ns()
        work()
        samples.append(time.perf_counter_ns() - began)
    samples.sort()
    return statistics.median(samples) / 1000, samples[int(len(samples) * 0.99)] / 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=20_000)
    calls = parser.parse_args().calls
    rng = random.Random(1)
    learner = Learner({POOL.name: POOL}, rng=rng)
    began = time.perf_counter()
    arms = _arms(rng)
    learner.rebuild(arms)
    print(
        f"snapshot, first build (200 classes x 4 models): {(time.perf_counter() - began) * 1000:.1f} ms"
    )
    for key in list(arms)[:20]:  # 5 classes saw traffic since the last refresh
        arms[key].add(1.0, 0.0, 1)
    began = time.perf_counter()
    learner.rebuild(arms)
    print(f"snapshot refresh, 5 classes changed: {(time.perf_counter() - began) * 1000:.1f} ms")
    calibration = _time(2000, lambda: sum(range(1000)))[0]
    print(f"calibration: sum(range(1000)) takes {calibration:.1f} µs on this machine now")
    outcome = Outcome("success", "stop", "fine", Decimal("0.0003"), "mini")
    key = uuid.uuid4()
    print(f"{'request':<16} {'choose p50':>11} {'p99':>8} {'observe p50':>12} {'p99':>8}  (µs)")
    for name, request in _requests().items():
        for _ in range(500):  # warm the exploit tables of this class
            learner.choose(POOL, request, COSTS)
        choose = _time(calls, lambda r=request: learner.choose(POOL, r, COSTS))
        decision = learner.choose(POOL, request, COSTS)
        observe = _time(
            calls, lambda r=request: learner.observe(uuid.uuid4(), decision, r, outcome, key_id=key)
        )
        learner.drain()
        print(
            f"{name:<16} {choose[0]:>11.1f} {choose[1]:>8.1f} {observe[0]:>12.1f} {observe[1]:>8.1f}"
        )


if __name__ == "__main__":
    main()
