"""kill -9 a real `model-router serve` under load: the restart loses at most the
documented window of request-log rows (those accepted in the last flush
interval, plus a batch being written), and the database is intact.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from sqlalchemy import select, text

from model_router.db.models import Request
from tests.conftest import KEYS, Router
from tests.faultkit import key_id, wait_for_rows
from tests.mocks.server import free_port

FLUSH_INTERVAL = 0.2
# The window: rows answered in the last flush interval, plus a batch in flight;
# 1 s bounds both on this machine (a write of one batch takes milliseconds).
WINDOW_SECONDS = 1.0


@contextmanager
def serve(
    router: Router, spill: Path, workdir: Path, database_url: str | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url or router.database_url,
        "PORT": str(port),
        "LOG_LEVEL": "warning",
        "OPENAI_API_KEY": KEYS["openai"],
        "OPENAI_BASE_URL": f"{router.openai.url}/v1",
        "REQUEST_LOG_FLUSH_INTERVAL": str(FLUSH_INTERVAL),
        "REQUEST_LOG_SPILL_DIR": str(spill),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "model_router", "serve"],
        env=env,
        cwd=workdir,  # no .env from the checkout
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    process.url = f"http://127.0.0.1:{port}"  # type: ignore[attr-defined]
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{process.url}/health", timeout=1).status_code == 200:  # type: ignore[attr-defined]
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None, "model-router serve exited"
            assert time.monotonic() < deadline, "model-router serve did not start"
            time.sleep(0.1)
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=30)


def _load(url: str, key: str, answered: list[tuple[float, str]], stop: threading.Event) -> None:
    headers = {"authorization": f"Bearer {key}"}
    body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "crash test"}]}
    with httpx.Client(base_url=url, headers=headers, timeout=10) as client:
        while not stop.is_set():
            try:
                response = client.post("/v1/chat/completions", json=body)
            except httpx.TransportError:
                return  # the server is gone
            if response.status_code == 200:
                answered.append((time.monotonic(), response.json()["id"]))


def _ids_in_database(router: Router, user: uuid.UUID) -> set[str]:
    async def run(sessions: object) -> set[str]:
        async with sessions() as session:  # type: ignore[operator]
            ids = await session.scalars(select(Request.id).where(Request.user_id == user))
            return {str(i) for i in ids}

    return set(router.run(run))


def _integrity(router: Router) -> str:
    async def run(sessions: object) -> str:
        async with sessions() as session:  # type: ignore[operator]
            if router.database_url.startswith("sqlite"):
                return str((await session.execute(text("PRAGMA integrity_check"))).scalar())
            await session.execute(text("SELECT count(*) FROM requests"))
            return "ok"

    return str(router.run(run))


def test_kill_9_under_load_loses_at_most_the_window_and_corrupts_nothing(
    router: Router, tmp_path: Path
) -> None:
    key = router.new_key(name="crash")
    user = key_id(router, key)
    spill = tmp_path / "spill"
    answered: list[tuple[float, str]] = []
    stop = threading.Event()
    with serve(router, spill, tmp_path) as process:
        threads = [
            threading.Thread(target=_load, args=(process.url, key, answered, stop))  # type: ignore[attr-defined]
            for _ in range(8)
        ]
        for thread in threads:
            thread.start()
        time.sleep(3)
        process.send_signal(signal.SIGKILL)
        killed_at = time.monotonic()
        process.wait(timeout=10)
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
    assert len(answered) > 50, "no load reached the router"
    # Restart: the new process adopts whatever the dead one spilled.
    with serve(router, spill, tmp_path):
        wait_for_rows(router.database_url, user, len(answered), timeout=5)
    stored = _ids_in_database(router, user)
    lost = [(t, i) for t, i in answered if i not in stored]
    recent = [i for t, i in answered if t >= killed_at - WINDOW_SECONDS]
    assert len(lost) <= len(recent), f"{len(lost)} rows lost, window holds {len(recent)}"
    assert all(t >= killed_at - WINDOW_SECONDS for t, _ in lost), "an old row was lost"
    assert _integrity(router) == "ok"


def test_kill_9_while_the_database_is_away_keeps_every_spilled_row(
    router: Router, tmp_path: Path
) -> None:
    """Rows spilled during an outage are on disk: a kill -9 cannot take them,
    and the next process writes them once the database is back."""
    from tests.integration.test_db_outage import database_fault

    key = router.new_key(name="crash-outage")
    user = key_id(router, key)
    spill = tmp_path / "spill"
    headers = {"authorization": f"Bearer {key}"}
    body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "outage"}]}
    with database_fault(router.database_url) as (url, switch):
        with serve(router, spill, tmp_path, url) as process:
            switch.cut()  # type: ignore[attr-defined]
            with httpx.Client(base_url=process.url, headers=headers, timeout=10) as client:  # type: ignore[attr-defined]
                for _ in range(100):
                    assert client.post("/v1/chat/completions", json=body).status_code == 200
            deadline = time.monotonic() + 10
            while not list(spill.rglob("*.jsonl")) and time.monotonic() < deadline:
                time.sleep(0.1)
            time.sleep(2 * FLUSH_INTERVAL + 0.5)  # past the window: every row is on disk
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=10)
        switch.restore()  # type: ignore[attr-defined]
        with serve(router, spill, tmp_path, url):
            assert wait_for_rows(router.database_url, user, 100, timeout=30) == 100
    assert _integrity(router) == "ok"
