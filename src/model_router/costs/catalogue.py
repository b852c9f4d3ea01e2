"""The default model catalogue: which providers and models the router knows.

Prices and context windows come from `genai-prices` (a maintained, versioned
price database that ships with the package and works offline). The router
only adds what that source does not carry: the wire protocol of each provider,
the setting that holds its key, and each model's maximum output tokens (from
the providers' model pages), which Anthropic requires on every request.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, time
from decimal import Decimal
from typing import Any, Literal

from model_router.costs.pricing import Peak, Price, Rates
from model_router.providers.base import Protocol_


@dataclass(frozen=True, slots=True)
class ProviderSeed:
    name: str
    protocol: Protocol_
    base_url_setting: str
    api_key_setting: str
    prices_id: str  # the provider's id in genai-prices


Capability = Literal["tools", "vision", "json_schema", "streaming", "embeddings"]
ALL_CAPABILITIES: frozenset[Capability] = frozenset({"tools", "vision", "json_schema", "streaming"})
TEXT_ONLY: frozenset[Capability] = frozenset({"tools", "streaming"})
# An embedding model: served by POST /v1/embeddings only; chat routing and
# `auto` never choose it, and /v1/embeddings takes nothing else.
EMBEDDING: frozenset[Capability] = frozenset({"embeddings"})

# Quality tiers for `auto`'s `min_quality` (1 lowest .. 5 highest). genai-prices
# carries no quality data, so the tier is each model's place in its vendor's own
# line-up as the vendor's model page describes it: 5 the flagship ("most
# capable"/frontier reasoning), 4 the strong general model one step below, 3
# the fast/balanced model, 2 the smallest, cheapest one. An operator can change
# a tier, or give one to a model added later, in the routing file
# (`models.<name>.quality`).
QUALITY_SOURCE = "vendor line-up position (provider model pages); override in the routing file"


@dataclass(frozen=True, slots=True)
class ModelSeed:
    provider: str
    model_id: str
    max_output_tokens: int | None
    context_window: int | None = None  # only where the price source has none
    # An alias: the model to call and price instead, and fields to add upstream.
    upstream_model: str | None = None
    upstream_params: dict[str, Any] | None = None
    quality: int | None = None
    # What the model can be asked to do (the providers' model pages).
    capabilities: frozenset[Capability] = ALL_CAPABILITIES


PROVIDERS: tuple[ProviderSeed, ...] = (
    ProviderSeed("openai", "openai", "OPENAI_BASE_URL", "OPENAI_API_KEY", "openai"),
    ProviderSeed("anthropic", "anthropic", "ANTHROPIC_BASE_URL", "ANTHROPIC_API_KEY", "anthropic"),
    ProviderSeed("gemini", "gemini", "GEMINI_BASE_URL", "GEMINI_API_KEY", "google"),
    ProviderSeed("deepseek", "openai", "DEEPSEEK_BASE_URL", "DEEPSEEK_API_KEY", "deepseek"),
)

MODELS: tuple[ModelSeed, ...] = (
    ModelSeed("openai", "gpt-4o", 16_384, quality=4),
    ModelSeed("openai", "gpt-4o-mini", 16_384, quality=3),
    ModelSeed("openai", "gpt-4.1", 32_768, quality=4),
    ModelSeed("openai", "gpt-4.1-mini", 32_768, quality=3),
    ModelSeed("openai", "gpt-4.1-nano", 32_768, quality=2),
    ModelSeed("openai", "o3", 100_000, quality=5),
    ModelSeed("openai", "o4-mini", 100_000, quality=4),
    ModelSeed("openai", "gpt-5", 128_000, quality=5),
    ModelSeed("openai", "gpt-5-mini", 128_000, quality=4),
    ModelSeed("openai", "gpt-5-nano", 128_000, quality=2),
    ModelSeed("anthropic", "claude-opus-4-5", 64_000, quality=5),
    ModelSeed("anthropic", "claude-sonnet-4-5", 64_000, quality=4),
    ModelSeed("anthropic", "claude-haiku-4-5", 64_000, quality=3),
    ModelSeed("anthropic", "claude-sonnet-4-6", 64_000, quality=4),
    ModelSeed("anthropic", "claude-opus-4-6", 128_000, quality=5),
    ModelSeed("gemini", "gemini-2.5-pro", 65_536, context_window=1_048_576, quality=5),
    ModelSeed("gemini", "gemini-2.5-flash", 65_536, quality=3),
    ModelSeed("gemini", "gemini-2.5-flash-lite", 65_536, quality=2),
    # Embedding models: input tokens only (genai-prices has their input price).
    ModelSeed("openai", "text-embedding-3-small", None, capabilities=EMBEDDING),
    ModelSeed("openai", "text-embedding-3-large", None, capabilities=EMBEDDING),
    ModelSeed("gemini", "gemini-embedding-001", None, context_window=2048, capabilities=EMBEDDING),
    ModelSeed("deepseek", "deepseek-flash", 384_000, quality=3, capabilities=TEXT_ONLY),
    ModelSeed("deepseek", "deepseek-v4-pro", 384_000, quality=4, capabilities=TEXT_ONLY),
    # DeepSeek retired these names on 2026-07-24; they live on as aliases of
    # V4 Flash with thinking off and on, as DeepSeek's migration guide says.
    ModelSeed(
        "deepseek",
        "deepseek-chat",
        384_000,
        upstream_model="deepseek-flash",
        upstream_params={"thinking": {"type": "disabled"}},
        quality=3,
        capabilities=TEXT_ONLY,
    ),
    ModelSeed(
        "deepseek",
        "deepseek-reasoner",
        384_000,
        upstream_model="deepseek-flash",
        upstream_params={"thinking": {"type": "enabled"}},
        quality=3,
        capabilities=TEXT_ONLY,
    ),
)

# A model the table does not know (added with `models add`): only streaming is
# assumed, and it has no tier, until the routing file says otherwise.
UNKNOWN_CAPABILITIES: frozenset[Capability] = frozenset({"streaming"})


def traits(provider: str, model_id: str) -> tuple[int | None, frozenset[Capability]]:
    """(quality tier, capabilities) of a catalogue model, from the table above."""
    for seed in MODELS:
        if seed.provider == provider and seed.model_id == model_id:
            return seed.quality, seed.capabilities
    return None, UNKNOWN_CAPABILITIES


@dataclass(frozen=True, slots=True)
class CatalogueEntry:
    provider: str
    model_id: str
    display_name: str
    price: Price | None
    context_window: int | None
    max_output_tokens: int | None
    upstream_model: str | None = None
    upstream_params: dict[str, Any] | None = None


def _rate(value: Any) -> tuple[Decimal | None, int | None, Decimal | None]:
    """(base price, tier threshold, tier price) of one genai-prices field."""
    if value is None:
        return None, None, None
    if isinstance(value, Decimal | int | float):
        return Decimal(str(value)), None, None
    base = Decimal(str(value.base))
    tiers = list(getattr(value, "tiers", []) or [])
    if not tiers:
        return base, None, None
    first = tiers[0]
    return base, int(first.start), Decimal(str(first.price))


def price_from_source(
    provider_prices_id: str, model_id: str, at: datetime
) -> tuple[Price | None, str, int | None]:
    """(price, display name, context window) of a model, from genai-prices."""
    # Here, not at the top: only `bootstrap` and `models sync` read the source, and
    # its data costs every worker 50 ms of start-up and 2.6 MB.
    from genai_prices import Usage as PricesUsage
    from genai_prices import calc_price

    try:
        found = calc_price(
            PricesUsage(input_tokens=0),
            model_id,
            provider_id=provider_prices_id,
            genai_request_timestamp=at,
        )
    except LookupError:
        return None, model_id, None
    mp = found.model_price
    fields = {
        name: _rate(getattr(mp, f"{name}_mtok", None))
        for name in ("input", "output", "cache_read", "cache_write", "cache_write_1h")
    }
    base = Rates(
        input=fields["input"][0],
        output=fields["output"][0],
        cached_input=fields["cache_read"][0],
        cache_write=fields["cache_write"][0],
        cache_write_1h=fields["cache_write_1h"][0],
    )
    threshold = fields["input"][1]
    tier = None
    if threshold is not None:
        tier = Rates(
            input=fields["input"][2],
            output=fields["output"][2] or base.output,
            cached_input=fields["cache_read"][2] or base.cached_input,
            cache_write=fields["cache_write"][2] or base.cache_write,
            cache_write_1h=fields["cache_write_1h"][2] or base.cache_write_1h,
        )
    model = found.model
    price = Price(base, threshold, tier, _peak(model.prices))
    return price, model.name or model_id, model.context_window


def _peak(prices: Any) -> Peak | None:
    """The time-of-day rates of a model, where its price has them (DeepSeek)."""
    if not isinstance(prices, list):
        return None
    windows: list[tuple[time, time]] = []
    rates: Rates | None = None
    for conditional in prices:
        constraint = getattr(conditional, "constraint", None)
        if constraint is None or not hasattr(constraint, "start_time"):
            continue
        windows.append((_utc_time(constraint.start_time), _utc_time(constraint.end_time)))
        mp = conditional.prices
        rates = Rates(
            input=_rate(getattr(mp, "input_mtok", None))[0],
            output=_rate(getattr(mp, "output_mtok", None))[0],
            cached_input=_rate(getattr(mp, "cache_read_mtok", None))[0],
            cache_write=_rate(getattr(mp, "cache_write_mtok", None))[0],
            cache_write_1h=_rate(getattr(mp, "cache_write_1h_mtok", None))[0],
        )
    return Peak(tuple(windows), rates) if windows and rates is not None else None


def _utc_time(value: time) -> time:
    if value.tzinfo is None:
        return value
    return datetime.combine(datetime(2000, 1, 1).date(), value).astimezone(UTC).time()


def _input_only(price: Price | None) -> Price | None:
    """An embedding model's price: it produces no output tokens, so its output
    rate is $0 by definition (the source leaves it unset), not unknown."""
    if price is None or price.base.output is not None:
        return price
    return replace(price, base=replace(price.base, output=Decimal(0)))


def default_catalogue(at: datetime | None = None) -> list[CatalogueEntry]:
    at = at or datetime.now(UTC)
    prices_ids = {p.name: p.prices_id for p in PROVIDERS}
    entries = []
    for seed in MODELS:
        priced_as = seed.upstream_model or seed.model_id
        price, name, window = price_from_source(prices_ids[seed.provider], priced_as, at)
        if seed.upstream_model:
            name = f"{seed.model_id} (alias of {name})"
        if seed.capabilities == EMBEDDING:
            price = _input_only(price)
        entries.append(
            CatalogueEntry(
                provider=seed.provider,
                model_id=seed.model_id,
                display_name=name,
                price=price,
                context_window=window or seed.context_window,
                max_output_tokens=seed.max_output_tokens,
                upstream_model=seed.upstream_model,
                upstream_params=seed.upstream_params,
            )
        )
    return entries
