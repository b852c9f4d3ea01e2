"""Start-up time and a worker's memory (issue 4): the packages of features that
are off by default are imported only by the code that turns them on."""

from __future__ import annotations

import subprocess
import sys

# Each is loaded only when its feature is configured.
OPTIONAL = {
    "aiohttp": "nothing: the router's HTTP client is providers/transport.py",
    "yaml": "the routing file (ROUTER_CONFIG)",
    "opentelemetry.sdk": "tracing (OTEL_EXPORTER_OTLP_ENDPOINT)",
    "opentelemetry.exporter": "tracing (OTEL_EXPORTER_OTLP_ENDPOINT)",
    "redis": "Redis (REDIS_URL)",
    "alembic": "migrations (`model-router db upgrade`, `bootstrap`)",
    "genai_prices": "the price source (`bootstrap`, `models sync`)",
    "sqlalchemy.dialects.postgresql": "a PostgreSQL DATABASE_URL",
}


def loaded_after(*modules: str, among: list[str]) -> set[str]:
    """Which of `among` a fresh interpreter holds after importing `modules`."""
    probe = f"import sys, {', '.join(modules)}\nprint(*[m for m in {among!r} if m in sys.modules])"
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout
    return set(out.split())


def test_a_worker_does_not_import_what_the_default_configuration_leaves_off() -> None:
    loaded = loaded_after("model_router.app", among=sorted(OPTIONAL))
    assert not loaded, {name: OPTIONAL[name] for name in loaded}


def test_serve_with_several_workers_starts_them_without_the_database_layer() -> None:
    # What `model-router serve` imports before uvicorn spawns the workers.
    supervisor = (
        "model_router.cli",
        "model_router.observability.lifecycle",
        "model_router.observability.logs",
        "uvicorn",
    )
    assert not loaded_after(*supervisor, among=["sqlalchemy", "fastapi", *sorted(OPTIONAL)])
