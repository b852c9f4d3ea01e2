"""The deployment files: the compose file resolves, and what it sets is what the router reads."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import yaml

from model_router.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"


def _compose_cli() -> list[str]:
    """`docker compose` (v2), or the older `docker-compose`."""
    docker = shutil.which("docker")
    if docker:
        probe = subprocess.run([docker, "compose", "version"], capture_output=True, timeout=30)
        if probe.returncode == 0:
            return [docker, "compose"]
    legacy = shutil.which("docker-compose")
    assert legacy, (
        "no compose CLI: install the docker compose plugin (docker-compose-plugin) "
        "or docker-compose to validate docker-compose.yml"
    )
    return [legacy]


def _resolved(**env: str) -> dict[str, Any]:
    """`docker compose config`: the file validated against the compose spec and
    resolved (anchors, variables); the client needs no engine for it."""
    done = subprocess.run(
        [*_compose_cli(), "-f", str(COMPOSE), "config"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        env={"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(ROOT), **env},
    )
    assert done.returncode == 0, done.stderr
    config: dict[str, Any] = yaml.safe_load(done.stdout)
    return config


def test_docker_compose_config_resolves_router_postgres_and_redis() -> None:
    config = _resolved(POSTGRES_PASSWORD="pw-from-env")
    services = config["services"]
    assert {"router", "postgres", "redis", "migrate"} <= set(services)
    ports = services["postgres"]["ports"]
    assert [(str(p["published"]), p["target"]) for p in ports] == [("5433", 5432)]
    assert [p["target"] for p in services["router"]["ports"]] == [8001]
    router_env = services["router"]["environment"]
    assert router_env["DATABASE_URL"] == (
        "postgresql://router:pw-from-env@postgres:5432/model_router"
    )
    assert router_env["REDIS_URL"] == "redis://redis:6379/0"
    assert services["router"]["depends_on"]["migrate"]["condition"] == (
        "service_completed_successfully"
    )
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"


def test_every_variable_the_compose_file_sets_for_the_router_is_a_setting() -> None:
    compose = yaml.safe_load(COMPOSE.read_text())
    fields = set(Settings.model_fields)
    for name in ("router", "migrate"):
        environment = compose["services"][name]["environment"]
        unknown = [k for k in environment if k.lower() not in fields]
        assert not unknown, f"{name} sets variables the router does not read: {unknown}"


def test_the_image_runs_as_an_unprivileged_user_and_checks_readiness() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    stages = re.findall(r"^FROM (\S+)", dockerfile, re.MULTILINE)
    assert stages and all(s.endswith("-slim") or "uv" in s for s in stages[:1] + stages[-1:])
    users = re.findall(r"^USER (\S+)", dockerfile, re.MULTILINE)
    assert users and users[-1] not in ("root", "0")
    assert "/ready" in dockerfile.split("HEALTHCHECK", 1)[1]
    assert re.search(r'^CMD \["model-router", "serve"\]', dockerfile, re.MULTILINE)
    # The build copies only what .dockerignore lets in; nothing local or secret.
    lines = (ROOT / ".dockerignore").read_text().splitlines()
    ignored = {line.strip() for line in lines if line.strip() and not line.startswith("#")}
    assert {".git", ".venv", ".env", "data", "tests"} <= ignored
    for source in re.findall(r"^COPY (?!--from)(.+) \S+$", dockerfile, re.MULTILINE):
        for path in source.split():
            assert (ROOT / path).exists(), f"the Dockerfile copies {path}, which does not exist"
            assert path not in ignored
