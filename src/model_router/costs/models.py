"""The catalogue in memory: which models callers may name, where each lives,
and what it costs. Loaded at start and reloaded periodically, so routing and
pricing never wait on the database.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, time
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from model_router.costs.catalogue import UNKNOWN_CAPABILITIES, Capability, traits
from model_router.costs.pricing import Peak, Price, Rates
from model_router.db.models import Model, Provider
from model_router.errors import ModelNotFound
from model_router.providers.base import PROTOCOLS, Protocol_, ProviderConfig, Target
from model_router.settings import Settings


@dataclass(frozen=True, slots=True)
class ModelInfo:
    id: uuid.UUID
    name: str
    display_name: str
    provider: str
    provider_id: uuid.UUID
    target: Target
    price: Price | None
    price_source: str
    updated_at: datetime
    # For routing (`auto`): the quality tier and what the model can do.
    quality: int | None = None
    capabilities: frozenset[Capability] = UNKNOWN_CAPABILITIES

    @property
    def context_window(self) -> int | None:
        return self.target.context_window


def price_of(row: Model) -> Price | None:
    base = Rates(
        input=row.input_price_per_1m_tokens,
        output=row.output_price_per_1m_tokens,
        cached_input=row.cached_input_price_per_1m_tokens,
        cache_write=row.cache_write_price_per_1m_tokens,
        cache_write_1h=row.cache_write_1h_price_per_1m_tokens,
    )
    if base.input is None and base.output is None:
        return None
    tier = None
    if row.tier_threshold_tokens is not None and row.tier_input_price_per_1m_tokens is not None:
        tier = Rates(
            input=row.tier_input_price_per_1m_tokens,
            output=row.tier_output_price_per_1m_tokens or base.output,
            cached_input=row.tier_cached_input_price_per_1m_tokens or base.cached_input,
            cache_write=row.tier_cache_write_price_per_1m_tokens or base.cache_write,
            cache_write_1h=row.tier_cache_write_1h_price_per_1m_tokens or base.cache_write_1h,
        )
    return Price(
        base=base,
        tier_threshold=row.tier_threshold_tokens,
        tier=tier,
        peak=peak_from_json(row.peak_pricing),
    )


def peak_to_json(peak: Peak | None) -> dict[str, Any] | None:
    if peak is None:
        return None
    rates = peak.rates
    return {
        "windows": [
            [start.strftime("%H:%M"), end.strftime("%H:%M")] for start, end in peak.windows
        ],
        **{
            name: None if value is None else str(value)
            for name, value in (
                ("input", rates.input),
                ("output", rates.output),
                ("cached_input", rates.cached_input),
                ("cache_write", rates.cache_write),
            )
        },
    }


def peak_from_json(raw: Any) -> Peak | None:
    if not isinstance(raw, dict) or not raw.get("windows"):
        return None
    windows = tuple(
        (time.fromisoformat(start), time.fromisoformat(end)) for start, end in raw["windows"]
    )

    def rate(name: str) -> Decimal | None:
        value = raw.get(name)
        return None if value is None else Decimal(str(value))

    rates = Rates(rate("input"), rate("output"), rate("cached_input"), rate("cache_write"))
    return Peak(windows, rates)


def provider_config(row: Provider, settings: Settings) -> ProviderConfig:
    base_url = row.base_url
    if row.base_url_setting:
        configured = getattr(settings, row.base_url_setting.lower(), None)
        if isinstance(configured, str) and configured:
            base_url = configured
    protocol: Protocol_ = next((p for p in PROTOCOLS if p == row.protocol), "openai")
    return ProviderConfig(
        name=row.name,
        protocol=protocol,
        base_url=base_url or "",
        api_key=settings.secret(row.api_key_setting),
        api_key_setting=row.api_key_setting,
        auth_header=row.auth_header,
    )


class Catalogue:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], settings: Settings) -> None:
        self._sessions = sessions
        self._settings = settings
        self.providers: dict[str, ProviderConfig] = {}
        self.models: dict[str, ModelInfo] = {}
        self._by_qualified: dict[str, ModelInfo] = {}

    async def load(self) -> None:
        async with self._sessions() as session:
            provider_rows = list(await session.scalars(select(Provider).order_by(Provider.name)))
            model_rows = list(
                await session.scalars(select(Model).order_by(Model.model_id, Model.provider_id))
            )
        providers = {p.id: p for p in provider_rows}
        configs = {p.name: provider_config(p, self._settings) for p in provider_rows}
        models: dict[str, ModelInfo] = {}
        qualified: dict[str, ModelInfo] = {}
        for row in model_rows:
            provider = providers.get(row.provider_id)
            if provider is None or not provider.is_active or not row.is_active:
                continue
            quality, capabilities = traits(provider.name, row.model_id)
            info = ModelInfo(
                id=row.id,
                name=row.model_id,
                display_name=row.display_name,
                provider=provider.name,
                provider_id=provider.id,
                target=Target(
                    upstream_model=row.upstream_model or row.model_id,
                    max_output_tokens=row.max_output_tokens,
                    context_window=row.context_window,
                    extra_body=dict(row.upstream_params or {}),
                    reads_images=None
                    if capabilities == UNKNOWN_CAPABILITIES
                    else "vision" in capabilities,
                ),
                price=price_of(row),
                price_source=row.price_source,
                updated_at=row.updated_at,
                quality=quality,
                capabilities=capabilities,
            )
            models.setdefault(row.model_id, info)
            qualified[f"{provider.name}/{row.model_id}"] = info
        self.providers, self.models, self._by_qualified = configs, models, qualified

    def resolve(self, name: str) -> ModelInfo:
        """A model by its name, or by `provider/name` where several providers serve it."""
        info = self.models.get(name) or self._by_qualified.get(name)
        if info is None:
            raise ModelNotFound(name)
        return info

    def list_models(self) -> list[ModelInfo]:
        return sorted(self.models.values(), key=lambda m: (m.provider, m.name))


def decimal_or_none(value: str | float | Decimal | None) -> Decimal | None:
    return None if value is None else Decimal(str(value))
