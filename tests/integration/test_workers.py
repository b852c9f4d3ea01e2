"""`serve --workers N`: each worker listens on the port itself, the parent only
watches: it replaces a worker that dies and stops them all on SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import httpx

from tests.integration._serve import CLI, Served, cli, router_env, serve
from tests.mocks.server import free_port


def _children(pid: int) -> set[int]:
    return {int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()}


def _listening_inodes(port: int) -> set[str]:
    """Socket inodes listening on `port` (IPv4, loopback included)."""
    inodes = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if int(fields[1].split(":")[1], 16) == port and fields[3] == "0A":
            inodes.add(fields[9])
    return inodes


def _sockets_of(pid: int) -> set[str]:
    out = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            out.add(target[len("socket:[") : -1])
    return out


def _wait_for_workers(served: Served, count: int, timeout: float = 40) -> set[int]:
    """The workers, once `count` of them listen."""
    port = int(served.url.rsplit(":", 1)[1])
    deadline = time.monotonic() + timeout
    while True:
        listening = _listening_inodes(port)
        workers = {w for w in _children(served.process.pid) if _sockets_of(w) & listening}
        if len(workers) == count:
            return workers
        assert served.process.poll() is None, served.output()
        assert time.monotonic() < deadline, f"{len(workers)} of {count} workers listen"
        time.sleep(0.1)


def test_each_worker_listens_on_the_port_and_the_parent_does_not(tmp_path: Path) -> None:
    env = router_env(tmp_path, "http://127.0.0.1:9/v1")
    cli(env, "bootstrap")
    with serve(env, "--workers", "2") as served:
        workers = _wait_for_workers(served, 2)
        port = int(served.url.rsplit(":", 1)[1])
        assert not _sockets_of(served.process.pid) & _listening_inodes(port)
        assert len({frozenset(_sockets_of(w) & _listening_inodes(port)) for w in workers}) == 2
        assert served.stop() == 0
        assert not any(Path(f"/proc/{w}").exists() for w in workers)


def test_a_killed_worker_is_replaced_and_serving_goes_on(tmp_path: Path) -> None:
    env = router_env(tmp_path, "http://127.0.0.1:9/v1")
    cli(env, "bootstrap")
    with serve(env, "--workers", "2") as served:
        before = _wait_for_workers(served, 2)
        victim = min(before)
        os.kill(victim, signal.SIGKILL)
        for _ in range(20):  # new connections: both sockets' worth
            assert httpx.get(f"{served.url}/health").status_code == 200
        deadline = time.monotonic() + 40
        while victim in (after := _wait_for_workers(served, 2)):
            assert time.monotonic() < deadline, "the killed worker was not replaced"
            time.sleep(0.1)
        assert len(after) == 2 and max(before) in after
        assert "starting another" in served.output()


def test_a_second_router_on_the_same_port_is_refused(tmp_path: Path) -> None:
    env = router_env(tmp_path, "http://127.0.0.1:9/v1")
    cli(env, "bootstrap")
    with serve(env, "--workers", "2") as served:
        port = served.url.rsplit(":", 1)[1]
        done = subprocess.run(
            [*CLI, "serve", "--workers", "2", "--port", port],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode != 0
        assert f"cannot listen on 127.0.0.1:{port}" in done.stderr


def test_workers_that_cannot_start_stop_the_command(tmp_path: Path) -> None:
    url = f"postgresql://router@127.0.0.1:{free_port()}/model_router"
    env = router_env(tmp_path, "http://127.0.0.1:9/v1", DATABASE_URL=url, STARTUP_DB_WAIT="1")
    done = subprocess.run(
        [*CLI, "serve", "--workers", "2", "--port", str(free_port())],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 3
    assert "did not answer within 1 s" in done.stderr
    assert "starting another" not in done.stderr
