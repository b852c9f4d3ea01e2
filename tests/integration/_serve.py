"""The real `model-router serve` in a child process, for the operations tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import KEYS
from tests.mocks.server import free_port

CLI = [sys.executable, "-m", "model_router"]


def router_env(tmp_path: Path, openai_url: str, **extra: str) -> dict[str, str]:
    """A clean environment: SQLite in tmp_path, OpenAI at `openai_url` (with /v1)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.endswith("_API_KEY") and not k.startswith(("OTEL_", "PROMETHEUS_"))
    }
    env.update(
        DATABASE_URL=f"sqlite:///{tmp_path / 'router.db'}",
        OPENAI_API_KEY=KEYS["openai"],
        OPENAI_BASE_URL=openai_url,
    )
    env.update(extra)
    return env


def cli(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([*CLI, *args], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


def new_key(env: dict[str, str], *, admin: bool = False) -> str:
    args = ["keys", "create", "--name", "ops", *(["--admin"] if admin else [])]
    return cli(env, *args).strip().splitlines()[-1]


@dataclass
class Served:
    process: subprocess.Popen[str]
    url: str
    log: IO[str]

    def output(self) -> str:
        """Everything the process wrote to stderr so far."""
        self.log.flush()
        self.log.seek(0)
        return self.log.read()

    def wait_healthy(self, timeout: float = 40) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                if httpx.get(f"{self.url}/health").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            assert self.process.poll() is None, f"serve exited early:\n{self.output()}"
            assert time.monotonic() < deadline, f"serve did not start:\n{self.output()}"
            time.sleep(0.1)

    def stop(self, timeout: float = 30) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=timeout)


@contextmanager
def serve(env: dict[str, str], *args: str, healthy: bool = True) -> Iterator[Served]:
    """`model-router serve` on a free port; stderr goes to a temp file."""
    port = free_port()
    with tempfile.TemporaryFile("w+") as log:
        process = subprocess.Popen(
            [*CLI, "serve", "--port", str(port), *args],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=log,
            text=True,
        )
        served = Served(process, f"http://127.0.0.1:{port}", log)
        try:
            if healthy:
                served.wait_healthy()
            yield served
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


Sample = tuple[str, frozenset[tuple[str, str]]]


def scrape(text: str) -> dict[Sample, float]:
    """Prometheus exposition text as {(sample name, labels): value}."""
    out: dict[Sample, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return out


def value(samples: dict[Sample, float], name: str, **labels: str) -> float:
    """The sum of the samples called `name` whose labels include `labels`."""
    wanted = set(labels.items())
    return sum(v for (n, ls), v in samples.items() if n == name and wanted <= ls)
