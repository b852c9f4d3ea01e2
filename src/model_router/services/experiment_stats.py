"""The statistics of an experiment, from the standard library only.

- Percentiles: linear interpolation between closest ranks (numpy's default):
  the q-th percentile of sorted x is x[k] + (x[k+1] - x[k]) * f, where
  k + f = (n - 1) * q.
- Mean feedback: a 95 % confidence interval from Student's t with n - 1
  degrees of freedom, mean ± t(0.975, n-1) · s / √n (needs n >= 2).
- Feedback, variant against the baseline (the experiment's first variant):
  Welch's unequal-variances t-test, two-sided, with Welch–Satterthwaite
  degrees of freedom.
- Error rate, against the baseline: the two-proportion z-test with a pooled
  proportion, two-sided.

A difference is significant when p < ALPHA (0.05). Student's t distribution
is computed through the regularised incomplete beta function (Lentz's
continued fraction, as in Numerical Recipes), the normal one through erfc.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from model_router.schemas.experiments import (
    Comparison,
    ExperimentReport,
    SignificanceOut,
    VariantReport,
)
from model_router.services.experiments import ExperimentInfo, VariantSamples

ALPHA = 0.05
ZERO = Decimal(0)
MONEY_UNIT = Decimal(1).scaleb(-12)


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th quantile (0 <= q <= 1) by linear interpolation; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _beta_fraction(a: float, b: float, x: float) -> float:
    """The continued fraction of the incomplete beta function (modified Lentz)."""
    tiny, eps = 1e-300, 3e-16
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 500):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < eps:
            break
    return h


def incomplete_beta(a: float, b: float, x: float) -> float:
    """The regularised incomplete beta function I_x(a, b)."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    log_front = (
        math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    )
    front = math.exp(log_front)
    if x < (a + 1.0) / (a + b + 2.0):
        return front * _beta_fraction(a, b, x) / a
    return 1.0 - front * _beta_fraction(b, a, 1.0 - x) / b


def t_two_sided_p(t: float, df: float) -> float:
    """P(|T| >= |t|) for Student's t with `df` degrees of freedom."""
    if math.isinf(t):
        return 0.0
    return min(1.0, incomplete_beta(df / 2.0, 0.5, df / (df + t * t)))


def t_quantile(p: float, df: float) -> float:
    """The p-quantile (0.5 < p < 1) of Student's t, by bisection on the CDF."""
    target = 2.0 * (1.0 - p)  # the two-sided tail
    low, high = 0.0, 1.0
    while t_two_sided_p(high, df) > target:
        high *= 2.0
    for _ in range(200):
        middle = (low + high) / 2.0
        if t_two_sided_p(middle, df) > target:
            low = middle
        else:
            high = middle
    return (low + high) / 2.0


def normal_two_sided_p(z: float) -> float:
    return math.erfc(abs(z) / math.sqrt(2.0))


@dataclass(frozen=True, slots=True)
class MeanEstimate:
    n: int
    mean: float | None
    ci_low: float | None  # 95 %
    ci_high: float | None


def mean_with_ci(values: Sequence[float], confidence: float = 0.95) -> MeanEstimate:
    if not values:
        return MeanEstimate(0, None, None, None)
    mean = statistics.fmean(values)
    if len(values) < 2:
        return MeanEstimate(1, mean, None, None)
    half = t_quantile(1 - (1 - confidence) / 2, len(values) - 1) * statistics.stdev(values)
    half /= math.sqrt(len(values))
    return MeanEstimate(len(values), mean, mean - half, mean + half)


@dataclass(frozen=True, slots=True)
class Significance:
    test: str
    statistic: float
    p_value: float
    df: float | None = None

    @property
    def significant(self) -> bool:
        return self.p_value < ALPHA


def welch_t_test(a: Sequence[float], b: Sequence[float]) -> Significance | None:
    """Welch's t-test of mean(a) - mean(b); None with fewer than 2 values a side
    or no variance at all."""
    if len(a) < 2 or len(b) < 2:
        return None
    va, vb = statistics.variance(a) / len(a), statistics.variance(b) / len(b)
    if va + vb == 0:
        return None
    t = (statistics.fmean(a) - statistics.fmean(b)) / math.sqrt(va + vb)
    df = (va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1))
    return Significance("welch_t", t, t_two_sided_p(t, df), df)


def two_proportion_z_test(x1: int, n1: int, x2: int, n2: int) -> Significance | None:
    """The two-proportion z-test of x1/n1 - x2/n2 (pooled); None when a side is empty."""
    if n1 == 0 or n2 == 0:
        return None
    pooled = (x1 + x2) / (n1 + n2)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    if se == 0:  # both 0 % or both 100 %: no difference
        return Significance("two_proportion_z", 0.0, 1.0)
    z = (x1 / n1 - x2 / n2) / se
    return Significance("two_proportion_z", z, normal_two_sided_p(z))


# --- the report ----------------------------------------------------------------


def _test_out(result: Significance | None) -> SignificanceOut | None:
    if result is None:
        return None
    return SignificanceOut(
        test=result.test,
        statistic=round(result.statistic, 6),
        df=None if result.df is None else round(result.df, 4),
        p_value=result.p_value,
        significant=result.significant,
    )


def variant_report(name: str, model: str | None, samples: VariantSamples) -> VariantReport:
    total = sum(samples.costs, ZERO)
    feedback = mean_with_ci(samples.scores)
    p50, p95 = percentile(samples.latencies, 0.5), percentile(samples.latencies, 0.95)
    return VariantReport(
        variant=name,
        model=model,
        requests=samples.requests,
        errors=samples.errors,
        error_rate=samples.errors / samples.requests if samples.requests else None,
        total_cost_usd=total,
        cost_per_request_usd=(total / len(samples.costs)).quantize(MONEY_UNIT).normalize()
        if samples.costs
        else None,
        latency_p50_ms=p50,
        latency_p95_ms=p95,
        feedback_count=feedback.n,
        feedback_mean=feedback.mean,
        feedback_ci95=None
        if feedback.ci_low is None or feedback.ci_high is None
        else (feedback.ci_low, feedback.ci_high),
    )


def experiment_report(
    experiment: ExperimentInfo, samples: dict[str, VariantSamples]
) -> ExperimentReport:
    """Every variant's numbers, and each one against the first (the baseline)."""
    variants = [
        variant_report(v.name, v.model, samples.get(v.name) or VariantSamples())
        for v in experiment.variants
    ]
    baseline = experiment.variants[0].name
    base = samples.get(baseline) or VariantSamples()
    comparisons = []
    for variant in experiment.variants[1:]:
        other = samples.get(variant.name) or VariantSamples()
        comparisons.append(
            Comparison(
                variant=variant.name,
                baseline=baseline,
                feedback=_test_out(welch_t_test(other.scores, base.scores)),
                error_rate=_test_out(
                    two_proportion_z_test(other.errors, other.requests, base.errors, base.requests)
                ),
            )
        )
    return ExperimentReport(
        experiment=experiment.out(),
        alpha=ALPHA,
        variants=variants,
        comparisons=comparisons,
    )
