"""Cost as a pure function of usage and a price row.

Prices are USD per 1,000,000 tokens. A price that is unknown is `None`, and a
cost that needs it is `None` too: never $0.

- Cache reads are charged at `cached_input`, cache writes at `cache_write`;
  where a model has no separate rate the provider charges the input rate.
  Writes to a one-hour cache (Anthropic's `ttl: "1h"`) are charged at
  `cache_write_1h` (twice the input rate at Anthropic, against 1.25 times for
  the default five minutes); a model with no such rate charges them as other
  writes.
- Reasoning tokens are part of the output and charged at the output rate.
- Long-context tiers (e.g. Claude and Gemini Pro above 200k prompt tokens)
  price the whole request at the tier's rates, as the providers do.
- Peak hours (e.g. DeepSeek since 2026-08-16: 01:00-04:00 and 06:00-10:00 UTC
  at double rates) price a request by the UTC time it was made.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time
from decimal import Decimal

from model_router.domain import Usage

MILLION = Decimal(1_000_000)


@dataclass(frozen=True, slots=True)
class Rates:
    input: Decimal | None
    output: Decimal | None
    cached_input: Decimal | None = None
    cache_write: Decimal | None = None
    cache_write_1h: Decimal | None = None


@dataclass(frozen=True, slots=True)
class Peak:
    """Rates that replace the base rates during daily UTC windows [start, end)."""

    windows: tuple[tuple[time, time], ...]
    rates: Rates

    def active(self, at: datetime) -> bool:
        now = (at if at.tzinfo is None else at.astimezone(UTC)).time()
        return any(
            start <= now < end if start <= end else (now >= start or now < end)
            for start, end in self.windows
        )


@dataclass(frozen=True, slots=True)
class Price:
    base: Rates
    tier_threshold: int | None = None  # prompt tokens above which `tier` applies
    tier: Rates | None = None
    peak: Peak | None = None

    @property
    def known(self) -> bool:
        return self.base.input is not None and self.base.output is not None

    def rates_for(self, usage: Usage, at: datetime | None = None) -> Rates:
        if self.peak is not None and at is not None and self.peak.active(at):
            return self.peak.rates
        over = self.tier_threshold is not None and usage.input_tokens > self.tier_threshold
        return self.tier if over and self.tier is not None else self.base


@dataclass(frozen=True, slots=True)
class Cost:
    input_usd: Decimal
    output_usd: Decimal
    rates: Rates

    @property
    def total_usd(self) -> Decimal:
        return self.input_usd + self.output_usd


def cost(usage: Usage, price: Price | None, at: datetime | None = None) -> Cost | None:
    """The exact cost of `usage` at `price` for a request made `at` (UTC), or None
    when a needed rate is unknown."""
    if price is None or not price.known:
        return None
    rates = price.rates_for(usage, at)
    if rates.input is None or rates.output is None:
        return None
    cached_rate = rates.cached_input if rates.cached_input is not None else rates.input
    write_rate = rates.cache_write if rates.cache_write is not None else rates.input
    write_1h_rate = rates.cache_write_1h if rates.cache_write_1h is not None else write_rate
    cached = max(0, usage.cached_input_tokens)
    written = max(0, usage.cache_write_tokens)
    written_1h = min(written, max(0, usage.cache_write_1h_tokens))
    uncached = max(0, usage.input_tokens - cached - written)
    input_usd = (
        uncached * rates.input
        + cached * cached_rate
        + (written - written_1h) * write_rate
        + written_1h * write_1h_rate
    ) / MILLION
    output_usd = max(0, usage.output_tokens) * rates.output / MILLION
    return Cost(input_usd=input_usd, output_usd=output_usd, rates=rates)
