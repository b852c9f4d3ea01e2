"""Cost is a pure function of usage, price and time: exact, and never $0 for unknown."""

from __future__ import annotations

from datetime import UTC, datetime, time
from decimal import Decimal

import pytest

from model_router.costs.catalogue import EMBEDDING, default_catalogue, traits
from model_router.costs.pricing import Peak, Price, Rates, cost
from model_router.domain import Usage

D = Decimal
GPT_4O = Price(Rates(input=D("2.5"), output=D("10"), cached_input=D("1.25")))


def test_plain_usage_is_charged_per_million_tokens_exactly() -> None:
    result = cost(Usage(input_tokens=10, output_tokens=5), Price(Rates(D("0.15"), D("0.6"))))
    assert result is not None
    assert result.input_usd == D("0.0000015")
    assert result.output_usd == D("0.000003")
    assert result.total_usd == D("0.0000045")


def test_cached_tokens_are_part_of_the_prompt_and_charged_at_the_cached_rate() -> None:
    # The genai-prices reference case: 1M input of which 200k cached costs $2.25.
    result = cost(Usage(input_tokens=1_000_000, cached_input_tokens=200_000), GPT_4O)
    assert result is not None
    assert result.input_usd == D("2.25")


def test_cache_writes_use_the_write_rate_and_reasoning_the_output_rate() -> None:
    haiku = Price(Rates(D("1"), D("5"), cached_input=D("0.1"), cache_write=D("1.25")))
    usage = Usage(
        input_tokens=2500,
        cached_input_tokens=1500,
        cache_write_tokens=500,
        output_tokens=300,
        reasoning_tokens=200,
    )
    result = cost(usage, haiku)
    assert result is not None
    assert result.input_usd == (D(500) * 1 + D(1500) * D("0.1") + D(500) * D("1.25")) / 10**6
    assert result.output_usd == D(300) * 5 / 10**6


def test_one_hour_cache_writes_are_charged_at_their_own_rate() -> None:
    # Claude Sonnet 4.5: input $3, 5-minute writes $3.75, 1-hour writes $6 per 1M.
    sonnet = Price(Rates(D("3"), D("15"), D("0.3"), cache_write=D("3.75"), cache_write_1h=D("6")))
    usage = Usage(input_tokens=10_000, cache_write_tokens=6_000, cache_write_1h_tokens=4_000)
    result = cost(usage, sonnet)
    assert result is not None
    assert result.input_usd == (D(4000) * 3 + D(2000) * D("3.75") + D(4000) * 6) / 10**6


def test_one_hour_writes_without_their_own_rate_are_charged_as_other_writes() -> None:
    price = Price(Rates(D("1"), D("5"), cache_write=D("1.25")))
    result = cost(
        Usage(input_tokens=1000, cache_write_tokens=1000, cache_write_1h_tokens=1000), price
    )
    assert result is not None
    assert result.input_usd == D(1000) * D("1.25") / 10**6


def test_the_catalogue_carries_anthropics_one_hour_write_rate() -> None:
    from model_router.costs.catalogue import default_catalogue

    sonnet = next(e for e in default_catalogue() if e.model_id == "claude-sonnet-4-5")
    assert sonnet.price is not None
    assert sonnet.price.base.cache_write_1h == D("6")
    assert sonnet.price.base.cache_write == D("3.75")


def test_missing_cached_rate_falls_back_to_the_input_rate() -> None:
    result = cost(Usage(input_tokens=100, cached_input_tokens=100), Price(Rates(D("1"), D("2"))))
    assert result is not None
    assert result.input_usd == D("0.0001")


@pytest.mark.parametrize(
    "price",
    [None, Price(Rates(None, None)), Price(Rates(D("1"), None)), Price(Rates(None, D("1")))],
)
def test_unknown_price_is_none_never_zero(price: Price | None) -> None:
    assert cost(Usage(input_tokens=10, output_tokens=10), price) is None


def test_long_context_tier_prices_the_whole_request() -> None:
    sonnet = Price(
        Rates(D("3"), D("15")),
        tier_threshold=200_000,
        tier=Rates(D("6"), D("22.5")),
    )
    small = cost(Usage(input_tokens=200_000, output_tokens=1000), sonnet)
    large = cost(Usage(input_tokens=200_001, output_tokens=1000), sonnet)
    assert small is not None and large is not None
    assert small.input_usd == D("0.6") and small.output_usd == D("0.015")
    assert large.input_usd == D("200001") * 6 / 10**6 and large.output_usd == D("0.0225")


def test_peak_hours_use_peak_rates_by_utc_time() -> None:
    peak = Peak(((time(1), time(4)), (time(6), time(10))), Rates(D("0.3"), D("1.2")))
    flash = Price(Rates(D("0.15"), D("0.6")), peak=peak)
    usage = Usage(input_tokens=1_000_000, output_tokens=1_000_000)
    at = lambda h, m=0: datetime(2026, 11, 26, h, m, tzinfo=UTC)  # noqa: E731
    totals = {h: cost(usage, flash, at(h)).total_usd for h in (0, 1, 3, 4, 5, 6, 9, 10, 23)}  # type: ignore[union-attr]
    assert totals == {
        0: D("0.75"), 1: D("1.5"), 3: D("1.5"), 4: D("0.75"), 5: D("0.75"),
        6: D("1.5"), 9: D("1.5"), 10: D("0.75"), 23: D("0.75"),
    }  # fmt: skip


def test_catalogue_takes_prices_from_genai_prices() -> None:
    entries = {(e.provider, e.model_id): e for e in default_catalogue()}
    mini = entries[("openai", "gpt-4o-mini")]
    assert mini.price is not None
    assert (mini.price.base.input, mini.price.base.output) == (D("0.15"), D("0.6"))
    assert mini.context_window == 128_000
    assert {"anthropic", "gemini", "deepseek", "openai"} == {p for p, _ in entries}
    # Every chat model has a maximum output (Anthropic requires one); embedding
    # models produce no output.
    chat = [e for e in entries.values() if traits(e.provider, e.model_id)[1] != EMBEDDING]
    assert chat and all(e.max_output_tokens for e in chat)


def test_deepseek_legacy_names_are_aliases_of_flash_with_its_price() -> None:
    entries = {e.model_id: e for e in default_catalogue() if e.provider == "deepseek"}
    chat, reasoner = entries["deepseek-chat"], entries["deepseek-reasoner"]
    assert chat.upstream_model == reasoner.upstream_model == "deepseek-flash"
    assert chat.upstream_params == {"thinking": {"type": "disabled"}}
    assert reasoner.upstream_params == {"thinking": {"type": "enabled"}}
    assert chat.price == entries["deepseek-flash"].price
    assert chat.price is not None and chat.price.peak is not None
