"""API keys: creation, hashing, governance settings, revocation, and the
in-memory cache auth reads.

A key is `mr-` plus 40 random URL-safe characters. Only its SHA-256 and a
short display prefix are stored. Authentication looks the hash up in memory
(and confirms it with `hmac.compare_digest`): no database round trip on the
request path. The cache is reloaded every `key_cache_refresh_seconds` (so keys
made by the CLI or another instance appear), and a hash it does not know is
looked up in the database once, then remembered as unknown for a while, so new
keys work at once and floods of bad keys cost nothing.

Ownership: an admin key with an `owner` label manages only keys of that owner
(others are 404 to it); an admin key without one manages every key. The admin
API and the CLI call the same functions here.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import secrets
import time
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from model_router.db.models import User
from model_router.domain.keys import KeyInfo
from model_router.errors import AuthenticationError, KeyExpired, NotFound, PermissionDenied
from model_router.schemas.keys import KeyCreate, KeyUpdate

KEY_PREFIX = "mr-"
DISPLAY_CHARS = 10
NEGATIVE_TTL = 5.0
Sessions = async_sessionmaker[AsyncSession]


def new_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(30)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def key_info(user: User) -> KeyInfo:
    return KeyInfo(
        id=user.id,
        name=user.name,
        prefix=user.key_prefix,
        is_admin=user.is_admin,
        is_active=user.is_active,
        owner=user.owner,
        allowed_models=tuple(user.allowed_models) if user.allowed_models is not None else None,
        rpm_limit=user.rpm_limit,
        tpm_limit=user.tpm_limit,
        budget_usd=user.budget_usd,
        budget_period=(user.budget_period or "month") if user.budget_usd is not None else None,
        expires_at=user.expires_at,
        store_text=user.store_text if user.store_text is not None else True,
        created_at=user.created_at,
        key_hash=user.key_hash,
    )


def key_object(user: User) -> dict[str, Any]:
    """The key as the admin API shows it (spend fields are added by the caller)."""
    return {
        "id": str(user.id),
        "name": user.name,
        "owner": user.owner,
        "prefix": user.key_prefix,
        "is_admin": user.is_admin,
        "is_active": user.is_active,
        "allowed_models": user.allowed_models,
        "rpm_limit": user.rpm_limit,
        "tpm_limit": user.tpm_limit,
        "budget_usd": None if user.budget_usd is None else _money(user.budget_usd),
        "budget_period": (user.budget_period or "month") if user.budget_usd is not None else None,
        "expires_at": _iso(user.expires_at),
        "metadata": user.key_metadata,
        "store_text": user.store_text if user.store_text is not None else True,
        "created_at": _iso(user.created_at),
        "revoked_at": _iso(user.revoked_at),
    }


def _money(value: Decimal) -> str:
    return format(value.normalize(), "f") if value else "0"


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(UTC).isoformat()


async def create_key(
    sessions: Sessions,
    name: str,
    *,
    admin: bool = False,
    spec: KeyCreate | None = None,
) -> tuple[KeyInfo, str]:
    """Store a new key; returns it in full, the only time it is ever seen."""
    spec = spec or KeyCreate(name=name, is_admin=admin)
    key = new_key()
    user = User(
        name=spec.name,
        key_hash=hash_key(key),
        key_prefix=key[:DISPLAY_CHARS],
        is_admin=spec.is_admin,
        owner=spec.owner,
        allowed_models=spec.allowed_models,
        rpm_limit=spec.rpm_limit,
        tpm_limit=spec.tpm_limit,
        budget_usd=spec.budget_usd,
        budget_period=(spec.budget_period or "month") if spec.budget_usd is not None else None,
        expires_at=spec.expires_at,
        key_metadata=spec.metadata,
        store_text=True if spec.store_text is None else spec.store_text,
        created_at=datetime.now(UTC),
    )
    async with sessions.begin() as session:
        session.add(user)
    return key_info(user), key


async def ensure_key(sessions: Sessions, key: str, name: str, *, admin: bool) -> None:
    """Make sure a given key (ADMIN_API_KEY) exists, without storing it in clear."""
    digest = hash_key(key)
    async with sessions.begin() as session:
        found = await session.scalar(select(User).where(User.key_hash == digest))
        if found is None:
            session.add(
                User(name=name, key_hash=digest, key_prefix=key[:DISPLAY_CHARS], is_admin=admin)
            )


async def list_keys(sessions: Sessions, owner: str | None = None) -> list[User]:
    """Every key, or only those of `owner` when given."""
    query = select(User).order_by(User.created_at, User.id)
    if owner is not None:
        query = query.where(User.owner == owner)
    async with sessions() as session:
        return list(await session.scalars(query))


async def count_keys(sessions: Sessions) -> int:
    return len(await list_keys(sessions))


def _not_found(key_id: object) -> NotFound:
    return NotFound(f"No key with id '{str(key_id)[:100]}'.", param="id", code="key_not_found")


async def get_key(sessions: Sessions, key_id: uuid.UUID, owner: str | None = None) -> User:
    """A key by id; a key of another owner is as absent as a missing one."""
    async with sessions() as session:
        user = await session.get(User, key_id)
    if user is None or (owner is not None and user.owner != owner):
        raise _not_found(key_id)
    return user


async def update_key(
    sessions: Sessions, key_id: uuid.UUID, changes: KeyUpdate, owner: str | None = None
) -> User:
    """Apply the fields that were sent (null clears a limit)."""
    fields = changes.model_dump(exclude_unset=True)
    async with sessions.begin() as session:
        user = await session.get(User, key_id)
        if user is None or (owner is not None and user.owner != owner):
            raise _not_found(key_id)
        if owner is not None and "owner" in fields and fields["owner"] != owner:
            raise PermissionDenied(
                "A team admin key cannot move a key to another owner.", param="owner"
            )
        for name, value in fields.items():
            if name in ("name", "is_admin", "store_text") and value is None:
                continue
            setattr(user, "key_metadata" if name == "metadata" else name, value)
        if user.budget_usd is None:
            user.budget_period = None
        elif user.budget_period is None:
            user.budget_period = "month"
    return user


async def revoke_key(sessions: Sessions, id_or_prefix: str, owner: str | None = None) -> User:
    """Revoke by id or by display prefix; the prefix must name exactly one key.

    The row stays (its requests keep their history); revoking twice is harmless.
    """
    condition = User.key_prefix == id_or_prefix
    with contextlib.suppress(ValueError):
        condition = or_(condition, User.id == uuid.UUID(id_or_prefix))
    if owner is not None:
        condition = condition & (User.owner == owner)
    async with sessions.begin() as session:
        found = list(await session.scalars(select(User).where(condition)))
        if not found:
            raise NotFound(f"No key has id or prefix '{id_or_prefix[:100]}'.", code="key_not_found")
        if len(found) > 1:
            raise NotFound(f"'{id_or_prefix}' matches {len(found)} keys; use the key id.")
        user = found[0]
        if user.is_active:
            user.is_active = False
            user.revoked_at = datetime.now(UTC)
    return user


class KeyCache:
    def __init__(self, sessions: Sessions, refresh_seconds: float) -> None:
        self._sessions = sessions
        self._refresh_seconds = refresh_seconds
        self._by_hash: dict[str, KeyInfo] = {}
        self._unknown: dict[str, float] = {}
        self._task: asyncio.Task[None] | None = None
        # Keys changed in this process (`put`), by change number: a reload that
        # read its rows before a change must not bring the old copy back.
        self._puts = 0
        self._put_at: dict[str, int] = {}

    async def load(self) -> None:
        since = self._puts
        async with self._sessions() as session:
            users = await session.scalars(select(User))
            fresh = {u.key_hash: key_info(u) for u in users}
        for digest, number in self._put_at.items():
            if number > since and digest in self._by_hash:
                fresh[digest] = self._by_hash[digest]  # changed while the rows were read
        self._put_at = {d: n for d, n in self._put_at.items() if n > since}
        self._by_hash = fresh
        self._unknown.clear()

    def all(self) -> list[KeyInfo]:
        return list(self._by_hash.values())

    async def start(self) -> None:
        await self.load()
        self._task = asyncio.create_task(self._refresh_forever(), name="key-cache-refresh")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _refresh_forever(self) -> None:
        while True:
            await asyncio.sleep(self._refresh_seconds)
            try:
                await self.load()
            except Exception:  # the database may blip; keep the last good copy
                continue

    def remember(self, digest: str, info: KeyInfo) -> None:
        self._by_hash[digest] = info
        self._unknown.pop(digest, None)

    def put(self, user: User) -> KeyInfo:
        """A key changed in this process: take it at once, without a reload."""
        info = key_info(user)
        self._puts += 1
        self._put_at[user.key_hash] = self._puts
        self.remember(user.key_hash, info)
        return info

    async def authenticate(self, key: str | None) -> KeyInfo:
        if not key:
            raise AuthenticationError(
                "Missing API key: send 'Authorization: Bearer KEY' or 'X-API-Key: KEY'.",
                code="missing_api_key",
            )
        digest = hash_key(key)
        info = self._by_hash.get(digest)
        if info is None:
            info = await self._lookup(digest)
        # The hash found must equal the one computed, compared in constant time.
        if info is None or not hmac.compare_digest(info.key_hash, digest):
            raise AuthenticationError("Invalid API key.", code="invalid_api_key")
        if not info.is_active:
            raise PermissionDenied("This API key has been revoked.", code="key_revoked")
        if info.expires_at is not None and info.expires_at <= datetime.now(UTC):
            raise KeyExpired(info.expires_at.isoformat())
        return info

    async def _lookup(self, digest: str) -> KeyInfo | None:
        now = time.monotonic()
        if self._unknown.get(digest, 0.0) > now:
            return None
        async with self._sessions() as session:
            user = await session.scalar(select(User).where(User.key_hash == digest))
        if user is None:
            if len(self._unknown) > 10_000:
                self._unknown.clear()
            self._unknown[digest] = now + NEGATIVE_TTL
            return None
        info = key_info(user)
        self._by_hash[digest] = info
        return info
