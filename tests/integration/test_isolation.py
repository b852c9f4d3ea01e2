"""Isolation and secrets.

Two normal keys walk every GET endpoint of the router's own OpenAPI schema
(so endpoints added later are walked too), with the other key's ids in every
path parameter: neither ever reads the other's requests, prompts or ids.
Then the provider keys of the mocks, and the client keys, are looked for in
everything the router produced: response bodies and headers, its log output,
and every request-log row.
"""

from __future__ import annotations

import asyncio
import logging
import re
import uuid

import httpx
import pytest
from sqlalchemy import select

from model_router.db.engine import make_engine
from model_router.db.models import Request
from tests.conftest import KEYS, Router
from tests.faultkit import key_id
from tests.helpers import chat

MODELS = [
    "gpt-4o-mini",
    "claude-haiku-4-5",
    "gemini-2.5-flash",
    "deepseek-chat",
    "acme-large",
    "azure-gpt-4o",
    "nokey-model",
    "mystery-model",
]
SCENARIOS = ["hello", "mock:error_500", "mock:error_401", "mock:error_400", "mock:ratelimit=1"]


class Seen:
    """Every response the test got, to search afterwards."""

    def __init__(self) -> None:
        self.responses: list[httpx.Response] = []

    def hook(self, response: httpx.Response) -> None:
        response.read()
        self.responses.append(response)

    def texts(self) -> list[str]:
        return [
            f"{r.request.method} {r.request.url}\n{dict(r.headers)}\n{r.text}"
            for r in self.responses
        ]


def _client(router: Router, key: str, seen: Seen) -> httpx.Client:
    return router.client(key, event_hooks={"response": [seen.hook]})


def _get_paths(api: httpx.Client) -> list[tuple[str, list[str]]]:
    schema = api.get("/openapi.json").json()
    paths = []
    for path, item in schema["paths"].items():
        if "get" in item:
            params = [p["name"] for p in item["get"].get("parameters", []) if p.get("in") == "path"]
            paths.append((path, params))
    assert len(paths) >= 3
    return paths


def _use(router: Router, key: str, marker: str, seen: Seen) -> list[str]:
    """Calls under `key` whose prompts carry `marker`; the request ids."""
    ids = []
    with _client(router, key, seen) as api:
        for model in MODELS[:3]:
            response = chat(api, f"{marker} {model}", model=model)
            assert response.status_code == 200, response.text
            ids.append(response.json()["id"])
        with api.stream(
            "POST",
            "/v1/chat/completions",
            json={
                "model": "gpt-4o-mini",
                "stream": True,
                "messages": [{"role": "user", "content": f"{marker} streamed"}],
            },
        ) as streamed:
            for _ in streamed.iter_bytes():
                pass
    return ids


def test_no_key_reads_another_keys_requests_through_any_get_endpoint(router: Router) -> None:
    seen = Seen()
    key_a, key_b = router.new_key(name="tenant-a"), router.new_key(name="tenant-b")
    marker_a, marker_b = f"secret-a-{uuid.uuid4().hex}", f"secret-b-{uuid.uuid4().hex}"
    ids_a = _use(router, key_a, marker_a, seen)
    ids_b = _use(router, key_b, marker_b, seen)
    user_a, user_b = str(key_id(router, key_a)), str(key_id(router, key_b))
    owned = {
        "a": (key_a, marker_a, [*ids_a, user_a]),
        "b": (key_b, marker_b, [*ids_b, user_b]),
    }
    walked = 0
    for me, other in (("a", "b"), ("b", "a")):
        my_key = owned[me][0]
        _, other_marker, other_ids = owned[other]
        with _client(router, my_key, seen) as api:
            # A key sees its own requests, so the test below can see a leak.
            mine = api.get(f"/v1/analytics/requests/{owned[me][2][0]}")
            assert mine.status_code == 200, mine.text
            for path, params in _get_paths(api):
                values = other_ids if params else [None]
                for value in values:
                    url = path
                    for name in params:
                        url = url.replace("{" + name + "}", str(value))
                    response = api.get(url, params={"per_page": 100} if not params else None)
                    walked += 1
                    assert response.status_code < 500, f"{url}: {response.text[:300]}"
                    text = response.text
                    assert other_marker not in text, f"{me} read {other}'s prompt at {url}"
                    leaked = [i for i in other_ids if i in text and i != value]
                    assert not leaked, f"{me} read {other}'s ids {leaked} at {url}"
    assert walked > 10


def test_provider_keys_never_leave_the_router(
    router: Router, admin_key: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    seen = Seen()
    user_key = router.new_key(name="secrets")
    with _client(router, user_key, seen) as api:
        for model in MODELS:
            for scenario in SCENARIOS:
                chat(api, scenario, model=model)
                chat(api, scenario, model=model, stream=True)
    bogus = f"sk-bogus-{uuid.uuid4().hex}"
    with _client(router, bogus, seen) as stranger:
        chat(stranger, "hello")
        stranger.get("/v1/analytics/requests")
    with _client(router, admin_key, seen) as admin:
        for path, params in _get_paths(admin):
            if not params:
                admin.get(path)
        rows = admin.get("/v1/analytics/requests", params={"per_page": 100}).json()["requests"]
        for row in rows[:50]:
            admin.get(f"/v1/analytics/requests/{row['id']}")
    haystacks = {
        "responses": "\n".join(seen.texts()),
        "logs": caplog.text,
        "request log": _all_rows(router),
    }
    # Full provider keys, and long enough pieces of them to identify one.
    needles = [*KEYS.values(), *(k[-16:] for k in KEYS.values())]
    for where, text in haystacks.items():
        for needle in needles:
            assert needle not in text, f"a provider key ({needle[:6]}...) appears in the {where}"
    # Client keys are never logged in full, nor echoed in errors (even a wrong one).
    for where in ("logs", "request log"):
        assert user_key not in haystacks[where] and admin_key not in haystacks[where], where
    for where, text in haystacks.items():
        assert bogus not in text.replace(f"Bearer {bogus}", ""), f"a client key echoed in {where}"
    assert re.search(r"secrets|hello", haystacks["request log"]), "the rows were not read"


def _all_rows(router: Router) -> str:
    async def run() -> str:
        engine = make_engine(router.database_url)
        try:
            async with engine.connect() as conn:
                rows = (await conn.execute(select(Request.__table__))).all()
                return "\n".join(repr(tuple(row)) for row in rows)
        finally:
            await engine.dispose()

    return asyncio.run(run())
