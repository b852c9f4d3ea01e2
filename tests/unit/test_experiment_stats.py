"""The experiment statistics against values computed by hand (and t tables)."""

from __future__ import annotations

import math
import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from model_router.schemas.experiments import VariantSpec
from model_router.services.experiment_stats import (
    experiment_report,
    mean_with_ci,
    percentile,
    t_quantile,
    t_two_sided_p,
    two_proportion_z_test,
    welch_t_test,
)
from model_router.services.experiments import ExperimentInfo, VariantSamples


def test_percentiles_interpolate_between_closest_ranks() -> None:
    # (n - 1) * q = 1.5 -> halfway between 200 and 300; 3 * 0.95 = 2.85 -> 300 + 0.85 * 100
    assert percentile([400, 100, 300, 200], 0.5) == 250
    assert percentile([400, 100, 300, 200], 0.95) == pytest.approx(385)
    assert percentile([7], 0.95) == 7
    assert percentile([], 0.5) is None


@pytest.mark.parametrize(
    ("df", "critical"),
    [(1, 12.706), (3, 3.182), (10, 2.228), (30, 2.042)],  # two-sided 5 % t table
)
def test_t_distribution_matches_the_table(df: int, critical: float) -> None:
    assert t_quantile(0.975, df) == pytest.approx(critical, abs=5e-4)
    assert t_two_sided_p(critical, df) == pytest.approx(0.05, abs=2e-4)


def test_mean_feedback_has_a_student_t_interval() -> None:
    # scores 1, 0, 1, 1: mean 0.75, s = 0.5, n = 4: 0.75 ± 3.1824 * 0.5 / 2
    estimate = mean_with_ci([1, 0, 1, 1])
    assert estimate.mean == 0.75
    assert estimate.ci_low == pytest.approx(0.75 - 0.79561, abs=1e-4)
    assert estimate.ci_high == pytest.approx(0.75 + 0.79561, abs=1e-4)
    single = mean_with_ci([4])
    assert (single.mean, single.ci_low) == (4, None)


def _t_p_by_integration(t: float, df: float) -> float:
    """Two-sided p by Simpson's rule over Student's t density: an independent check."""
    log_c = math.lgamma((df + 1) / 2) - math.lgamma(df / 2) - 0.5 * math.log(df * math.pi)

    def pdf(x: float) -> float:
        return math.exp(log_c - (df + 1) / 2 * math.log1p(x * x / df))

    steps, a = 20_000, abs(t)
    h = a / steps
    inner = pdf(0) + pdf(a) + sum((4 if i % 2 else 2) * pdf(i * h) for i in range(1, steps))
    return 1 - 2 * inner * h / 3


def test_welch_t_test_by_hand() -> None:
    # a: mean 3, variance 2.5; b: mean 6, variance 10; n = 5 each.
    # t = (3 - 6) / sqrt(2.5/5 + 10/5) = -3 / sqrt(2.5) = -1.897367
    # df = 2.5^2 / (0.5^2/4 + 2^2/4) = 6.25 / 1.0625 = 5.882353
    result = welch_t_test([1, 2, 3, 4, 5], [2, 4, 6, 8, 10])
    assert result is not None and result.test == "welch_t"
    assert result.statistic == pytest.approx(-1.897367, abs=1e-6)
    assert result.df == pytest.approx(5.882353, abs=1e-6)
    assert result.p_value == pytest.approx(_t_p_by_integration(-1.897367, 5.882353), abs=1e-5)
    assert 0.10 < result.p_value < 0.11 and not result.significant
    assert welch_t_test([1], [2, 3]) is None
    assert welch_t_test([1, 1], [1, 1]) is None


def test_two_proportion_z_test_by_hand() -> None:
    # 10/100 vs 20/100: pooled 0.15, se = sqrt(0.15 * 0.85 * 0.02) = 0.0504975
    # z = -0.1 / 0.0504975 = -1.980295; p = 2 * (1 - Phi(1.980295)) = 0.04767
    result = two_proportion_z_test(10, 100, 20, 100)
    assert result is not None
    assert result.statistic == pytest.approx(-1.980295, abs=1e-6)
    assert result.p_value == pytest.approx(0.04767, abs=1e-5)
    assert result.significant
    same = two_proportion_z_test(0, 50, 0, 40)
    assert same is not None and same.p_value == 1.0 and not same.significant
    assert two_proportion_z_test(0, 0, 1, 10) is None


def test_report_per_variant_and_against_the_baseline() -> None:
    now = datetime.now(UTC)
    experiment = ExperimentInfo(
        id=uuid.uuid4(),
        name="x",
        target="t",
        variants=(VariantSpec(name="a", model="m1"), VariantSpec(name="b", model="m2")),
        traffic_percent=100,
        status="running",
        start_at=None,
        stop_at=None,
        created_at=now,
        updated_at=now,
    )
    samples = {
        "a": VariantSamples(
            requests=4,
            errors=1,
            costs=[Decimal("0.001"), Decimal("0.002"), Decimal("0.003")],
            latencies=[100, 200, 300],
            scores=[1, 2, 3, 4, 5],
        ),
        "b": VariantSamples(
            requests=2, errors=0, costs=[], latencies=[50, 70], scores=[2, 4, 6, 8, 10]
        ),
    }
    report = experiment_report(experiment, samples)
    a, b = report.variants
    assert (a.requests, a.errors, a.error_rate) == (4, 1, 0.25)
    assert a.total_cost_usd == Decimal("0.006") and a.cost_per_request_usd == Decimal("0.002")
    assert (a.latency_p50_ms, a.latency_p95_ms) == (200, pytest.approx(290))
    assert a.feedback_mean == 3 and a.feedback_count == 5
    assert b.cost_per_request_usd is None and b.latency_p50_ms == 60
    (comparison,) = report.comparisons
    assert (comparison.variant, comparison.baseline) == ("b", "a")
    assert comparison.feedback is not None
    assert comparison.feedback.statistic == pytest.approx(1.897367, abs=1e-6)
    assert comparison.error_rate is not None and comparison.error_rate.test == "two_proportion_z"
