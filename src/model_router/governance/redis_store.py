"""The counter store on Redis: the same operations as `MemoryStore`, each one
Lua script, so any number of router processes share one limit and one budget.

Keys (all of a key's in one hash slot, `{key id}`, so the scripts also work
on a cluster):
    {prefix}{{id}}:r:{minute}     requests in that minute (expires after 2 min)
    {prefix}{{id}}:t:{minute}     tokens in that minute
    {prefix}{{id}}:b:{period}     hash: spent_p, spent_n, reserved_n, notified
    {prefix}{{id}}:res:{period}   hash: reservation id -> nano-dollars
    {prefix}{{id}}:exp:{period}   sorted set: reservation id by deadline
"""

from __future__ import annotations

from typing import Any

from redis.asyncio import Redis

from model_router.governance.store import (
    AdmitRequest,
    AdmitResult,
    Outcome,
    SettleRequest,
    SettleResult,
)

ADMIT = """
local rpm_limit = tonumber(ARGV[1])
local tpm_limit = tonumber(ARGV[2])
local tokens = tonumber(ARGV[3])
local budget = tonumber(ARGV[4])
local reserve = tonumber(ARGV[5])
local period_ttl = tonumber(ARGV[9])
local requests = tonumber(redis.call('GET', KEYS[1]) or '0')
local used = tonumber(redis.call('GET', KEYS[2]) or '0')
local spent, reserved = 0, 0
if budget >= 0 then
  local expired = redis.call('ZRANGEBYSCORE', KEYS[5], '-inf', ARGV[7])
  for _, id in ipairs(expired) do
    local amount = tonumber(redis.call('HGET', KEYS[4], id) or '0')
    redis.call('HDEL', KEYS[4], id)
    redis.call('HINCRBY', KEYS[3], 'reserved_n', -amount)
  end
  if #expired > 0 then redis.call('ZREMRANGEBYSCORE', KEYS[5], '-inf', ARGV[7]) end
  spent = tonumber(redis.call('HGET', KEYS[3], 'spent_n') or '0')
  reserved = tonumber(redis.call('HGET', KEYS[3], 'reserved_n') or '0')
end
if rpm_limit > 0 and requests + 1 > rpm_limit then
  return {'rpm', requests, used, spent, reserved, 0}
end
if tpm_limit > 0 and used + tokens > tpm_limit then
  return {'tpm', requests, used, spent, reserved, 0}
end
if budget >= 0 and spent + reserved + reserve > budget then
  local notified = tonumber(redis.call('HGET', KEYS[3], 'notified') or '0')
  local note = 0
  if notified < 100 and spent + reserve > budget then
    redis.call('HSET', KEYS[3], 'notified', 100)
    note = 100
  end
  return {'budget', requests, used, spent, reserved, note}
end
if rpm_limit > 0 then
  requests = redis.call('INCR', KEYS[1])
  redis.call('EXPIRE', KEYS[1], 120)
end
if tpm_limit > 0 then
  used = redis.call('INCRBY', KEYS[2], tokens)
  redis.call('EXPIRE', KEYS[2], 120)
end
if budget >= 0 and reserve > 0 then
  redis.call('HSET', KEYS[4], ARGV[6], reserve)
  redis.call('ZADD', KEYS[5], ARGV[8], ARGV[6])
  reserved = redis.call('HINCRBY', KEYS[3], 'reserved_n', reserve)
  if period_ttl > 0 then
    for i = 3, 5 do redis.call('EXPIRE', KEYS[i], period_ttl) end
  end
end
return {'ok', requests, used, spent, reserved, 0}
"""

