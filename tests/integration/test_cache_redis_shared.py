"""The Redis cache backend shared by two real router processes.

Both `model-router serve` processes use the test database, the OpenAI mock
and one Redis, under a key prefix of this test's own.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import redis

from tests.conftest import Router
from tests.helpers import request_detail, sse_lines
from tests.integration._serve import router_env, serve
from tests.integration.cache_app import chat_calls

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture
def prefix() -> Iterator[str]:
    value = f"mr-test-{uuid.uuid4().hex[:12]}:"
    yield value
    client = redis.Redis.from_url(REDIS_URL)
    try:
        keys = list(client.scan_iter(match=f"{value}*"))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


@pytest.fixture
def two_routers(router: Router, prefix: str, tmp_path: Path) -> Iterator[tuple[str, str]]:
    env = router_env(
        tmp_path,
        f"{router.openai.url}/v1",
        DATABASE_URL=router.database_url,
        REDIS_URL=REDIS_URL,
        REDIS_KEY_PREFIX=prefix,
        CACHE_ENABLED="true",
        REQUEST_LOG_FLUSH_INTERVAL="0.05",
    )
    with serve(env) as a, serve(env) as b:
        yield a.url, b.url


def _wait_for_keys(prefix: str, count: int) -> list[bytes]:
    client = redis.Redis.from_url(REDIS_URL)
    try:
        deadline = time.monotonic() + 5
        while True:
            keys = list(client.scan_iter(match=f"{prefix}cache:*"))
            if len(keys) >= count or time.monotonic() > deadline:
                return keys
            time.sleep(0.02)
    finally:
        client.close()


def test_an_answer_cached_by_one_process_is_served_by_the_other(
    router: Router, two_routers: tuple[str, str], prefix: str
) -> None:
    a, b = two_routers
    key = router.new_key()
    headers = {"authorization": f"Bearer {key}"}
    prompt = f"shared {uuid.uuid4()}"
    body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": prompt}]}
    with httpx.Client(base_url=a, headers=headers, timeout=30) as first:
        original = first.post("/v1/chat/completions", json=body)
        assert original.status_code == 200, original.text
        assert original.headers["x-router-cache"] == "miss"
    (stored,) = _wait_for_keys(prefix, 1)
    client = redis.Redis.from_url(REDIS_URL)
    try:
        assert 0 < client.pttl(stored) <= 3600 * 1000  # CACHE_TTL's default
    finally:
        client.close()

    before = chat_calls(router.openai.state.requests)
    with httpx.Client(base_url=b, headers=headers, timeout=30) as second:
        hit = second.post("/v1/chat/completions", json=body)
        assert hit.headers["x-router-cache"] == "hit"
        assert hit.json()["content"] == original.json()["content"] == f"Echo: {prompt}"
        with second.stream("POST", "/v1/chat/completions", json={**body, "stream": True}) as s:
            assert s.headers["x-router-cache"] == "hit"
            frames = sse_lines(s)
        assert frames[-1] == "[DONE]" and prompt in "".join(frames)
        row = request_detail(second, hit.json()["id"])
        assert row["cache_status"] == "hit" and float(row["saved_cost_usd"]) == 0.0000045
    assert chat_calls(router.openai.state.requests) == before

    with httpx.Client(
        base_url=b, headers={"authorization": f"Bearer {router.new_key()}"}, timeout=30
    ) as stranger:
        assert stranger.post("/v1/chat/completions", json=body).headers["x-router-cache"] == "miss"
