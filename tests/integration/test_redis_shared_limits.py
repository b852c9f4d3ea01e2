"""Two real router processes sharing the real Redis enforce one rate limit and
one budget; a Redis that goes away is handled by the documented failure mode
and the router recovers by itself when it returns."""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
import redis

from model_router.app import create_app
from tests.conftest import Router
from tests.governance import fresh_minute, logged_cost, make_key, rows_of, settled
from tests.helpers import assert_error, chat
from tests.integration._serve import router_env, serve
from tests.mocks.server import ServerThread, free_port

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@dataclass
class Shared:
    urls: list[str]
    prefix: str


@pytest.fixture
def shared_routers(router: Router, tmp_path: Path) -> Iterator[Shared]:
    """Two `model-router serve` processes on the test database, one Redis prefix."""
    prefix = f"mrtest:{uuid.uuid4().hex[:12]}:"
    env = router_env(
        tmp_path,
        f"{router.openai.url}/v1",
        DATABASE_URL=router.database_url,
        REDIS_URL=REDIS_URL,
        REDIS_KEY_PREFIX=prefix,
        KEY_CACHE_REFRESH_SECONDS="0.5",
        REQUEST_LOG_FLUSH_INTERVAL="0.05",
        LOG_LEVEL="warning",
    )
    try:
        with serve(env) as a, serve(env) as b:
            yield Shared([a.url, b.url], prefix)
    finally:
        client = redis.Redis.from_url(REDIS_URL)
        stale = list(client.scan_iter(match=f"{prefix}*"))
        if stale:
            client.delete(*stale)
        client.close()


def _post(url: str, key: str, text: str = "shared") -> httpx.Response:
    with httpx.Client(base_url=url, headers={"authorization": f"Bearer {key}"}) as client:
        return chat(client, text, max_tokens=5)


def test_two_processes_enforce_one_rpm_limit(shared_routers: Shared, admin: httpx.Client) -> None:
    created = make_key(admin, rpm_limit=4)
    fresh_minute()
    answers = [_post(shared_routers.urls[i % 2], created["key"]) for i in range(10)]
    assert [a.status_code for a in answers] == [200] * 4 + [429] * 6
    assert [a.headers["x-ratelimit-remaining-requests"] for a in answers[:4]] == [
        "3",
        "2",
        "1",
        "0",
    ]
    assert assert_error(answers[5], 429)["code"] == "rate_limit_exceeded"


def test_two_processes_enforce_one_budget(
    shared_routers: Shared, router: Router, admin: httpx.Client
) -> None:
    budget = Decimal("0.00005")
    created = make_key(admin, budget_usd=str(budget), budget_period="total")
    key = created["key"]

    async def fire() -> list[httpx.Response]:
        headers = {"authorization": f"Bearer {key}"}
        body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "b"}]}
        body["max_tokens"] = 5
        async with (
            httpx.AsyncClient(base_url=shared_routers.urls[0], headers=headers) as one,
            httpx.AsyncClient(base_url=shared_routers.urls[1], headers=headers) as two,
        ):
            calls = [
                (one if i % 2 else two).post("/v1/chat/completions", json=body) for i in range(40)
            ]
            return list(await asyncio.gather(*calls))

    answers = asyncio.run(fire())
    ok = [a for a in answers if a.status_code == 200]
    assert ok and len(ok) < 40
    assert all(assert_error(a, 429)["code"] == "budget_exceeded" for a in answers if a not in ok)
    rows_of(router, created["id"], 40, timeout=20)
    total = logged_cost(router, created["id"])
    assert total <= budget
    # Each process reports the one shared spend, equal to the rows' costs.
    for url in shared_routers.urls:
        with httpx.Client(base_url=url, headers=dict(admin.headers)) as other_admin:
            state = settled(other_admin, created["id"])
            assert Decimal(state["spend_usd"]) == total
            assert state["reserved_usd"] == "0"


@dataclass
class OwnRedis:
    port: int
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        server = shutil.which("redis-server")
        assert server, "redis-server is needed for this test"
        self.process = subprocess.Popen(
            [server, "--port", str(self.port), "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while True:
            try:
                redis.Redis(port=self.port).ping()
                return
            except redis.ConnectionError:
                assert time.monotonic() < deadline, "redis-server did not start"
                time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None


@pytest.fixture
def own_redis() -> Iterator[OwnRedis]:
    server = OwnRedis(free_port())
    try:
        yield server
    finally:
        server.stop()


def _until(check: object, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():  # type: ignore[operator]
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.1)


def test_redis_down_fails_open_then_enforces_again(
    router: Router, admin: httpx.Client, own_redis: OwnRedis, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="model_router.governance.governor")
    own_redis.start()
    settings = router.settings.model_copy(
        update={"redis_url": own_redis.url, "redis_retry_seconds": 0.2}
    )
    created = make_key(admin, rpm_limit=2)
    with ServerThread(create_app(settings), lifespan="on") as server:
        fresh_minute(margin=20)
        key = created["key"]
        assert [_post(server.url, key).status_code for _ in range(3)] == [200, 200, 429]
        own_redis.stop()
        # Fail open: served without limits (and without rate headers) while Redis is away.
        down = [_post(server.url, key) for _ in range(4)]
        assert [a.status_code for a in down] == [200] * 4
        assert "x-ratelimit-limit-requests" not in down[-1].headers
        assert any("Redis unreachable" in r.getMessage() for r in caplog.records)
        own_redis.start()
        _until(lambda: _post(server.url, key).status_code == 429)
        assert any("answers again" in r.getMessage() for r in caplog.records)


def test_redis_down_fails_closed_when_configured(
    router: Router, admin: httpx.Client, own_redis: OwnRedis
) -> None:
    settings = router.settings.model_copy(
        update={
            "redis_url": own_redis.url,
            "redis_retry_seconds": 0.2,
            "redis_failure_mode": "closed",
        }
    )
    created = make_key(admin, rpm_limit=100)
    plain = make_key(admin)
    with ServerThread(create_app(settings), lifespan="on") as server:
        refused = _post(server.url, created["key"])
        error = assert_error(refused, 503)
        assert error["code"] == "governance_unavailable"
        assert "retry-after" in refused.headers
        # A key with no limits does not need Redis.
        assert _post(server.url, plain["key"]).status_code == 200
        own_redis.start()
        _until(lambda: _post(server.url, created["key"]).status_code == 200)
