"""The response cache in Redis, shared by every instance on the same `REDIS_URL`
and prefix. A failure (Redis down) answers "miss" and drops the write: the
cache never fails a request."""

from __future__ import annotations

import logging

from redis.asyncio import Redis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)


class RedisStore:
    """Answers in Redis under `prefix + key`, expiring by Redis's own TTL."""

    def __init__(self, url: str, prefix: str) -> None:
        self._redis: Redis = Redis.from_url(url, socket_timeout=2.0, socket_connect_timeout=2.0)
        self._prefix = prefix

    async def get(self, key: str) -> bytes | None:
        try:
            value = await self._redis.get(self._prefix + key)
        except (RedisError, OSError) as exc:
            log.warning("response cache: Redis read failed (%s); treated as a miss", exc)
            return None
        return value if isinstance(value, bytes) else None

    async def set(self, key: str, value: bytes, ttl: float) -> None:
        try:
            await self._redis.set(self._prefix + key, value, px=max(1, round(ttl * 1000)))
        except (RedisError, OSError) as exc:
            log.warning("response cache: Redis write failed (%s); answer not cached", exc)

    async def aclose(self) -> None:
        await self._redis.aclose()
