"""Property-based fuzzing of every endpoint in the router's own OpenAPI schema
(`/openapi.json`, so endpoints added later are covered too), with an admin key
and with a normal key: no 5xx, every error in its API's shape (Anthropic's on
`/v1/messages`, OpenAI's elsewhere), and responses
that match the schema.

The fuzzing runs against a router of its own on a fresh database, so what it
creates, changes or revokes cannot disturb other tests.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error, response_schema_conformance
from schemathesis.core.failures import FailureGroup

from model_router.cli import upgrade_database
from model_router.db.engine import make_engine
from model_router.services.catalogue_admin import sync_catalogue
from model_router.services.keys import create_key
from tests.conftest import PG_ADMIN_URL, Router, _pg_admin
from tests.faultkit import own_router

EXAMPLES = 12  # per operation and key: the whole module stays well under a minute


@pytest.fixture
def fresh_database(database_url: str, tmp_path: Path) -> Iterator[str]:
    if database_url.startswith("sqlite"):
        url = f"sqlite+aiosqlite:///{tmp_path / 'fuzz.db'}"
        upgrade_database(url)
        yield url
        return
    name = f"mr_fuzz_{uuid.uuid4().hex[:10]}"
    _pg_admin(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
    try:
        upgrade_database(f"{base}/{name}")
        yield f"{base}/{name}"
    finally:
        _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _seed(url: str) -> tuple[str, str]:
    async def run() -> tuple[str, str]:
        from sqlalchemy.ext.asyncio import async_sessionmaker

        engine = make_engine(url)
        try:
            sessions = async_sessionmaker(engine, expire_on_commit=False)
            await sync_catalogue(sessions)
            _, admin = await create_key(sessions, "fuzz admin", admin=True)
            _, user = await create_key(sessions, "fuzz user")
            return str(admin), str(user)
        finally:
            await engine.dispose()

    return asyncio.run(run())


def _error_shape(response: Any, path: str) -> str | None:
    """None if the response is a success or an error in its API's shape:
    Anthropic's on the Messages API, OpenAI's everywhere else."""
    if response.status_code < 400:
        return None
    try:
        body = response.json()
    except ValueError:
        return f"{response.status_code} with a body that is not JSON: {response.text[:200]!r}"
    if path.startswith("/v1/messages"):
        return _anthropic_error_shape(response.status_code, body)
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict) or set(error) != {"message", "type", "param", "code"}:
        return f"{response.status_code} not in OpenAI's error shape: {str(body)[:300]}"
    if not isinstance(error["message"], str) or not error["message"]:
        return f"{response.status_code} with an empty message: {body}"
    return None


def _anthropic_error_shape(status: int, body: Any) -> str | None:
    error = body.get("error") if isinstance(body, dict) else None
    if body.get("type") != "error" or not isinstance(error, dict):
        return f"{status} not in Anthropic's error shape: {str(body)[:300]}"
    if not isinstance(error.get("type"), str) or not error.get("message"):
        return f"{status} without an error type and message: {body}"
    return None


def test_fuzzing_every_endpoint_finds_no_5xx_and_only_openai_errors(
    router: Router, fresh_database: str
) -> None:
    admin_key, user_key = _seed(fresh_database)
    failures: list[str] = []
    with own_router(router.settings, database_url=fresh_database) as (server, _state):
        schema = schemathesis.openapi.from_url(f"{server.url}/openapi.json")
        operations = [result.ok() for result in schema.get_all_operations()]
        assert len(operations) >= 5, "the schema lists too few operations"
        for who, key in (("normal key", user_key), ("admin key", admin_key)):
            for operation in operations:
                _fuzz(operation, server.url, key, f"{who} {operation.label}", failures)
    assert not failures, "\n".join(failures[:40])


def _fuzz(operation: Any, url: str, key: str, label: str, failures: list[str]) -> None:
    headers = {"authorization": f"Bearer {key}"}
    seen: set[str] = set()

    @given(case=operation.as_strategy())
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def fuzz(case: Any) -> None:
        response = case.call(base_url=url, headers=headers, timeout=15)
        problems = []
        if shape := _error_shape(response, operation.path):
            problems.append(shape)
        try:
            case.validate_response(
                response, checks=[not_a_server_error, response_schema_conformance]
            )
        except FailureGroup as group:
            problems.extend(
                str(failure).strip().splitlines()[0][:200] for failure in group.exceptions
            )
        for problem in problems:
            if problem not in seen:
                seen.add(problem)
                body = str(case.body)[:200] if case.body is not None else ""
                failures.append(
                    f"{label} {case.path_parameters or ''} {case.query or ''} {body}: {problem}"
                )

    fuzz()
