"""Pure governance rules: allowed models, periods, worst-case cost, tags, thresholds."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from model_router.costs.models import ModelInfo
from model_router.costs.pricing import Price, Rates
from model_router.db.records import RequestRecord
from model_router.errors import ModelNotAllowed, PermissionDenied
from model_router.governance.budgets import crossed, from_pico, pico_to_nano, to_nano_ceil, to_pico
from model_router.governance.policy import (
    DEFAULT_MAX_OUTPUT,
    model_allowed,
    output_tokens_bound,
    period_of,
    prompt_tokens_bound,
    restrict_routes,
    worst_case_usd,
)
from model_router.governance.tags import apply_tags, scrub_text, tags_of
from tests.unit.routing_fixtures import model as fixture_model
from tests.unit.routing_fixtures import route


def model(
    name: str,
    provider: str = "openai",
    price: Price | None = None,
    max_output: int | None = None,
) -> ModelInfo:
    """A model with no price unless given one."""
    return fixture_model(
        name, None, None, provider=provider, window=None, price=price, max_output=max_output
    )


CHEAP = Price(Rates(input=Decimal("0.15"), output=Decimal("0.6")))
DEAR = Price(Rates(input=Decimal("3"), output=Decimal("15")))


@pytest.mark.parametrize(
    ("patterns", "name", "provider", "allowed"),
    [
        (None, "anything", "openai", True),
        (["gpt-4o*"], "gpt-4o-mini", "openai", True),
        (["gpt-4o*"], "gpt-4.1", "openai", False),
        (["anthropic/*"], "claude-haiku-4-5", "anthropic", True),
        (["anthropic/*"], "gpt-4o", "openai", False),
        (["gpt-4o"], "gpt-4o-mini", "openai", False),
        ([], "gpt-4o", "openai", False),
    ],
)
def test_allowed_model_patterns(
    patterns: list[str] | None, name: str, provider: str, allowed: bool
) -> None:
    assert model_allowed(patterns, model(name, provider)) is allowed


def test_the_named_model_must_be_allowed_and_other_choices_are_skipped() -> None:
    gpt, claude = route(fixture_model("gpt-4o")), route(fixture_model("claude-sonnet-4-5"))
    with pytest.raises(ModelNotAllowed) as caught:
        restrict_routes(["gpt-*"], [claude, gpt], "claude-sonnet-4-5")
    assert caught.value.param == "model" and "claude-sonnet-4-5" in caught.value.message
    routes = [gpt, claude]
    assert restrict_routes(["gpt-*"], routes, "gpt-4o") is True
    assert routes == [gpt]
    auto = [claude, gpt]  # `auto` ranked claude first: it is skipped, not refused
    assert restrict_routes(["gpt-*"], auto, "auto") is True and auto == [gpt]
    with pytest.raises(ModelNotAllowed):
        restrict_routes(["o3*"], [claude, gpt], "auto")
    untouched = [claude, gpt]
    assert restrict_routes(None, untouched, "auto") is False and untouched == [claude, gpt]


def test_periods_start_and_reset_on_utc_boundaries() -> None:
    now = datetime(2026, 12, 31, 23, 59, tzinfo=UTC)
    day = period_of("day", now)
    assert (day.start, day.resets_at) == (
        datetime(2026, 12, 31, tzinfo=UTC),
        datetime(2027, 1, 1, tzinfo=UTC),
    )
    month = period_of("month", now)
    assert month.resets_at == datetime(2027, 1, 1, tzinfo=UTC) and month.id == "m2026-12"
    created = datetime(2026, 1, 5, tzinfo=UTC)
    total = period_of("total", now, created)
    assert (total.start, total.resets_at, total.ttl(now)) == (created, None, 0)
    assert period_of("day", now).id != period_of("day", datetime(2027, 1, 1, tzinfo=UTC)).id


def test_output_bound_prefers_the_callers_max_tokens() -> None:
    models = [model("a", max_output=4096), model("b", max_output=8192)]
    assert output_tokens_bound({"max_completion_tokens": 100, "max_tokens": 5}, models) == 100
    assert output_tokens_bound({"max_tokens": 7}, models) == 7
    assert output_tokens_bound({}, models) == 8192
    assert output_tokens_bound({}, [model("c")]) == DEFAULT_MAX_OUTPUT


def test_prompt_bound_is_at_least_the_utf8_size() -> None:
    text = "héllo wörld " * 10
    bound = prompt_tokens_bound({"messages": [{"role": "user", "content": text}]})
    assert bound >= len(text.encode())


def test_worst_case_is_the_dearest_candidate_and_unpriced_is_refused() -> None:
    worst = worst_case_usd([model("a", price=CHEAP), model("b", price=DEAR)], 1000, 100, None)
    assert worst == Decimal("0.0045")  # 1000 x 3 + 100 x 15 per million
    with pytest.raises(PermissionDenied) as caught:
        worst_case_usd([model("a", price=CHEAP), model("m")], 10, 10, datetime.now(UTC))
    assert caught.value.code == "price_unknown"


def test_money_units_round_trip_exactly_and_nano_never_below() -> None:
    amount = Decimal("0.000004512345678901")
    pico = to_pico(amount)
    assert from_pico(pico) == Decimal("0.000004512346")
    assert pico_to_nano(pico) * 1000 >= pico
    assert to_nano_ceil(Decimal("0.0000000001")) == 1


@pytest.mark.parametrize(
    ("spent", "notified", "expected"),
    [(49, 0, 0), (50, 0, 50), (85, 0, 80), (85, 50, 80), (85, 80, 0), (100, 80, 100)],
)
def test_threshold_crossings(spent: int, notified: int, expected: int) -> None:
    assert crossed(spent, 100, notified) == expected


NOW = datetime(2026, 1, 1, tzinfo=UTC)


def test_tags_come_from_metadata_and_the_header() -> None:
    body = {"metadata": {"team": "search", "n": 3, "nested": {"x": 1}}, "user": "u-42"}
    headers = {"x-router-tags": "feature=autocomplete, canary , team=ads"}
    assert tags_of(body, headers) == {
        "team": "ads",
        "n": "3",
        "feature": "autocomplete",
        "canary": "",
    }
    row = RequestRecord(id=uuid.uuid4(), model="m", status="success", created_at=NOW)
    apply_tags(row, body, headers)
    assert row.end_user == "u-42" and isinstance(row.tags, dict)
    apply_tags(row, {}, {})
    assert row.tags is None and row.end_user is None


def test_tags_lose_nul_which_postgresql_cannot_read_back() -> None:
    assert tags_of({"metadata": {"te\x00am": "a\x00ds"}}, {}) == {"team": "ads"}


def test_scrubbed_rows_keep_no_text() -> None:
    row = RequestRecord(
        id=uuid.uuid4(),
        model="m",
        status="success",
        created_at=NOW,
        prompt_text="secret",
        request_messages=[{"role": "user", "content": "secret"}],
        response_text="answer",
        reasoning_text="thoughts",
        tool_calls=[{"name": "f"}],
        input_tokens=10,
    )
    scrub_text(row)
    assert (row.prompt_text, row.request_messages, row.response_text) == ("", None, None)
    assert (row.reasoning_text, row.tool_calls, row.input_tokens) == (None, None, 10)
