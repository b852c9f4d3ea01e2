"""Changing the catalogue: sync from the price source, add providers and models,
override prices. Used by the CLI and `make run`; each change is idempotent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from model_router.costs.catalogue import PROVIDERS, default_catalogue
from model_router.costs.models import peak_to_json
from model_router.costs.pricing import Price
from model_router.db.models import Model, Provider
from model_router.errors import InvalidRequest, NotFound
from model_router.providers.base import PROTOCOLS


@dataclass(slots=True)
class SyncReport:
    providers_added: int = 0
    models_added: int = 0
    models_updated: int = 0
    models_kept: int = 0  # operator overrides left alone


def _apply_price(row: Model, price: Price | None) -> None:
    base = price.base if price else None
    row.input_price_per_1m_tokens = base.input if base else None
    row.output_price_per_1m_tokens = base.output if base else None
    row.cached_input_price_per_1m_tokens = base.cached_input if base else None
    row.cache_write_price_per_1m_tokens = base.cache_write if base else None
    row.cache_write_1h_price_per_1m_tokens = base.cache_write_1h if base else None
    tier = price.tier if price else None
    row.tier_threshold_tokens = price.tier_threshold if price and tier else None
    row.tier_input_price_per_1m_tokens = tier.input if tier else None
    row.tier_output_price_per_1m_tokens = tier.output if tier else None
    row.tier_cached_input_price_per_1m_tokens = tier.cached_input if tier else None
    row.tier_cache_write_price_per_1m_tokens = tier.cache_write if tier else None
    row.tier_cache_write_1h_price_per_1m_tokens = tier.cache_write_1h if tier else None
    row.peak_pricing = peak_to_json(price.peak if price else None)


async def sync_catalogue(
    sessions: async_sessionmaker[AsyncSession], at: datetime | None = None
) -> SyncReport:
    report = SyncReport()
    entries = default_catalogue(at or datetime.now(UTC))
    async with sessions.begin() as session:
        providers = {p.name: p for p in await session.scalars(select(Provider))}
        for seed in PROVIDERS:
            if seed.name not in providers:
                provider_row = Provider(
                    name=seed.name,
                    protocol=seed.protocol,
                    base_url_setting=seed.base_url_setting,
                    api_key_setting=seed.api_key_setting,
                )
                session.add(provider_row)
                providers[seed.name] = provider_row
                report.providers_added += 1
        await session.flush()
        existing = {(m.provider_id, m.model_id): m for m in await session.scalars(select(Model))}
        for entry in entries:
            provider = providers[entry.provider]
            row = existing.get((provider.id, entry.model_id))
            if row is None:
                row = Model(provider_id=provider.id, model_id=entry.model_id)
                session.add(row)
                report.models_added += 1
            elif row.price_source == "override":
                report.models_kept += 1
                continue
            else:
                report.models_updated += 1
            row.display_name = entry.display_name
            row.upstream_model = entry.upstream_model
            row.upstream_params = entry.upstream_params
            row.context_window = entry.context_window
            row.max_output_tokens = entry.max_output_tokens
            row.price_source = "genai-prices"
            _apply_price(row, entry.price)
    return report


async def add_provider(
    sessions: async_sessionmaker[AsyncSession],
    name: str,
    *,
    base_url: str,
    api_key_setting: str,
    protocol: str = "openai",
    auth_header: str = "authorization",
) -> Provider:
    if protocol not in PROTOCOLS:
        raise InvalidRequest(f"protocol must be one of {', '.join(PROTOCOLS)}", param="protocol")
    async with sessions.begin() as session:
        row = await session.scalar(select(Provider).where(Provider.name == name))
        if row is None:
            row = Provider(name=name)
            session.add(row)
        row.protocol = protocol
        row.base_url = base_url
        row.base_url_setting = None
        row.api_key_setting = api_key_setting
        row.auth_header = auth_header
        row.is_active = True
    return row


@dataclass(slots=True)
class ModelSpec:
    provider: str
    model_id: str
    upstream_model: str | None = None
    display_name: str | None = None
    input_price: Decimal | None = None
    output_price: Decimal | None = None
    cached_input_price: Decimal | None = None
    cache_write_price: Decimal | None = None
    context_window: int | None = None
    max_output_tokens: int | None = None


async def add_model(sessions: async_sessionmaker[AsyncSession], spec: ModelSpec) -> Model:
    """Add or replace a model; its prices are the operator's (kept by sync)."""
    async with sessions.begin() as session:
        provider = await session.scalar(select(Provider).where(Provider.name == spec.provider))
        if provider is None:
            raise NotFound(f"No provider named '{spec.provider}'.")
        row = await session.scalar(
            select(Model).where(Model.provider_id == provider.id, Model.model_id == spec.model_id)
        )
        if row is None:
            row = Model(provider_id=provider.id, model_id=spec.model_id)
            session.add(row)
        row.upstream_model = spec.upstream_model
        row.display_name = spec.display_name or spec.model_id
        row.input_price_per_1m_tokens = spec.input_price
        row.output_price_per_1m_tokens = spec.output_price
        row.cached_input_price_per_1m_tokens = spec.cached_input_price
        row.cache_write_price_per_1m_tokens = spec.cache_write_price
        row.context_window = spec.context_window
        row.max_output_tokens = spec.max_output_tokens
        row.price_source = "override"
        row.is_active = True
    return row


async def set_price(
    sessions: async_sessionmaker[AsyncSession],
    model_id: str,
    *,
    provider: str | None = None,
    input_price: Decimal | None = None,
    output_price: Decimal | None = None,
    cached_input_price: Decimal | None = None,
    cache_write_price: Decimal | None = None,
) -> Model:
    """Override a model's prices; `models sync` will not overwrite them."""
    async with sessions.begin() as session:
        query = select(Model).where(Model.model_id == model_id)
        if provider is not None:
            query = query.join(Provider).where(Provider.name == provider)
        rows = list(await session.scalars(query))
        if not rows:
            raise NotFound(f"No model '{model_id}'.")
        if len(rows) > 1:
            raise InvalidRequest(f"'{model_id}' is served by several providers: name one.")
        row = rows[0]
        for column, value in (
            ("input_price_per_1m_tokens", input_price),
            ("output_price_per_1m_tokens", output_price),
            ("cached_input_price_per_1m_tokens", cached_input_price),
            ("cache_write_price_per_1m_tokens", cache_write_price),
        ):
            if value is not None:
                setattr(row, column, value)
        row.price_source = "override"
    return row
