"""The real `model-router` command: bootstrap, keys, serve, and SIGTERM with no row lost."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import create_async_engine

from model_router.db.models import Request
from tests.conftest import KEYS, Mock
from tests.mocks.server import free_port

CLI = [sys.executable, "-m", "model_router"]


def _env(tmp_path: Path, openai: Mock, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}
    env.update(
        DATABASE_URL=f"sqlite:///{tmp_path / 'router.db'}",
        OPENAI_API_KEY=KEYS["openai"],
        OPENAI_BASE_URL=f"{openai.url}/v1",
        **extra,
    )
    return env


def _cli(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([*CLI, *args], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


def _count_rows(db: Path) -> int:
    async def count() -> int:
        engine = create_async_engine(f"sqlite+aiosqlite:///{db}")
        async with engine.connect() as conn:
            value = (await conn.execute(select(func.count()).select_from(Request))).scalar_one()
        await engine.dispose()
        return int(value)

    return asyncio.run(count())


def test_bootstrap_creates_one_admin_key_and_is_idempotent(
    tmp_path: Path, openai_upstream: Mock
) -> None:
    env = _env(tmp_path, openai_upstream)
    first = _cli(env, "bootstrap")
    assert "admin key was created" in first
    second = _cli(env, "bootstrap")
    assert "admin key was created" not in second
    listing = _cli(env, "keys", "list")
    assert listing.count("True ") >= 1 and len(listing.strip().splitlines()) == 2
    models = _cli(env, "models", "list")
    assert "gpt-4o-mini" in models and "0.15" in models and "0.6" in models


def test_keys_cli_create_prints_the_key_last_and_revoke_works(
    tmp_path: Path, openai_upstream: Mock
) -> None:
    env = _env(tmp_path, openai_upstream)
    _cli(env, "db", "upgrade")
    key = _cli(env, "keys", "create", "--name", "ci").strip().splitlines()[-1]
    assert key.startswith("mr-") and len(key) > 30
    revoked = _cli(env, "keys", "revoke", key[:10])
    assert "revoked" in revoked
    assert "False" in _cli(env, "keys", "list")


def test_sigterm_flushes_every_pending_row(tmp_path: Path, openai_upstream: Mock) -> None:
    port = free_port()
    # A long flush interval, so rows are still pending when the signal arrives.
    env = _env(tmp_path, openai_upstream, REQUEST_LOG_FLUSH_INTERVAL="1.0", PORT=str(port))
    _cli(env, "bootstrap")
    key = _cli(env, "keys", "create", "--name", "load").strip().splitlines()[-1]
    server = subprocess.Popen(
        [*CLI, "serve"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{url}/health").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline and server.poll() is None, "server did not start"
            time.sleep(0.1)
        sent = 40
        with httpx.Client(base_url=url, headers={"authorization": f"Bearer {key}"}) as client:
            for i in range(sent):
                body = {
                    "model": "gpt-4o-mini",
                    "messages": [{"role": "user", "content": f"row {i}"}],
                }
                assert client.post("/v1/chat/completions", json=body).status_code == 200
        server.send_signal(signal.SIGTERM)
        # uvicorn re-raises the signal once it has shut down gracefully
        assert server.wait(timeout=30) in (0, -signal.SIGTERM)
    finally:
        if server.poll() is None:
            server.kill()
    assert _count_rows(tmp_path / "router.db") == sent
