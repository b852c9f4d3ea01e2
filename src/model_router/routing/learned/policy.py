"""The bandit: Thompson sampling over Beta posteriors of quality, per pool and
task class, mixed with uniform exploration; pure, no I/O.

Quality is in [0, 1] (a feedback score / 10, or 0 for a failure signal); an
observation q adds q to alpha and 1 - q to beta. A class's prior borrows the
pool-wide mean of each model, worth `prior_weight` observations, so a class
seen for the first time starts from what the pool knows (empirical Bayes).

Exploitation draws one row of a bank of posterior samples (drawn when the
arms are refreshed, `SAMPLES` rows) and applies the objective to it:
`cheapest_good_enough` takes the cheapest candidate whose sampled quality
reaches the bar (none does: the best sampled one); `best_under_cost` the best
sampled quality among the candidates under the cost ceiling (none under it:
the cheapest). Because the row is drawn uniformly, the probability that
exploitation picks a model is exactly the share of rows that pick it; it is
counted once per (class, candidate order) and kept with the bank.

Exploration: with probability `exploration`, a candidate drawn uniformly, if
its extra cost (its estimate above the cheapest candidate's) still fits the
day's exploration budget; otherwise the exploit pick. So the probability of
model m, logged with each decision, is exactly

    p(m) = e/K * [m affordable] + (1 - e * A/K) * p_exploit(m)

for K candidates of which A are affordable.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from model_router.routing.learned.features import Features
from model_router.routing.learned.pools import PoolSpec

SAMPLES = 128
ZERO = Decimal(0)


@dataclass(slots=True)
class ArmCounts:
    """Observations of one model in one class: summed quality (alpha), its
    complement (beta), and how many."""

    alpha: float = 0.0
    beta: float = 0.0
    n: int = 0

    def add(self, alpha: float, beta: float, n: int) -> None:
        self.alpha += alpha
        self.beta += beta
        self.n += n


ArmKey = tuple[str, str, str]  # (pool, task class, model)


@dataclass(frozen=True, slots=True)
class Posterior:
    alpha: float
    beta: float

    @property
    def mean(self) -> float:
        return self.alpha / (self.alpha + self.beta)


def pool_totals(pool: str, arms: Mapping[ArmKey, ArmCounts]) -> dict[str, ArmCounts]:
    """Each model's counts summed over every class of `pool`."""
    totals: dict[str, ArmCounts] = {}
    for (name, _cls, model), counts in arms.items():
        if name == pool:
            totals.setdefault(model, ArmCounts()).add(counts.alpha, counts.beta, counts.n)
    return totals


def posteriors(
    pool: PoolSpec,
    task_class: str,
    arms: Mapping[ArmKey, ArmCounts],
    totals: Mapping[str, ArmCounts] | None = None,
) -> dict[str, Posterior]:
    """Each candidate's posterior in `task_class`: Beta(1, 1), plus the pool's
    mean for the model in the other classes worth at most `prior_weight`
    observations, plus the class's own. `totals`: `pool_totals` of the arms."""
    if totals is None:
        totals = pool_totals(pool.name, arms)
    out: dict[str, Posterior] = {}
    for model in pool.candidates:
        alpha = beta = 1.0
        own = arms.get((pool.name, task_class, model))
        rest = ArmCounts()
        if model in totals:
            total = totals[model]
            rest.add(total.alpha, total.beta, total.n)
        if own is not None:
            rest.add(-own.alpha, -own.beta, -own.n)
        if rest.n > 0 and pool.prior_weight > 0:
            mean = min(max(rest.alpha / max(rest.alpha + rest.beta, 1e-12), 0.0), 1.0)
            weight = min(pool.prior_weight, float(rest.n))
            alpha += weight * mean
            beta += weight * (1 - mean)
        if own is not None:
            alpha += max(own.alpha, 0.0)
            beta += max(own.beta, 0.0)
        out[model] = Posterior(alpha, beta)
    return out


@dataclass(frozen=True, slots=True)
class ExploitTable:
    """For one candidate order: the model each sample row picks, and the share
    of rows picking each model (the exploit probabilities)."""

    picks: tuple[str, ...]
    probability: dict[str, float]


