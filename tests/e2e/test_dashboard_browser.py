"""The dashboard in a real headless Chromium against a real router.

The router runs (uvicorn, real socket) on a database filled by the demo-data
generator, plus a normal key with a few calls of its own through the OpenAI
mock. `dashboard/e2e/run.mjs` then drives Debian's Chromium with
playwright-core: sign in (and a bad key, and the server down), the overview's
numbers against the usage API for several ranges, filters, sorting and paging
of the request log against the requests API, the detail view, the models page
and its calculator, the keys page, the routing page, sign-out, and phone width. Screenshots of
every page land in tests/artifacts/dashboard/<backend>/ (git-ignored).

Needs `node`, `dashboard/node_modules` (`make dashboard-deps`) and
/usr/bin/chromium (`.ci/run` installs it); without them this test fails
saying what is missing.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker

from model_router.app import create_app
from model_router.cli import upgrade_database
from model_router.db.engine import make_engine
from model_router.services.demo_data import generate_demo_data
from model_router.services.keys import create_key
from model_router.settings import Settings
from tests.conftest import KEYS, PG_ADMIN_URL, Mock, _pg_admin, postgres_available
from tests.helpers import chat
from tests.mocks.server import ServerThread

ROOT = Path(__file__).resolve().parents[2]
DASHBOARD = ROOT / "dashboard"
ARTIFACTS = ROOT / "tests" / "artifacts" / "dashboard"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
USER_CALLS = 3
PAGES = [
    "01-sign-in-bad-key",
    "02-sign-in-server-down",
    "03-overview-7d",
    "04-overview-30d",
    "05-overview-custom",
    "06-requests",
    "07-requests-errors",
    "08-request-detail",
    "09-request-detail-error",
    "10-models",
    "12-keys",
    "13-user-overview",
    "14-phone-overview",
    "15-phone-requests",
    "16-phone-models",
    "17-routing",
]


@dataclass
class Served:
    url: str
    admin_key: str
    user_key: str
    backend: str


async def _seed(database_url: str) -> tuple[str, str]:
    engine = make_engine(database_url)
    try:
        sessions = async_sessionmaker(engine, expire_on_commit=False)
        await generate_demo_data(sessions, rows=1_500, days=30, users=5, seed=9)
        _, admin = await create_key(sessions, "dashboard admin", admin=True)
        _, user = await create_key(sessions, "dashboard user")
        return admin, user
    finally:
        await engine.dispose()


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def own_database(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A database of its own (as `database_url` makes them): the demo traffic
    must not reach the shared one other tests count rows in."""
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('dashboard') / 'router.db'}"
        upgrade_database(url)
        yield url
        return
    if not postgres_available():
        if os.environ.get("REQUIRE_POSTGRES") == "1":
            pytest.fail(f"PostgreSQL is required (REQUIRE_POSTGRES=1) but {PG_ADMIN_URL} is down")
        pytest.skip("PostgreSQL is not reachable; set REQUIRE_POSTGRES=1 to make this a failure")
    name = f"mr_dashboard_{uuid.uuid4().hex[:10]}"
    _pg_admin(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
    try:
        upgrade_database(f"{base}/{name}")
        yield f"{base}/{name}"
    finally:
        _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="module")
def served(own_database: str, openai_upstream: Mock) -> Iterator[Served]:
    database_url = own_database
    admin, user = asyncio.run(_seed(database_url))
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=database_url,
        openai_api_key=KEYS["openai"],
        openai_base_url=f"{openai_upstream.url}/v1",
        request_log_flush_interval=0.05,
        key_cache_refresh_seconds=0.5,
    )
    with ServerThread(create_app(settings), lifespan="on") as server:
        headers = {"authorization": f"Bearer {user}"}
        with httpx.Client(base_url=server.url, headers=headers, timeout=30) as client:
            for n in range(USER_CALLS):  # the first is tagged, for the tag filter
                tags = {"metadata": {"team": "browser"}} if n == 0 else {}
                assert chat(client, f"dashboard call {n}", **tags).status_code == 200
        backend = "postgres" if "postgresql" in database_url else "sqlite"
        yield Served(server.url, admin, user, backend)


def _missing_tools() -> list[str]:
    missing = []
    if shutil.which("node") is None:
        missing.append("node (Node.js 20+)")
    if not (DASHBOARD / "node_modules" / "playwright-core").is_dir():
        missing.append("dashboard/node_modules (run `make dashboard-deps`)")
    if not Path(CHROMIUM).is_file():
        missing.append(f"{CHROMIUM} (apt-get install chromium)")
    return missing


def _keys_api(served: Served) -> bool:
    """Whether this router has the admin keys API (the governance feature)."""
    headers = {"authorization": f"Bearer {served.admin_key}"}
    response = httpx.get(f"{served.url}/v1/admin/keys", headers=headers, timeout=10)
    assert response.status_code in (200, 404), response.text
    return response.status_code == 200


def test_the_dashboard_works_in_a_real_browser(served: Served) -> None:
    missing = _missing_tools()
    assert not missing, f"the browser test needs: {', '.join(missing)}"
    # every requests-log row written before the browser compares pages with the API
    headers = {"authorization": f"Bearer {served.user_key}"}
    usage = httpx.get(f"{served.url}/v1/analytics/usage?days=1", headers=headers, timeout=10)
    assert usage.json()["total_requests"] == USER_CALLS
    artifacts = ARTIFACTS / served.backend
    shutil.rmtree(artifacts, ignore_errors=True)
    keys_api = _keys_api(served)
    env = {
        **os.environ,
        "BASE_URL": served.url,
        "ADMIN_KEY": served.admin_key,
        "USER_KEY": served.user_key,
        "ARTIFACTS": str(artifacts),
        "CHROMIUM": CHROMIUM,
        "KEYS_API": "1" if keys_api else "0",
    }
    done = subprocess.run(
        ["node", "e2e/run.mjs"],
        cwd=DASHBOARD,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    report = f"{done.stdout[-6000:]}\n{done.stderr[-4000:]}"
    assert done.returncode == 0, report
    assert "checks passed" in done.stdout, report
    for name in PAGES + (["11-keys-created"] if keys_api else []):
        shot = artifacts / f"{name}.png"
        assert shot.is_file() and shot.stat().st_size > 5_000, f"no screenshot {shot}"
    if keys_api:
        assert "revoking from the page revokes the key" in done.stdout
    else:
        assert "without the keys API the keys page says so" in done.stdout
