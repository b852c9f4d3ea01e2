"""GET /dashboard: the web UI, a React bundle built into the package.

`make dashboard` builds `dashboard/` (React + TypeScript + Vite) into
`model_router/dashboard_dist`, which ships in the wheel, so a Python-only user
needs no Node. Files of the bundle are served as they are; any other path under
/dashboard answers index.html, so the UI's own routes (/dashboard/requests/ID)
survive a reload. `/` redirects to the dashboard. No key is needed to load the
page: it signs in with an API key and calls the analytics API like any client.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from starlette.responses import FileResponse, RedirectResponse, Response

from model_router.errors import NotFound

DIST = Path(__file__).resolve().parents[2] / "dashboard_dist"
# Hashed file names (assets/index-3f2a1b.js) never change content: cache them for good.
IMMUTABLE = "public, max-age=31536000, immutable"
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
        "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}

router = APIRouter(include_in_schema=False)


@router.api_route("/", methods=["GET", "HEAD"])
async def root() -> RedirectResponse:
    """The dashboard; a HEAD is a client's connectivity probe (Claude Code sends one)."""
    return RedirectResponse("/dashboard/", status_code=307)


def _index(dist: Path) -> Response:
    index = dist / "index.html"
    if not index.is_file():
        raise NotFound(
            "The dashboard is not built into this installation: run `make dashboard`.",
            code="dashboard_not_built",
        )
    headers = {"Cache-Control": "no-cache", **SECURITY_HEADERS}
    return FileResponse(index, media_type="text/html", headers=headers)


def _bundle_file(dist: Path, path: str) -> Path | None:
    """The bundle's file at `path`, or None; nothing outside the bundle, ever."""
    try:
        candidate = (dist / path).resolve()
        inside = candidate.is_relative_to(dist.resolve())
        return candidate if inside and candidate.is_file() else None
    except (OSError, ValueError):  # a NUL byte, a name too long
        return None


@router.api_route("/dashboard", methods=["GET", "HEAD"])
async def dashboard() -> Response:
    return _index(DIST)


@router.api_route("/dashboard/{path:path}", methods=["GET", "HEAD"])
async def dashboard_path(path: str) -> Response:
    found = _bundle_file(DIST, path) if path else None
    if found is not None and found.name != "index.html":
        cache = IMMUTABLE if path.startswith("assets/") else "no-cache"
        return FileResponse(found, headers={"Cache-Control": cache, **SECURITY_HEADERS})
    if path.startswith("assets/"):  # a missing script must not come back as HTML
        raise NotFound(f"No dashboard asset '{path[:200]}'.", code="asset_not_found")
    return _index(DIST)
