"""The database goes away under steady load: requests keep being served, no
request-log row is lost, none is written twice.

PostgreSQL: the router reaches the database through a TCP proxy the test
controls; `cut()` resets every connection and refuses new ones (the shared
server itself is never touched). SQLite: a trigger makes the database refuse
every insert into the request log, as a full or failing disk would.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest

from tests.conftest import Router
from tests.faultkit import key_id, own_router, wait_for_rows
from tests.helpers import chat
from tests.mocks.faults import TcpProxy

OUTAGE_SECONDS = 30  # as the issue states it
CLIENTS = 4


class Load:
    """Clients sending chat completions back to back, counting what they got."""

    def __init__(self, url: str, key: str) -> None:
        self.url, self.key = url, key
        self.statuses: Counter[int] = Counter()
        self.sent = 0
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._client) for _ in range(CLIENTS)]

    def _client(self) -> None:
        headers = {"authorization": f"Bearer {self.key}"}
        with httpx.Client(base_url=self.url, headers=headers, timeout=30) as client:
            while not self._stop.is_set():
                stream = self.sent % 3 == 0
                status = chat(client, "keep logging", stream=stream).status_code
                with self._lock:
                    self.sent += 1
                    self.statuses[status] += 1

    def __enter__(self) -> Load:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=60)


@contextmanager
def database_fault(database_url: str) -> Iterator[tuple[str, object]]:
    """(the URL the router should use, a switch with cut() and restore())."""
    if database_url.startswith("sqlite"):
        yield database_url, SqliteRefusesWrites(database_url.split("///", 1)[1])
        return
    parts = urlsplit(database_url)
    with TcpProxy(parts.hostname or "127.0.0.1", parts.port or 5432) as proxy:
        netloc = f"{parts.username}@127.0.0.1:{proxy.port}" if parts.username else ""
        yield urlunsplit(parts._replace(netloc=netloc or f"127.0.0.1:{proxy.port}")), proxy


class SqliteRefusesWrites:
    def __init__(self, path: str) -> None:
        self.path = path

    def _run(self, sql: str) -> None:
        conn = sqlite3.connect(self.path, timeout=30)
        try:
            conn.execute(sql)
            conn.commit()
        finally:
            conn.close()

    def cut(self) -> None:
        self._run(
            "CREATE TRIGGER outage BEFORE INSERT ON requests "
            "BEGIN SELECT RAISE(ABORT, 'disk I/O error (simulated)'); END"
        )

    def restore(self) -> None:
        self._run("DROP TRIGGER outage")


def test_database_outage_under_load_loses_no_row(
    router: Router, database_url: str, tmp_path: Path
) -> None:
    key = router.new_key(name="outage")
    user = key_id(router, key)
    with (
        database_fault(database_url) as (url, switch),
        own_router(
            router.settings,
            database_url=url,
            request_log_spill_dir=tmp_path / "spill",
            request_log_write_timeout=2.0,
        ) as (server, state),
    ):
        log = state.request_log
        with Load(server.url, key) as load:
            time.sleep(1)
            switch.cut()  # type: ignore[attr-defined]
            sent_at_cut = load.sent
            deadline = time.monotonic() + OUTAGE_SECONDS
            spilled_during = 0
            while time.monotonic() < deadline:
                time.sleep(0.25)
                spilled_during = max(spilled_during, log.spilled_pending)
                assert log.depth <= 10_000  # memory stays bounded
            served_during = load.sent - sent_at_cut
            switch.restore()  # type: ignore[attr-defined]
            time.sleep(1)
        sent = load.sent
        assert set(load.statuses) == {200}, load.statuses
        assert served_during > 20, "requests stopped being served while the database was away"
        assert spilled_during > 0, "rows were not spilled to disk during the outage"
        rows = wait_for_rows(router.database_url, user, sent, timeout=30)
        assert rows == sent, f"{sent - rows} of {sent} rows lost"
        # The spill file is cleared after its last batch commits, just after the
        # rows become visible.
        deadline = time.monotonic() + 10
        while log.spilled_pending and time.monotonic() < deadline:
            time.sleep(0.05)
        assert log.spilled_pending == 0
        assert log.spilled > 0 and log.replayed >= log.spilled
    # A clean stop leaves no spill file behind, and no row twice.
    assert not list((tmp_path / "spill").rglob("*.jsonl"))
    assert wait_for_rows(router.database_url, user, sent, timeout=0) == sent
    assert _usage_total(router, key) == sent  # the usage rollup counted each row once


def _usage_total(router: Router, key: str) -> int:
    with router.client(key) as api:
        usage = api.get("/v1/analytics/usage", params={"days": 2})
        assert usage.status_code == 200, usage.text
        return int(usage.json()["total_requests"])


def test_spill_files_of_a_dead_writer_are_adopted_once(
    router: Router, database_url: str, tmp_path: Path
) -> None:
    """Rows a crashed process spilled reach the database when the next one starts;
    a file replayed twice (a crash mid-replay) still writes each row once."""
    key = router.new_key(name="orphan")
    user = key_id(router, key)
    spill = tmp_path / "spill"
    with (
        database_fault(database_url) as (url, switch),
        own_router(router.settings, database_url=url, request_log_spill_dir=spill) as (
            server,
            state,
        ),
    ):
        switch.cut()  # type: ignore[attr-defined]
        with httpx.Client(base_url=server.url, headers={"authorization": f"Bearer {key}"}) as c:
            for _ in range(30):
                assert chat(c, "spill me").status_code == 200
        deadline = time.monotonic() + 10
        while state.request_log.spilled_pending < 30 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert state.request_log.spilled_pending == 30
        # What a kill -9 leaves: the file, unlocked. Copy it twice, as if two
        # writers had spilled the same rows (a replay cut short).
        own = state.request_log.spill_path
        data = own.read_bytes()
        (own.parent / "spill-dead-1.jsonl").write_bytes(data)
        (own.parent / "spill-dead-2.jsonl").write_bytes(data + b'{"id": "cut sho')
        switch.restore()  # type: ignore[attr-defined]
        assert wait_for_rows(router.database_url, user, 30, timeout=30) == 30
        deadline = time.monotonic() + 30
        while list(own.parent.glob("spill-dead-*")) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not list(own.parent.glob("spill-dead-*"))
    assert wait_for_rows(router.database_url, user, 30, timeout=0) == 30
    assert _usage_total(router, key) == 30


@pytest.mark.postgres
def test_unknown_key_while_the_database_is_away_gets_a_503(
    router: Router, database_url: str
) -> None:
    """Known keys are served from memory; a key never seen needs the database."""
    with (
        database_fault(database_url) as (url, switch),
        own_router(router.settings, database_url=url) as (server, _state),
    ):
        switch.cut()  # type: ignore[attr-defined]
        response = httpx.post(
            f"{server.url}/v1/chat/completions",
            headers={"authorization": "Bearer sk-never-seen-before"},
            json={"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]},
            timeout=30,
        )
        switch.restore()  # type: ignore[attr-defined]
    assert response.status_code == 503, response.text
    assert response.json()["error"]["type"] == "service_unavailable"


def _refuse_poison(database_url: str, on: bool) -> None:
    """A trigger that makes the database refuse rows whose prompt holds 'poison-row'."""
    if database_url.startswith("sqlite"):
        sql = (
            "CREATE TRIGGER poison BEFORE INSERT ON requests "
            "WHEN NEW.prompt_text LIKE '%poison-row%' "
            "BEGIN SELECT RAISE(ABORT, 'refused'); END"
            if on
            else "DROP TRIGGER poison"
        )
        SqliteRefusesWrites(database_url.split("///", 1)[1])._run(sql)
        return
    from tests.conftest import _asyncpg_dsn

    statements = (
        [
            "CREATE FUNCTION refuse_poison() RETURNS trigger AS $$ BEGIN "
            "IF NEW.prompt_text LIKE '%poison-row%' THEN RAISE EXCEPTION 'refused'; END IF; "
            "RETURN NEW; END $$ LANGUAGE plpgsql",
            "CREATE TRIGGER poison BEFORE INSERT ON requests "
            "FOR EACH ROW EXECUTE FUNCTION refuse_poison()",
        ]
        if on
        else ["DROP TRIGGER poison ON requests", "DROP FUNCTION refuse_poison()"]
    )

    async def run() -> None:
        import asyncpg

        conn = await asyncpg.connect(_asyncpg_dsn(database_url).replace("+asyncpg", ""))
        try:
            for statement in statements:
                await conn.execute(statement)
        finally:
            await conn.close()

    asyncio.run(run())


def test_a_row_the_database_refuses_is_set_aside_not_blocking_the_log(
    router: Router, database_url: str, tmp_path: Path
) -> None:
    key = router.new_key(name="poison")
    user = key_id(router, key)
    spill = tmp_path / "spill"
    _refuse_poison(router.database_url, on=True)
    try:
        with own_router(router.settings, request_log_spill_dir=spill) as (server, state):
            headers = {"authorization": f"Bearer {key}"}
            with httpx.Client(base_url=server.url, headers=headers, timeout=30) as client:
                assert chat(client, "a poison-row prompt").status_code == 200
                for i in range(20):
                    assert chat(client, f"fine {i}").status_code == 200
            assert wait_for_rows(router.database_url, user, 20, timeout=30) == 20
            deadline = time.monotonic() + 30
            while state.request_log.rejected < 1 and time.monotonic() < deadline:
                time.sleep(0.1)
            assert state.request_log.rejected == 1
            assert state.request_log.database_down is False
    finally:
        _refuse_poison(router.database_url, on=False)
    rejected = list(spill.rglob("*.rejected"))
    assert len(rejected) == 1 and b"poison-row" in rejected[0].read_bytes()