class ClassPolicy:
    """One pool and task class (or every class not yet seen, which share the
    pool's prior): posteriors and their sample bank."""

    def __init__(
        self,
        pool: PoolSpec,
        posterior: Mapping[str, Posterior],
        rng: random.Random,
        samples: int = SAMPLES,
    ) -> None:
        self.pool = pool
        self.posterior = dict(posterior)
        self.rows: list[dict[str, float]] = [
            {m: rng.betavariate(p.alpha, p.beta) for m, p in self.posterior.items()}
            for _ in range(samples)
        ]
        self._tables: dict[tuple[tuple[str, ...], tuple[str, ...]], ExploitTable] = {}

    def _pick(self, row: dict[str, float], order: tuple[str, ...], allowed: tuple[str, ...]) -> str:
        if self.pool.objective == "cheapest_good_enough":
            bar = self.pool.quality_bar
            for model in order:
                if row[model] >= bar:
                    return model
            return max(order, key=lambda m: row[m])  # ties: the cheaper (max keeps the first)
        if not allowed:
            return order[0]
        return max(allowed, key=lambda m: row[m])

    def table(self, order: tuple[str, ...], allowed: tuple[str, ...]) -> ExploitTable:
        """`order`: the candidates, cheapest first; `allowed`: those under the
        cost ceiling (best_under_cost)."""
        key = (order, allowed)
        found = self._tables.get(key)
        if found is None:
            picks = tuple(self._pick(row, order, allowed) for row in self.rows)
            share = 1.0 / len(picks)
            probability = dict.fromkeys(order, 0.0)
            for model in picks:
                probability[model] += share
            found = self._tables[key] = ExploitTable(picks, probability)
        return found


@dataclass(slots=True)
class Candidate:
    model: str
    estimated_cost: Decimal
    probability: float


@dataclass(slots=True)
class Decision:
    """One routing decision, as logged: what was chosen, with what probability, why."""

    pool: str
    task_class: str
    features: Features | None
    chosen: str
    probability: float
    default_model: str
    default_probability: float
    explored: bool
    candidates: tuple[Candidate, ...]
    extra_spend: Decimal  # booked against the exploration budget
    order: tuple[str, ...]  # the chosen model, then the fallbacks (cheapest first)
    reason: str

    @property
    def estimated_cost(self) -> Decimal:
        return next(c.estimated_cost for c in self.candidates if c.model == self.chosen)

    @property
    def default_cost(self) -> Decimal | None:
        found = [c for c in self.candidates if c.model == self.default_model]
        return found[0].estimated_cost if found else None


def decide(
    policy: ClassPolicy,
    task_class: str,
    candidates: Sequence[tuple[str, Decimal]],
    *,
    default_model: str,
    budget_left: Decimal | None,
    rng: random.Random,
    features: Features | None = None,
) -> Decision:
    """Choose among `candidates` ((model, estimated cost), each a pool
    candidate that can serve the request). `budget_left`: what exploration may
    still spend today (None: no cap)."""
    pool = policy.pool
    ranked = sorted(candidates, key=lambda c: (c[1], c[0]))
    order = tuple(m for m, _ in ranked)
    costs = dict(ranked)
    cheapest = ranked[0][1]
    allowed: tuple[str, ...] = order
    if pool.objective == "best_under_cost":
        ceiling = pool.max_cost_usd if pool.max_cost_usd is not None else ZERO
        allowed = tuple(m for m, c in ranked if c <= ceiling)
    table = policy.table(order, allowed)
    k = len(order)
    affordable = {m for m in order if budget_left is None or costs[m] - cheapest <= budget_left}
    share = pool.exploration
    explore_each = share / k
    keep = 1.0 - share * len(affordable) / k

    def p(model: str) -> float:
        return (explore_each if model in affordable else 0.0) + keep * table.probability[model]

    explored = False
    chosen = table.picks[rng.randrange(len(table.picks))]
    if share > 0 and rng.random() < share:
        pick = order[rng.randrange(k)]
        if pick in affordable:
            chosen, explored = pick, True
    extra = costs[chosen] - cheapest if explored else ZERO
    listed = tuple(Candidate(m, costs[m], p(m)) for m in order)
    probability = p(chosen)
    default_p = p(default_model) if default_model in costs else 0.0
    post = policy.posterior[chosen]
    why = "explore" if explored else "exploit"
    target = (
        f"bar {pool.quality_bar:g}"
        if pool.objective == "cheapest_good_enough"
        else f"ceiling ${pool.max_cost_usd}"
    )
    reason = (
        f"pool {pool.name}: {chosen} ({why}, p={probability:.3f}) of {k} candidates "
        f"for class {task_class}; quality {post.mean:.2f} (n={post.alpha + post.beta - 2:.0f}) "
        f"vs {target}; est. ${costs[chosen]:f}"
    )
    rest = tuple(m for m in order if m != chosen)
    return Decision(
        pool=pool.name,
        task_class=task_class,
        features=features,
        chosen=chosen,
        probability=probability,
        default_model=default_model,
        default_probability=default_p,
        explored=explored,
        candidates=listed,
        extra_spend=extra,
        order=(chosen, *rest),
        reason=reason,
    )
