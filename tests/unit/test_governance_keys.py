"""Key authentication: the hash found is compared in constant time; expiry; the
key service's validation shared by the API and the CLI."""

from __future__ import annotations

import hmac
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from model_router.db.models import Base
from model_router.errors import AuthenticationError, KeyExpired
from model_router.schemas.keys import KeyCreate
from model_router.services import keys as key_service
from model_router.services.keys import KeyCache, create_key

pytestmark = pytest.mark.anyio


@pytest.fixture
async def sessions(tmp_path: Any) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'keys.db'}")
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    yield async_sessionmaker(engine, expire_on_commit=False)
    await engine.dispose()


async def test_lookup_confirms_the_hash_with_compare_digest(
    sessions: async_sessionmaker[AsyncSession], monkeypatch: pytest.MonkeyPatch
) -> None:
    compared: list[tuple[str, str]] = []
    real = hmac.compare_digest

    def recording(a: Any, b: Any) -> bool:
        compared.append((a, b))
        return real(a, b)

    monkeypatch.setattr(key_service.hmac, "compare_digest", recording)
    info, key = await create_key(sessions, "k")
    cache = KeyCache(sessions, 60)
    await cache.load()
    assert (await cache.authenticate(key)).id == info.id
    assert compared == [(key_service.hash_key(key), key_service.hash_key(key))]
    with pytest.raises(AuthenticationError):
        await cache.authenticate(key + "x")


async def test_expired_keys_are_refused_at_authentication(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    past = datetime.now(UTC) - timedelta(minutes=1)
    _, key = await create_key(sessions, "old", spec=KeyCreate(name="old", expires_at=past))
    cache = KeyCache(sessions, 60)
    await cache.load()
    with pytest.raises(KeyExpired) as caught:
        await cache.authenticate(key)
    assert caught.value.status_code == 401 and caught.value.code == "key_expired"


async def test_budget_without_period_is_monthly(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    info, _ = await create_key(sessions, "b", spec=KeyCreate(name="b", budget_usd=Decimal("2")))
    assert (info.budget_usd, info.budget_period) == (Decimal("2"), "month")


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"rpm_limit": 0}, "rpm_limit"),
        ({"budget_usd": "-0.01"}, "budget_usd"),
        ({"budget_usd": "0.0000000000001"}, "budget_usd"),
        ({"budget_period": "fortnight"}, "budget_period"),
        ({"surprise": True}, "surprise"),
    ],
)
async def test_invalid_settings_name_the_field(fields: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        KeyCreate.model_validate({"name": "x", **fields})
    assert caught.value.errors()[0]["loc"][0] == field


async def test_naive_expiry_means_utc() -> None:
    spec = KeyCreate(name="x", expires_at=datetime(2030, 1, 1, 12))
    assert spec.expires_at == datetime(2030, 1, 1, 12, tzinfo=UTC)
