"""API keys: creation, hashing, revocation, and the in-memory cache auth reads.

A key is `mr-` plus 40 random URL-safe characters. Only its SHA-256 and a
short display prefix are stored. Authentication looks the hash up in memory:
no database round trip on the request path. The cache is reloaded every
`key_cache_refresh_seconds` (so keys made by the CLI or another instance
appear), and a hash it does not know is looked up in the database once, then
remembered as unknown for a while, so new keys work at once and floods of bad
keys cost nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import secrets
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from model_router.db.models import User
from model_router.errors import AuthenticationError, NotFound, PermissionDenied

KEY_PREFIX = "mr-"
DISPLAY_CHARS = 10
NEGATIVE_TTL = 5.0


def new_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(30)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class KeyInfo:
    id: uuid.UUID
    name: str
    prefix: str
    is_admin: bool
    is_active: bool


def _info(user: User) -> KeyInfo:
    return KeyInfo(user.id, user.name, user.key_prefix, user.is_admin, user.is_active)


async def create_key(
    sessions: async_sessionmaker[AsyncSession], name: str, *, admin: bool = False
) -> tuple[KeyInfo, str]:
    """Store a new key; returns it in full, the only time it is ever seen."""
    key = new_key()
    user = User(name=name, key_hash=hash_key(key), key_prefix=key[:DISPLAY_CHARS], is_admin=admin)
    async with sessions.begin() as session:
        session.add(user)
    return _info(user), key


async def ensure_key(
    sessions: async_sessionmaker[AsyncSession], key: str, name: str, *, admin: bool
) -> None:
    """Make sure a given key (ADMIN_API_KEY) exists, without storing it in clear."""
    digest = hash_key(key)
    async with sessions.begin() as session:
        found = await session.scalar(select(User).where(User.key_hash == digest))
        if found is None:
            session.add(
                User(name=name, key_hash=digest, key_prefix=key[:DISPLAY_CHARS], is_admin=admin)
            )


async def list_keys(sessions: async_sessionmaker[AsyncSession]) -> list[User]:
    async with sessions() as session:
        return list(await session.scalars(select(User).order_by(User.created_at)))


async def count_keys(sessions: async_sessionmaker[AsyncSession]) -> int:
    return len(await list_keys(sessions))


async def revoke_key(sessions: async_sessionmaker[AsyncSession], id_or_prefix: str) -> User:
    """Revoke by id or by display prefix; the prefix must name exactly one key."""
    condition = User.key_prefix == id_or_prefix
    with contextlib.suppress(ValueError):
        condition = or_(condition, User.id == uuid.UUID(id_or_prefix))
    async with sessions.begin() as session:
        found = list(await session.scalars(select(User).where(condition)))
        if not found:
            raise NotFound(f"No key has id or prefix '{id_or_prefix}'.")
        if len(found) > 1:
            raise NotFound(f"'{id_or_prefix}' matches {len(found)} keys; use the key id.")
        user = found[0]
        await session.execute(
            update(User)
            .where(User.id == user.id)
            .values(is_active=False, revoked_at=datetime.now(UTC))
        )
    user.is_active = False
    return user


class KeyCache:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], refresh_seconds: float) -> None:
        self._sessions = sessions
        self._refresh_seconds = refresh_seconds
        self._by_hash: dict[str, KeyInfo] = {}
        self._unknown: dict[str, float] = {}
        self._task: asyncio.Task[None] | None = None

    async def load(self) -> None:
        async with self._sessions() as session:
            users = await session.scalars(select(User))
            self._by_hash = {u.key_hash: _info(u) for u in users}
        self._unknown.clear()

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
        if info is None:
            raise AuthenticationError("Invalid API key.", code="invalid_api_key")
        if not info.is_active:
            raise PermissionDenied("This API key has been revoked.", code="key_revoked")
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
        info = _info(user)
        self._by_hash[digest] = info
        return info
