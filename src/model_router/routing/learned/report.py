"""A pool's report from its logged decisions; pure.

Per class and overall: the models chosen, their quality (95 % intervals),
cost per request, and the policy's value against always sending to the
default model, estimated off-policy from each decision's logged probability:

- cost (doubly robust): for decision i with chosen model a_i, probability
  p_i, actual cost c_i and the default's pre-call estimate d_i,
      default_i = d_i + [a_i = default] / p_i * (c_i - d_i)
  is an unbiased estimate of what the default would have cost, whichever
  model was chosen (the estimate d_i corrected where the default was tried).
  Savings per request: the mean of default_i - c_i.
- quality (inverse propensity), over decisions with a known quality q_i:
      default_i = [a_i = default] / p_i * q_i
  and the difference policy - default is the mean of q_i - default_i.

Intervals: mean +/- 1.96 standard errors (central limit theorem over
decisions). Decisions whose cost is unknown are left out of costs; a
decision where the default could not be chosen at all (p = 0: exploration
out of budget and exploitation never picking it) is counted in
`default_never_possible`, since no logged data speaks for the default there.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from math import sqrt

from model_router.routing.learned.learner import DecisionRecord
from model_router.schemas.learned_routing import (
    ClassReport,
    ModelChoice,
    PolicyValue,
    PoolReport,
    QualityEstimate,
    UsdEstimate,
)

Z = 1.96
ZED = Decimal("1.96")
UNIT = Decimal("0.000000000001")


def quality_estimate(values: Sequence[float], *, clamp: bool = True) -> QualityEstimate | None:
    n = len(values)
    if n == 0:
        return None
    mean = sum(values) / n
    if n < 2:
        return QualityEstimate(estimate=mean, low=None, high=None, samples=n)
    var = sum((v - mean) ** 2 for v in values) / (n - 1)
    half = Z * sqrt(var / n)
    low, high = mean - half, mean + half
    if clamp:
        low, high = max(0.0, low), min(1.0, high)
    return QualityEstimate(estimate=mean, low=low, high=high, samples=n)


def usd_estimate(values: Sequence[Decimal], scale: int = 1) -> UsdEstimate | None:
    """The mean of `values` (times `scale`: a total) with its interval."""
    n = len(values)
    if n == 0:
        return None
    mean = sum(values, Decimal(0)) / n
    if n < 2:
        est = (mean * scale).quantize(UNIT)
        return UsdEstimate(estimate=est, low=None, high=None, samples=n)
    var = sum(((v - mean) ** 2 for v in values), Decimal(0)) / (n - 1)
    half = ZED * (var / n).sqrt()
    return UsdEstimate(
        estimate=(mean * scale).quantize(UNIT),
        low=((mean - half) * scale).quantize(UNIT),
        high=((mean + half) * scale).quantize(UNIT),
        samples=n,
    )


def _weight(record: DecisionRecord, default: str) -> Decimal:
    if record.chosen != default or record.probability <= 0:
        return Decimal(0)
    return 1 / Decimal(repr(record.probability))


def policy_value(records: Sequence[DecisionRecord], default: str) -> PolicyValue:
    spent: list[Decimal] = []
    default_cost: list[Decimal] = []
    savings: list[Decimal] = []
    for r in records:
        if r.cost_usd is None:
            continue
        guess = r.default_cost_usd if r.default_cost_usd is not None else Decimal(0)
        dr = guess + _weight(r, default) * (r.cost_usd - guess)
        spent.append(r.cost_usd)
        default_cost.append(dr)
        savings.append(dr - r.cost_usd)
    rated = [r for r in records if r.quality is not None]
    policy_q = [r.quality for r in rated if r.quality is not None]
    default_q = [float(_weight(r, default)) * (r.quality or 0.0) for r in rated]
    diff = [q - d for q, d in zip(policy_q, default_q, strict=True)]
    return PolicyValue(
        default_model=default,
        policy_cost_per_request_usd=usd_estimate(spent),
        default_cost_per_request_usd=usd_estimate(default_cost),
        savings_per_request_usd=usd_estimate(savings),
        savings_total_usd=usd_estimate(savings, scale=len(savings)),
        policy_quality=quality_estimate(policy_q),
        default_quality=quality_estimate(default_q),
        quality_difference=quality_estimate(diff, clamp=False),
        default_never_possible=sum(1 for r in records if r.default_probability <= 0),
    )


def _models(records: Sequence[DecisionRecord]) -> list[ModelChoice]:
    by_model: dict[str, list[DecisionRecord]] = {}
    for r in records:
        by_model.setdefault(r.chosen, []).append(r)
    out = []
    for model, chosen in sorted(by_model.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        out.append(
            ModelChoice(
                model=model,
                requests=len(chosen),
                share=len(chosen) / len(records),
                explored=sum(r.explored for r in chosen),
                quality=quality_estimate([r.quality for r in chosen if r.quality is not None]),
                cost_per_request_usd=usd_estimate(
                    [r.cost_usd for r in chosen if r.cost_usd is not None]
                ),
            )
        )
    return out


def build_report(
    pool: str,
    default_model: str,
    records: Sequence[DecisionRecord],
    *,
    days: int,
    now: datetime | None = None,
) -> PoolReport:
    by_class: dict[str, list[DecisionRecord]] = {}
    for r in records:
        by_class.setdefault(r.task_class, []).append(r)
    classes = [
        ClassReport(
            task_class=name,
            requests=len(rows),
            models=_models(rows),
            value=policy_value(rows, default_model),
        )
        for name, rows in sorted(by_class.items(), key=lambda kv: (-len(kv[1]), kv[0]))
    ]
    explored = sum(r.explored for r in records)
    return PoolReport(
        pool=pool,
        days=days,
        generated_at=now or datetime.now(UTC),
        default_model=default_model,
        requests=len(records),
        explored=explored,
        explored_share=explored / len(records) if records else 0.0,
        exploration_spend_usd=sum((r.extra_spend_usd for r in records), Decimal(0)),
        cost_unknown=sum(1 for r in records if r.cost_usd is None),
        overall=policy_value(records, default_model),
        classes=classes,
    )
