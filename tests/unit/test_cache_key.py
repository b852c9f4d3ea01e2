"""The cache key and the per-request cache policy, as pure functions."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from model_router.cache.key import CachePlan, cache_key, canonical, context_key, plan
from model_router.cache.store import MemoryStore
from model_router.errors import InvalidRequest

BASE: dict[str, Any] = {
    "model": "gpt-4o-mini",
    "messages": [{"role": "user", "content": "Hello"}],
}
TOOL = {"type": "function", "function": {"name": "f", "parameters": {}}}

CHANGES: list[tuple[str, Any, Any]] = [
    ("model", "gpt-4o-mini", "gpt-4o"),
    ("messages", [{"role": "user", "content": "a"}], [{"role": "user", "content": "b"}]),
    ("tools", [TOOL], []),
    ("tool_choice", "auto", "required"),
    ("response_format", {"type": "json_object"}, {"type": "text"}),
    ("temperature", 0.2, 0.3),
    ("top_p", 0.1, 0.2),
    ("max_tokens", 10, 11),
    ("max_completion_tokens", 10, 11),
    ("stop", "x", "y"),
    ("seed", 1, 2),
    ("presence_penalty", 0.5, 0.6),
    ("frequency_penalty", 0.5, 0.6),
    ("reasoning_effort", "low", "high"),
    ("logit_bias", {"1": 1}, {"1": 2}),
    ("models", ["a"], ["b"]),  # fallbacks: another model may answer
]


@pytest.mark.parametrize(("field", "a", "b"), CHANGES, ids=[c[0] for c in CHANGES])
def test_every_answer_changing_field_is_in_the_key(field: str, a: Any, b: Any) -> None:
    first = cache_key({**BASE, field: a}, "k")
    assert cache_key({**BASE, field: a}, "k") == first
    assert cache_key({**BASE, field: b}, "k") != first
    if field not in BASE:
        assert cache_key(BASE, "k") != first  # present or absent matters too


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("stream", True),
        ("stream_options", {"include_usage": True}),
        ("user", "alice"),
        ("metadata", {"a": "b"}),
        ("cache", {"ttl": 5}),
        ("temperature", None),
    ],
)
def test_fields_that_do_not_change_the_answer_are_left_out(field: str, value: Any) -> None:
    assert cache_key({**BASE, field: value}, "k") == cache_key(BASE, "k")


def test_equal_values_written_differently_are_one_key() -> None:
    assert cache_key({**BASE, "temperature": 1}, "k") == cache_key(
        {**BASE, "temperature": 1.0}, "k"
    )
    reordered = {"messages": BASE["messages"], "model": BASE["model"]}
    assert cache_key(reordered, "k") == cache_key(BASE, "k")
    assert canonical({**BASE, "top_p": 1})["top_p"] == 1.0


def test_the_namespace_separates_keys() -> None:
    assert cache_key(BASE, "key-a") != cache_key(BASE, "key-b")


def test_context_key_ignores_only_the_last_user_text() -> None:
    one = context_key({**BASE, "messages": [{"role": "user", "content": "hi there"}]}, "k")
    two = context_key({**BASE, "messages": [{"role": "user", "content": "hello there"}]}, "k")
    assert one is not None and two is not None
    assert one[0] == two[0] and (one[1], two[1]) == ("hi there", "hello there")
    warmer = context_key(
        {**BASE, "temperature": 0.5, "messages": [{"role": "user", "content": "hi"}]}, "k"
    )
    assert warmer is not None and warmer[0] != one[0]
    assert context_key({**BASE, "messages": [{"role": "system", "content": "x"}]}, "k") is None


def _plan(
    body: dict[str, Any], headers: dict[str, str] | None = None, enabled: bool = False
) -> CachePlan | None:
    return plan(body, headers or {}, key_id="k", enabled=enabled, default_ttl=60.0, scope="per_key")


def test_policy_switches() -> None:
    assert _plan(BASE) is None  # off by default
    assert _plan(BASE, enabled=True) is not None
    assert _plan(BASE, {"x-router-cache": "on"}) is not None
    assert _plan(BASE, {"x-router-cache": "off"}, enabled=True) is None
    assert _plan({**BASE, "cache": False}, enabled=True) is None
    assert _plan({**BASE, "cache": {"enabled": False}}, enabled=True) is None
    asked = _plan({**BASE, "cache": {"ttl": 5}})
    assert asked is not None and asked.ttl == 5.0


def test_temperature_above_zero_needs_the_caller_to_ask() -> None:
    assert _plan({**BASE, "temperature": 0.7}, enabled=True) is None
    assert _plan({**BASE, "temperature": 0}, enabled=True) is not None
    assert _plan({**BASE, "temperature": 0.7}, {"x-router-cache": "on"}) is not None
    assert _plan({**BASE, "temperature": 0.7, "cache": {}}, enabled=True) is not None


def test_cache_control_directives() -> None:
    no_cache = _plan(BASE, {"cache-control": "no-cache"}, enabled=True)
    assert no_cache is not None and (no_cache.read, no_cache.write) == (False, True)
    no_store = _plan(BASE, {"cache-control": "max-age=0, no-store"}, enabled=True)
    assert no_store is not None and (no_store.read, no_store.write) == (True, False)
    assert _plan(BASE, {"cache-control": "no-cache, no-store"}, enabled=True) is None


@pytest.mark.parametrize(
    ("body", "headers", "param"),
    [
        ({**BASE, "cache": {"ttl": 0}}, {}, "cache.ttl"),
        ({**BASE, "cache": {"ttl": True}}, {}, "cache.ttl"),
        ({**BASE, "cache": {"enabled": "yes"}}, {}, "cache.enabled"),
        ({**BASE, "cache": 3}, {}, "cache"),
        (BASE, {"x-router-cache": "sometimes"}, "x-router-cache"),
    ],
)
def test_bad_instructions_name_the_field(
    body: dict[str, Any], headers: dict[str, str], param: str
) -> None:
    with pytest.raises(InvalidRequest) as caught:
        _plan(body, headers)
    assert caught.value.param == param


def test_memory_store_is_lru_and_honours_ttl() -> None:
    asyncio.run(_lru_and_ttl())


async def _lru_and_ttl() -> None:
    now = [0.0]
    store = MemoryStore(2, clock=lambda: now[0])
    await store.set("a", b"1", ttl=10)
    await store.set("b", b"2", ttl=10)
    assert await store.get("a") == b"1"  # a is now the most recent
    await store.set("c", b"3", ttl=10)  # evicts b, the least recently used
    assert await store.get("b") is None
    assert await store.get("a") == b"1" and await store.get("c") == b"3"
    now[0] = 10.0
    assert await store.get("a") is None and len(store) == 1
