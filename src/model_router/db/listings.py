"""The catalogue and the keys as the analytics API lists them
(`GET /v1/analytics/models`, `GET /v1/analytics/users`)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from model_router.db.models import Model, Provider, User
from model_router.schemas.analytics import CatalogueModel, UserItem

# --- GET /v1/analytics/models --------------------------------------------------------


async def list_catalogue(session: AsyncSession) -> list[CatalogueModel]:
    """Every model in the database with its prices, disabled ones included."""
    rows = await session.execute(
        select(Model, Provider.name, Provider.is_active)
        .join(Provider, Model.provider_id == Provider.id)
        .order_by(Provider.name, Model.model_id)
    )
    return [
        CatalogueModel(
            uuid=model.id,
            model_id=model.model_id,
            provider=provider,
            display_name=model.display_name,
            input_price_per_1m_tokens=model.input_price_per_1m_tokens,
            output_price_per_1m_tokens=model.output_price_per_1m_tokens,
            cached_input_price_per_1m_tokens=model.cached_input_price_per_1m_tokens,
            cache_write_price_per_1m_tokens=model.cache_write_price_per_1m_tokens,
            context_window=model.context_window,
            max_output_tokens=model.max_output_tokens,
            price_source=model.price_source,
            is_active=model.is_active and provider_active,
        )
        for model, provider, provider_active in rows
    ]


# --- GET /v1/analytics/users ---------------------------------------------------------


async def list_users(session: AsyncSession) -> list[UserItem]:
    """Every key (a user is a key), oldest first: the admin's pick for `user_id`."""
    rows = await session.execute(
        select(User.id, User.name, User.key_prefix, User.is_admin, User.is_active).order_by(
            User.created_at, User.id
        )
    )
    return [
        UserItem(id=id_, name=name, prefix=prefix, is_admin=is_admin, is_active=is_active)
        for id_, name, prefix, is_admin, is_active in rows
    ]
