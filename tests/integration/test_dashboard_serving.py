"""The dashboard bundle: served at /dashboard by the router, and never stale.

The bundle in `model_router/dashboard_dist` is committed, so a Python-only
user gets the UI without Node. `make dashboard` rebuilds it and records the
SHA-256 of the sources it was built from (dashboard/scripts/source-hash.mjs) in
build-info.json; the last test recomputes that hash and fails when the sources
changed since the bundle was built.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from model_router.api.routes.dashboard import DIST
from tests.conftest import Router
from tests.helpers import assert_error

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT / "dashboard"
# Keep in step with CONFIG_FILES in dashboard/scripts/source-hash.mjs.
CONFIG_FILES = [
    "index.html",
    "package.json",
    "package-lock.json",
    "tsconfig.json",
    "vite.config.ts",
]


@pytest.fixture
def web(router: Router) -> Iterator[httpx.Client]:
    """A browser's view: no key, redirects not followed."""
    with router.client() as client:
        yield client


def _assets(index_html: str) -> list[str]:
    return re.findall(r'(?:src|href)="(/dashboard/assets/[^"]+)"', index_html)


def test_root_redirects_to_the_dashboard(web: httpx.Client) -> None:
    response = web.get("/")
    assert response.status_code == 307
    assert response.headers["location"] == "/dashboard/"


@pytest.mark.parametrize("path", ["/dashboard", "/dashboard/"])
def test_the_dashboard_page_needs_no_key(web: httpx.Client, path: str) -> None:
    response = web.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert '<div id="root">' in response.text
    assert response.headers["cache-control"] == "no-cache"  # a rebuilt bundle is picked up
    csp = response.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert response.headers["x-content-type-options"] == "nosniff"


def test_the_bundles_scripts_and_styles_are_served(web: httpx.Client) -> None:
    assets = _assets(web.get("/dashboard/").text)
    assert any(a.endswith(".js") for a in assets) and any(a.endswith(".css") for a in assets)
    for asset in assets:
        response = web.get(asset)
        assert response.status_code == 200, asset
        kind = "javascript" if asset.endswith(".js") else "css"
        assert kind in response.headers["content-type"]
        assert "immutable" in response.headers["cache-control"]
        assert response.content == (DIST / asset.removeprefix("/dashboard/")).read_bytes()


@pytest.mark.parametrize(
    "path", ["/dashboard/requests", "/dashboard/requests/0b0e4c35-1f8e", "/dashboard/keys/"]
)
def test_the_uis_own_routes_answer_the_page(web: httpx.Client, path: str) -> None:
    """A reload or a shared link of /dashboard/requests/ID opens the app."""
    response = web.get(path)
    assert response.status_code == 200
    assert response.text == web.get("/dashboard/").text


def test_a_missing_asset_is_404_not_the_page(web: httpx.Client) -> None:
    assert_error(web.get("/dashboard/assets/index-missing.js"), 404)


@pytest.mark.parametrize(
    "path",
    [
        "/dashboard/..%2f..%2f..%2fpyproject.toml",
        "/dashboard/%2e%2e/%2e%2e/%2e%2e/pyproject.toml",
        "/dashboard/assets/..%2f..%2fapi%2froutes%2fdashboard.py",
        "/dashboard/%00",
    ],
)
def test_nothing_outside_the_bundle_is_served(web: httpx.Client, path: str) -> None:
    response = web.get(path)
    assert "[project]" not in response.text and "APIRouter" not in response.text
    assert response.status_code in (200, 404)
    if response.status_code == 200:
        assert '<div id="root">' in response.text


def _source_hash() -> str:
    """What dashboard/scripts/source-hash.mjs computes: sorted paths, path NUL bytes NUL."""
    files = [SOURCE / name for name in CONFIG_FILES]
    files += [p for p in (SOURCE / "src").rglob("*") if p.is_file()]
    digest = hashlib.sha256()
    for path in sorted(p.relative_to(SOURCE).as_posix() for p in files):
        digest.update(path.encode() + b"\0")
        digest.update((SOURCE / path).read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()


def test_the_committed_bundle_is_built_from_the_current_sources() -> None:
    info = json.loads((DIST / "build-info.json").read_text())
    assert info["source_sha256"] == _source_hash(), (
        "src/model_router/dashboard_dist is older than dashboard/: run `make dashboard`"
    )
    index = (DIST / "index.html").read_text()
    for asset in _assets(index):
        assert (DIST / asset.removeprefix("/dashboard/")).is_file(), asset