SETTLE = """
local delta = tonumber(ARGV[1])
local budget = tonumber(ARGV[2])
local actual_n = tonumber(ARGV[4])
local period_ttl = tonumber(ARGV[6])
if delta ~= 0 and redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('INCRBY', KEYS[1], delta)
end
if budget < 0 then return {'0', 0, 0} end
local held = redis.call('HGET', KEYS[3], ARGV[3])
if held then
  redis.call('HDEL', KEYS[3], ARGV[3])
  redis.call('ZREM', KEYS[4], ARGV[3])
  redis.call('HINCRBY', KEYS[2], 'reserved_n', -tonumber(held))
end
if actual_n > 0 then
  redis.call('HINCRBY', KEYS[2], 'spent_n', actual_n)
  redis.call('HINCRBY', KEYS[2], 'spent_p', ARGV[5])
end
if period_ttl > 0 then redis.call('EXPIRE', KEYS[2], period_ttl) end
local spent = tonumber(redis.call('HGET', KEYS[2], 'spent_n') or '0')
local notified = tonumber(redis.call('HGET', KEYS[2], 'notified') or '0')
local note = 0
if budget > 0 then
  for _, t in ipairs({50, 80, 100}) do
    if spent * 100 >= budget * t and t > notified then note = t end
  end
end
if note > 0 then redis.call('HSET', KEYS[2], 'notified', note) end
return {redis.call('HGET', KEYS[2], 'spent_p') or '0', spent, note}
"""

SEED = """
local current = tonumber(redis.call('HGET', KEYS[1], 'spent_n') or '0')
local wanted = tonumber(ARGV[2])
if wanted > current then
  redis.call('HSET', KEYS[1], 'spent_p', ARGV[1], 'spent_n', ARGV[2])
end
if tonumber(ARGV[3]) > 0 then redis.call('EXPIRE', KEYS[1], ARGV[3]) end
return 1
"""


_OUTCOMES: dict[str, Outcome] = {"ok": "ok", "rpm": "rpm", "tpm": "tpm", "budget": "budget"}


class RedisStore:
    def __init__(self, url: str, prefix: str) -> None:
        self._redis: Redis = Redis.from_url(
            url,
            socket_connect_timeout=2.0,
            socket_timeout=2.0,
            health_check_interval=0,
            retry_on_timeout=False,
        )
        self._prefix = prefix
        self._admit = self._redis.register_script(ADMIT)
        self._settle = self._redis.register_script(SETTLE)
        self._seed = self._redis.register_script(SEED)

    def _key(self, key_id: str, kind: str, suffix: str | int) -> str:
        return f"{self._prefix}{{{key_id}}}:{kind}:{suffix}"

    def _budget_keys(self, key_id: str, period: str) -> list[str]:
        return [self._key(key_id, kind, period) for kind in ("b", "res", "exp")]

    async def admit(self, request: AdmitRequest) -> AdmitResult:
        keys = [
            self._key(request.key_id, "r", request.window),
            self._key(request.key_id, "t", request.window),
            *self._budget_keys(request.key_id, request.period),
        ]
        args: list[str | int] = [
            request.rpm_limit,
            request.tpm_limit,
            request.tokens,
            request.budget_nano,
            request.reserve_nano,
            request.reservation,
            repr(request.now),
            repr(request.deadline),
            request.period_ttl,
        ]
        raw: list[Any] = await self._admit(keys=keys, args=args)
        outcome = _OUTCOMES[_text(raw[0])]
        return AdmitResult(outcome, *(int(v) for v in raw[1:6]))

    async def settle(self, request: SettleRequest) -> SettleResult:
        keys = [
            self._key(request.key_id, "t", request.window),
            *self._budget_keys(request.key_id, request.period),
        ]
        args: list[str | int] = [
            request.tokens_delta,
            request.budget_nano,
            request.reservation,
            request.actual_nano,
            request.actual_pico,
            request.period_ttl,
        ]
        raw: list[Any] = await self._settle(keys=keys, args=args)
        return SettleResult(int(_text(raw[0])), int(raw[1]), int(raw[2]))

    async def spend(self, key_id: str, period: str) -> tuple[int, int]:
        spent, reserved = await self._redis.hmget(
            self._key(key_id, "b", period), ["spent_p", "reserved_n"]
        )
        return int(_text(spent or b"0")), int(_text(reserved or b"0"))

    async def seed(self, key_id: str, period: str, period_ttl: int, spent_pico: int) -> None:
        nano = -(-spent_pico // 1000)
        await self._seed(keys=[self._key(key_id, "b", period)], args=[spent_pico, nano, period_ttl])

    async def ping(self) -> None:
        await self._redis.ping()

    async def aclose(self) -> None:
        await self._redis.aclose()


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
