"""Shared fixtures: mock providers on real sockets, a database per backend,
and the router itself served by uvicorn on a real socket.

Every test that needs the router runs once on SQLite and once on PostgreSQL
(`router` is parametrised). PostgreSQL tests create and drop their own
database; without a reachable server they are skipped, unless
REQUIRE_POSTGRES=1, where that is a failure.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from model_router.app import create_app
from model_router.cli import upgrade_database
from model_router.db.engine import make_engine
from model_router.services.catalogue_admin import ModelSpec, add_model, add_provider, sync_catalogue
from model_router.services.keys import create_key
from model_router.settings import Settings
from tests.mocks import openai_mock
from tests.mocks.server import MockState, ServerThread

PG_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
KEYS = {
    "openai": "sk-test-openai-0123456789abcdef",
    "anthropic": "sk-ant-test-0123456789abcdef",
    "gemini": "AIzaTest0123456789abcdef",
    "deepseek": "sk-test-deepseek-0123456789",
    "acme": "sk-test-acme-0123456789",
}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked `postgres` are not collected for the SQLite backend at all."""
    keep, drop = [], []
    for item in items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        sqlite = params.get("database_url") == "sqlite"
        (drop if sqlite and item.get_closest_marker("postgres") else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"


@dataclass
class Mock:
    url: str
    state: MockState


def _serve_mock(app: Any, state: MockState) -> Iterator[Mock]:
    with ServerThread(app) as server:
        yield Mock(server.url, state)


@pytest.fixture(scope="session")
def openai_upstream() -> Iterator[Mock]:
    state = MockState()
    yield from _serve_mock(openai_mock.create_app(state, api_key=KEYS["openai"]), state)


@pytest.fixture(scope="session")
def deepseek_upstream() -> Iterator[Mock]:
    state = MockState()
    app = openai_mock.create_app(state, api_key=KEYS["deepseek"], deepseek=True)
    yield from _serve_mock(app, state)


@pytest.fixture(scope="session")
def acme_upstream() -> Iterator[Mock]:
    """A user-added OpenAI-compatible vendor."""
    state = MockState()
    yield from _serve_mock(openai_mock.create_app(state, api_key=KEYS["acme"]), state)


@pytest.fixture(scope="session")
def anthropic_upstream() -> Iterator[Mock]:
    from tests.mocks import anthropic_mock

    state = MockState()
    yield from _serve_mock(anthropic_mock.create_app(state, api_key=KEYS["anthropic"]), state)


@pytest.fixture(scope="session")
def gemini_upstream() -> Iterator[Mock]:
    from tests.mocks import gemini_mock

    state = MockState()
    yield from _serve_mock(gemini_mock.create_app(state, api_key=KEYS["gemini"]), state)


def postgres_available() -> bool:
    async def probe() -> bool:
        import asyncpg

        try:
            conn = await asyncpg.connect(_asyncpg_dsn(PG_ADMIN_URL), timeout=3)
        except (OSError, asyncpg.PostgresError):
            return False
        await conn.close()
        return True

    return asyncio.run(probe())


def _asyncpg_dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://")


def _pg_admin(sql: str) -> None:
    async def run() -> None:
        import asyncpg

        conn = await asyncpg.connect(_asyncpg_dsn(PG_ADMIN_URL))
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(run())


@contextmanager
def new_database(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A migrated, empty database: SQLite in a temp dir, or a fresh PostgreSQL database
    dropped afterwards."""
    if backend == "sqlite":
        path = tmp_path_factory.mktemp("db") / "router.db"
        url = f"sqlite+aiosqlite:///{path}"
        upgrade_database(url)
        yield url
        return
    if not postgres_available():
        if os.environ.get("REQUIRE_POSTGRES") == "1":
            pytest.fail(
                f"PostgreSQL is required (REQUIRE_POSTGRES=1) but {PG_ADMIN_URL} is unreachable"
            )
        pytest.skip("PostgreSQL is not reachable; set REQUIRE_POSTGRES=1 to make this a failure")
    name = f"mr_test_{uuid.uuid4().hex[:10]}"
    _pg_admin(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
    url = f"{base}/{name}"
    try:
        upgrade_database(url)
        yield url
    finally:
        _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """The session's database, one per backend, shared by the tests that use it."""
    with new_database(request.param, tmp_path_factory) as url:
        yield url


@pytest.fixture(scope="module")
def empty_database_url(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A database of `database_url`'s backend that only the requesting module writes to."""
    backend = "sqlite" if database_url.startswith("sqlite") else "postgres"
    with new_database(backend, tmp_path_factory) as url:
        yield url


@dataclass
class Router:
    """The router on a real socket, with the mocks it talks to."""

    url: str
    database_url: str
    settings: Settings
    openai: Mock
    anthropic: Mock
    gemini: Mock
    deepseek: Mock
    acme: Mock

    def run(self, work: Any) -> Any:
        """Run `work(sessions)` against the router's database, from a test."""

        async def main() -> Any:
            from sqlalchemy.ext.asyncio import async_sessionmaker

            engine = make_engine(self.database_url)
            try:
                return await work(async_sessionmaker(engine, expire_on_commit=False))
            finally:
                await engine.dispose()

        return asyncio.run(main())

    def new_key(self, *, admin: bool = False, name: str = "test") -> str:
        _, key = self.run(lambda s: create_key(s, name, admin=admin))
        return str(key)

    def client(self, key: str | None = None, **kwargs: Any) -> httpx.Client:
        headers = {"authorization": f"Bearer {key}"} if key else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30, **kwargs)


async def _seed(sessions: Any, acme_url: str, openai_url: str) -> None:
    await sync_catalogue(sessions)
    await add_provider(sessions, "acme", base_url=f"{acme_url}/v1", api_key_setting="ACME_API_KEY")
    await add_model(
        sessions,
        ModelSpec(
            provider="acme",
            model_id="acme-large",
            upstream_model="acme/large-v2",
            input_price=Decimal("1.25"),
            output_price=Decimal("5"),
            context_window=32_000,
        ),
    )
    # Azure OpenAI's v1 API: the key goes in an `api-key` header, the model is the deployment.
    await add_provider(
        sessions,
        "azure",
        base_url=f"{openai_url}/v1",
        api_key_setting="AZURE_OPENAI_API_KEY",
        auth_header="api-key",
    )
    await add_model(
        sessions,
        ModelSpec(
            provider="azure",
            model_id="azure-gpt-4o",
            upstream_model="my-gpt-4o",
            input_price=Decimal("2.5"),
            output_price=Decimal("10"),
        ),
    )
    # A provider whose key setting is not set.
    await add_provider(
        sessions, "nokey", base_url=f"{openai_url}/v1", api_key_setting="NOKEY_API_KEY"
    )
    await add_model(sessions, ModelSpec(provider="nokey", model_id="nokey-model"))
    # A model nobody has priced: its calls must never be charged as $0.
    await add_model(sessions, ModelSpec(provider="openai", model_id="mystery-model"))


@pytest.fixture(scope="session")
def router(
    database_url: str,
    openai_upstream: Mock,
    anthropic_upstream: Mock,
    gemini_upstream: Mock,
    deepseek_upstream: Mock,
    acme_upstream: Mock,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Router]:
    os.environ["ACME_API_KEY"] = KEYS["acme"]
    os.environ["AZURE_OPENAI_API_KEY"] = KEYS["openai"]
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=database_url,
        openai_api_key=KEYS["openai"],
        openai_base_url=f"{openai_upstream.url}/v1",
        anthropic_api_key=KEYS["anthropic"],
        anthropic_base_url=anthropic_upstream.url,
        gemini_api_key=KEYS["gemini"],
        gemini_base_url=gemini_upstream.url,
        deepseek_api_key=KEYS["deepseek"],
        deepseek_base_url=deepseek_upstream.url,
        upstream_read_timeout=2.0,
        request_log_flush_interval=0.05,
        key_cache_refresh_seconds=0.5,
        webhook_poll_seconds=0.1,
        webhook_retry_base_seconds=0.1,
        webhook_max_attempts=4,
        # Scenario failures (`mock:error_500`) are the request's, not a provider's:
        # here no retries and no circuit opening; `routed` below tests routing.
        router_max_retries=0,
        router_circuit_failures=1_000_000,
        router_circuit_error_rate=1.0,
        router_circuit_window=1_000_000,
    )
    router = Router(
        url="",
        database_url=database_url,
        settings=settings,
        openai=openai_upstream,
        anthropic=anthropic_upstream,
        gemini=gemini_upstream,
        deepseek=deepseek_upstream,
        acme=acme_upstream,
    )
    router.run(lambda s: _seed(s, acme_upstream.url, openai_upstream.url))
    with ServerThread(create_app(settings), lifespan="on") as server:
        router.url = server.url
        yield router


@pytest.fixture
def admin_key(router: Router) -> str:
    return router.new_key(admin=True, name="admin")


@pytest.fixture
def user_key(router: Router) -> str:
    return router.new_key(name="user")


@pytest.fixture
def api(router: Router, user_key: str) -> Iterator[httpx.Client]:
    """An HTTP client on the router with a fresh normal key."""
    with router.client(user_key) as client:
        yield client


@pytest.fixture
def admin(router: Router, admin_key: str) -> Iterator[httpx.Client]:
    with router.client(admin_key) as client:
        yield client


# --- routing (issue 5): deployments on two scriptable mock instances ---------------

ROUTING_YAML = """\
default_model: gpt-4o
models:
  pair:                      # one model, two deployments, equal weights
    deployments:
      - {{name: pair-a, provider: openai, model: gpt-4o-mini, base_url: "{a}/v1"}}
      - {{name: pair-b, provider: openai, model: gpt-4o-mini, base_url: "{b}/v1"}}
  solo:                      # one deployment on A and no fallback: retries are countable
    deployments:
      - {{name: solo-a, provider: openai, model: gpt-4o-mini, base_url: "{a}/v1"}}
  chain:                     # falls back to `backup` (on B)
    fallbacks: [backup]
    deployments:
      - {{name: chain-a, provider: openai, model: gpt-4o-mini, base_url: "{a}/v1"}}
  backup:
    deployments:
      - {{name: backup-b, provider: openai, model: gpt-4o-mini, base_url: "{b}/v1"}}
  circuit:                   # its own deployment on A, so its circuit is its own
    fallbacks: [backup]
    deployments:
      - {{name: circuit-a, provider: openai, model: gpt-4o-mini, base_url: "{a}/v1"}}
  tiny:                      # a 32k window: long requests fall back to `backup`
    fallbacks: [backup]
    deployments:
      - {{name: tiny-acme, provider: acme, model: acme-large}}
  duo:                       # a primary on A and a light backup on B: A goes first
    deployments:
      - {{name: duo-a, provider: openai, model: gpt-4o-mini, base_url: "{a}/v1", weight: 1000000}}
      - {{name: duo-b, provider: openai, model: gpt-4o-mini, base_url: "{b}/v1", weight: 1}}
  capped:                    # one request a minute
    deployments:
      - {{name: capped-a, provider: openai, model: gpt-4o-mini, base_url: "{a}/v1", rpm: 1}}
"""


@pytest.fixture(scope="session")
def mock_a() -> Iterator[Mock]:
    state = MockState()
    yield from _serve_mock(openai_mock.create_app(state, api_key=KEYS["openai"]), state)


@pytest.fixture(scope="session")
def mock_b() -> Iterator[Mock]:
    state = MockState()
    yield from _serve_mock(openai_mock.create_app(state, api_key=KEYS["openai"]), state)


@dataclass
class Routed:
    """A second router on the same database, with a routing file over mocks A and B."""

    base: Router
    url: str
    a: Mock
    b: Mock
    settings: Settings
    app: Any = None

    def reset(self) -> None:
        """Between tests: mocks cleared, every deployment's circuit and history forgotten."""
        for mock in (self.a, self.b):
            mock.state.clear()
        self.app.api.state.router.completions.router.reset_health()

    def client(self, key: str | None = None) -> httpx.Client:
        headers = {"authorization": f"Bearer {key}"} if key else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30)


