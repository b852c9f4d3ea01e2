"""The routing file's `pools:` section: what it may say, and errors naming line and field."""

from __future__ import annotations

from decimal import Decimal

import pytest

from model_router.routing.config import RoutingConfigError, parse_config
from model_router.routing.learned.features import FEATURES

GOOD = """\
default_model: gpt-4o
pools:
  auto-coding:
    candidates: [gpt-4o-mini, claude-haiku-4-5, gpt-4o]
    quality_bar: 0.8
    exploration: 0.05
    exploration_budget_usd_per_day: "2.50"
    features: [size, code, script]
    unrated_success: 0.7
    signals:
      regeneration: false
      regeneration_window_seconds: 30
  auto-cheap:
    candidates: [gpt-4o-mini, gpt-4o]
    default_model: gpt-4o-mini
    objective: best_under_cost
    max_cost_usd: 0.01
"""


def test_pools_are_read_field_by_field() -> None:
    config = parse_config(GOOD, "routing.yaml")
    coding = config.pools["auto-coding"]
    assert coding.candidates == ("gpt-4o-mini", "claude-haiku-4-5", "gpt-4o")
    assert (coding.objective, coding.quality_bar, coding.exploration) == (
        "cheapest_good_enough",
        0.8,
        0.05,
    )
    assert coding.exploration_budget_usd_per_day == Decimal("2.50")
    assert coding.features == ("size", "code", "script")
    assert coding.unrated_success == 0.7
    assert coding.signals.regeneration is False and coding.signals.upstream_error is True
    assert coding.signals.regeneration_window_seconds == 30
    assert coding.line == 3
    assert coding.baseline(config.default_model) == "gpt-4o"
    cheap = config.pools["auto-cheap"]
    assert (cheap.objective, cheap.max_cost_usd) == ("best_under_cost", Decimal("0.01"))
    assert cheap.baseline(config.default_model) == "gpt-4o-mini"


def test_a_pool_has_sensible_defaults() -> None:
    pool = parse_config("pools:\n  p:\n    candidates: [a, b]\n").pools["p"]
    assert pool.exploration == 0.1 and pool.exploration_budget_usd_per_day is None
    assert pool.features == FEATURES and pool.unrated_success is None
    assert pool.baseline(None) == "b"  # no default anywhere: the last candidate


@pytest.mark.parametrize(
    ("text", "line", "field", "problem"),
    [
        ("pools:\n  p:\n    quality_bar: 0.5\n", 3, "pools.p.candidates", "required"),
        ("pools:\n  p:\n    candidates: []\n", 3, "pools.p.candidates", "non-empty"),
        (
            "pools:\n  p:\n    candidates: [a]\n    default_model: b\n",
            4,
            "pools.p.default_model",
            "one of the candidates",
        ),
        (
            "pools:\n  p:\n    candidates: [a]\n    objective: fastest\n",
            4,
            "pools.p.objective",
            "cheapest_good_enough",
        ),
        (
            "pools:\n  p:\n    candidates: [a]\n    objective: best_under_cost\n",
            3,
            "pools.p.max_cost_usd",
            "required by objective best_under_cost",
        ),
        (
            "pools:\n  p:\n    candidates: [a]\n    quality_bar: 7\n",
            4,
            "pools.p.quality_bar",
            "from 0 to 1",
        ),
        (
            "pools:\n  p:\n    candidates: [a]\n    exploration_budget_usd_per_day: lots\n",
            4,
            "pools.p.exploration_budget_usd_per_day",
            "USD",
        ),
        (
            "pools:\n  p:\n    candidates: [a]\n    features: [size, mood]\n",
            4,
            "pools.p.features",
            "unknown feature 'mood'",
        ),
        (
            "pools:\n  p:\n    candidates: [a]\n    signals:\n      truncated: maybe\n",
            5,
            "pools.p.signals.truncated",
            "true or false",
        ),
        (
            "pools:\n  p:\n    candidates: [a]\n    colour: red\n",
            4,
            "pools.p.colour",
            "unknown field",
        ),
    ],
)
def test_a_bad_pool_is_an_error_naming_its_line_and_field(
    text: str, line: int, field: str, problem: str
) -> None:
    with pytest.raises(RoutingConfigError) as caught:
        parse_config(text, "routing.yaml")
    assert caught.value.line == line
    assert caught.value.field == field
    assert problem in str(caught.value)
    assert str(caught.value).startswith(f"routing.yaml:{line}: {field}:")
