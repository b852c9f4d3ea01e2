"""The cache key: a hash of the canonical request, and the per-request policy.

Every body field takes part in the key except those that cannot change the
answer (`stream`, `stream_options`, `user`, `metadata`, `store`,
`service_tier`) and the router's own `cache` object. Unknown fields stay in:
they are passed to the provider, so they may change what it answers. Values
are canonicalised first: `null` fields are dropped, keys are sorted, and the
float sampling parameters are written as floats (`1` and `1.0` are one key).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import orjson

from model_router.errors import InvalidRequest

NOT_IN_KEY = frozenset(
    {"stream", "stream_options", "user", "metadata", "store", "service_tier", "cache"}
)
FLOAT_FIELDS = frozenset({"temperature", "top_p", "presence_penalty", "frequency_penalty"})
MAX_TTL = 30 * 24 * 3600.0

Scope = Literal["per_key", "global"]


def canonical(body: Mapping[str, Any]) -> dict[str, Any]:
    """The fields of a request that decide its answer, normalised."""
    out: dict[str, Any] = {}
    for name, value in body.items():
        if name in NOT_IN_KEY or value is None:
            continue
        if name in FLOAT_FIELDS and isinstance(value, int | float) and not isinstance(value, bool):
            value = float(value)
        out[name] = value
    return out


def digest(value: Any) -> str:
    return hashlib.sha256(orjson.dumps(value, option=orjson.OPT_SORT_KEYS)).hexdigest()


def cache_key(body: Mapping[str, Any], namespace: str) -> str:
    """The exact-match key: the namespace (a key id, or `global`) and the request."""
    return digest([namespace, canonical(body)])


def context_key(body: Mapping[str, Any], namespace: str) -> tuple[str, str] | None:
    """For the semantic cache: (the hash of everything but the last user message's
    text, that text). Requests are compared by meaning only within one context:
    same namespace, model, parameters and earlier messages. None when the last
    message is not a user message with text."""
    fields = canonical(body)
    messages = fields.get("messages")
    if not isinstance(messages, list) or not messages:
        return None
    last = messages[-1]
    if not isinstance(last, dict) or last.get("role") != "user":
        return None
    content = last.get("content")
    if not isinstance(content, str) or not content.strip():
        return None
    fields["messages"] = [*messages[:-1], {**last, "content": None}]
    return digest(["semantic", namespace, fields]), content


@dataclass(frozen=True, slots=True)
class CachePlan:
    """What the cache does for one request."""

    key: str
    namespace: str
    read: bool
    write: bool
    ttl: float


def _cache_field(body: Mapping[str, Any]) -> tuple[bool | None, float | None]:
    """The body's `cache`: true/false, or {"enabled"?: bool, "ttl"?: seconds}."""
    raw = body.get("cache")
    if raw is None:
        return None, None
    if isinstance(raw, bool):
        return raw, None
    if not isinstance(raw, dict):
        raise InvalidRequest(
            "Invalid value for 'cache': expected true, false or an object like {\"ttl\": 600}.",
            param="cache",
            code="invalid_value",
        )
    unknown = set(raw) - {"enabled", "ttl"}
    if unknown:
        name = sorted(unknown)[0]
        raise InvalidRequest(
            f"Unknown field 'cache.{name}': the cache object takes 'enabled' and 'ttl'.",
            param=f"cache.{name}",
            code="invalid_value",
        )
    enabled = raw.get("enabled", True)
    if not isinstance(enabled, bool):
        raise InvalidRequest(
            "Invalid value for 'cache.enabled': expected a boolean.",
            param="cache.enabled",
            code="invalid_value",
        )
    ttl = raw.get("ttl")
    if ttl is not None and (
        isinstance(ttl, bool) or not isinstance(ttl, int | float) or not 0 < ttl <= MAX_TTL
    ):
        raise InvalidRequest(
            "Invalid value for 'cache.ttl': expected seconds, more than 0 and at most "
            f"{MAX_TTL:.0f}.",
            param="cache.ttl",
            code="invalid_value",
        )
    return enabled, None if ttl is None else float(ttl)


def _header_switch(headers: Mapping[str, str]) -> bool | None:
    value = headers.get("x-router-cache")
    if value is None:
        return None
    value = value.strip().lower()
    if value in ("on", "true", "1"):
        return True
    if value in ("off", "false", "0"):
        return False
    raise InvalidRequest(
        f"Invalid value for header 'x-router-cache': expected on or off, got '{value[:20]}'.",
        param="x-router-cache",
        code="invalid_value",
    )


def cache_control(headers: Mapping[str, str]) -> set[str]:
    raw = headers.get("cache-control") or ""
    return {part.strip().lower().split("=")[0] for part in raw.split(",") if part.strip()}


def plan(
    body: Mapping[str, Any],
    headers: Mapping[str, str],
    *,
    key_id: str,
    enabled: bool,
    default_ttl: float,
    scope: Scope,
) -> CachePlan | None:
    """The cache policy of one request, or None when the cache stays out of it.

    On when asked (header `x-router-cache: on`, or a `cache` object) or when the
    operator turned it on for everyone; off when asked (`off`, `"cache": false`).
    A request with `temperature > 0` samples a new answer each time, so it is
    cached only when the caller asks. `Cache-Control: no-cache` skips the read,
    `no-store` the write.
    """
    from_body, ttl = _cache_field(body)
    from_header = _header_switch(headers)
    if from_header is False or from_body is False:
        return None
    asked = from_header is True or from_body is True
    if not (asked or enabled):
        return None
    temperature = body.get("temperature")
    if (
        not asked
        and isinstance(temperature, int | float)
        and not isinstance(temperature, bool)
        and temperature > 0
    ):
        return None
    control = cache_control(headers)
    read, write = "no-cache" not in control, "no-store" not in control
    if not (read or write):
        return None
    namespace = "global" if scope == "global" else key_id
    return CachePlan(
        key=cache_key(body, namespace),
        namespace=namespace,
        read=read,
        write=write,
        ttl=ttl or default_ttl,
    )