def _routed_server(
    router: Router, mock_a: Mock, mock_b: Mock, folder: Path, **overrides: Any
) -> Iterator[Routed]:
    path = folder / "routing.yaml"
    path.write_text(ROUTING_YAML.format(a=mock_a.url, b=mock_b.url))
    settings = router.settings.model_copy(
        update={
            "router_config": path,
            "router_max_retries": 2,
            "router_backoff_base": 0.01,
            "router_backoff_max": 0.05,
            "router_retry_after_max": 1.8,
            "router_deadline": 2.0,
            "router_attempt_timeout": 0.4,
            "router_circuit_failures": 3,
            "router_circuit_error_rate": 0.5,
            "router_circuit_window": 20,
            "router_circuit_cooldown": 0.5,
            "upstream_read_timeout": 0.5,
            **overrides,
        }
    )
    app = create_app(settings)
    with ServerThread(app, lifespan="on") as server:
        yield Routed(router, server.url, mock_a, mock_b, settings, app)


@pytest.fixture(scope="session")
def routed_server(
    router: Router, mock_a: Mock, mock_b: Mock, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Routed]:
    yield from _routed_server(router, mock_a, mock_b, tmp_path_factory.mktemp("routing"))


@pytest.fixture(scope="session")
def held_open_server(
    router: Router, mock_a: Mock, mock_b: Mock, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Routed]:
    yield from _routed_server(
        router,
        mock_a,
        mock_b,
        tmp_path_factory.mktemp("routing-held-open"),
        router_circuit_cooldown=600.0,
    )


@pytest.fixture
def held_open(held_open_server: Routed) -> Iterator[Routed]:
    """The routing router with a 10-minute circuit cooldown, fresh for each test:
    a circuit that opens stays open (no probe) unless a call closes it."""
    held_open_server.reset()
    yield held_open_server
    held_open_server.reset()


@pytest.fixture
def routed(routed_server: Routed) -> Iterator[Routed]:
    """The routing router, fresh for each test: mocks cleared, no health history."""
    routed_server.reset()
    yield routed_server
    routed_server.reset()
