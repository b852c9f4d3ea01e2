"""Bad input and bad keys: a clear 4xx in OpenAI's shape, never a 500."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import Router
from tests.helpers import assert_error, chat


def test_missing_key_is_401(router: Router) -> None:
    with router.client() as anonymous:
        error = assert_error(chat(anonymous, "hi"), 401)
    assert error["type"] == "authentication_error"


def test_unknown_key_is_401(router: Router) -> None:
    with router.client("mr-not-a-real-key") as stranger:
        assert_error(stranger.get("/v1/models"), 401)


def test_x_api_key_header_is_accepted(router: Router, user_key: str) -> None:
    with httpx.Client(base_url=router.url, headers={"x-api-key": user_key}) as client:
        assert client.get("/v1/models").status_code == 200


def test_revoked_key_is_403(router: Router) -> None:
    from model_router.services.keys import revoke_key

    key = router.new_key(name="short-lived")
    with router.client(key) as client:
        assert client.get("/v1/models").status_code == 200
        router.run(lambda s: revoke_key(s, key[:10]))
        # the cache reloads from the database within its refresh interval
        import time

        deadline = time.monotonic() + 8
        while client.get("/v1/models").status_code == 200 and time.monotonic() < deadline:
            time.sleep(0.2)
        error = assert_error(client.get("/v1/models"), 403)
    assert error["code"] == "key_revoked"


def test_health_needs_no_key(router: Router) -> None:
    with router.client() as anonymous:
        assert anonymous.get("/health").json() == {"status": "ok"}
        ready = anonymous.get("/ready")
        assert ready.status_code == 200 and ready.json()["database"] == "ok"
        assert anonymous.get("/openapi.json").status_code == 200


def test_unknown_model_is_404_naming_it(api: httpx.Client) -> None:
    error = assert_error(chat(api, "hi", model="gpt-nonexistent"), 404, param="model")
    assert "gpt-nonexistent" in error["message"]
    assert error["code"] == "model_not_found"


def test_provider_without_key_is_503_naming_the_setting(api: httpx.Client) -> None:
    error = assert_error(chat(api, "hi", model="nokey-model"), 503)
    assert "NOKEY_API_KEY" in error["message"]


@pytest.mark.parametrize(
    ("body", "param"),
    [
        (
            {
                "model": "gpt-4o-mini",
                "messages": [{"role": "user", "content": "x"}],
                "temperature": 5,
            },
            "temperature",
        ),
        ({"model": "gpt-4o-mini", "messages": []}, "messages"),
        ({"messages": [{"role": "user", "content": "x"}]}, "model"),
        (
            {"model": "gpt-4o-mini", "messages": [{"role": "wizard", "content": "x"}]},
            "messages.0.role",
        ),
        (
            {
                "model": "gpt-4o-mini",
                "messages": [{"role": "user", "content": "x"}],
                "max_tokens": 0,
            },
            "max_tokens",
        ),
        (
            {
                "model": "gpt-4o-mini",
                "messages": [{"role": "user", "content": "x"}],
                "top_p": "high",
            },
            "top_p",
        ),
        ({"model": 42, "messages": [{"role": "user", "content": "x"}]}, "model"),
        ({"model": "gpt-4o-mini", "messages": [{"role": "tool", "content": "x"}]}, "messages.0"),
    ],
)
def test_invalid_values_are_400_naming_the_field(
    api: httpx.Client, body: dict[str, object], param: str
) -> None:
    error = assert_error(api.post("/v1/chat/completions", json=body), 400)
    assert error["param"] is not None and error["param"].startswith(param), error


@pytest.mark.parametrize("raw", [b"{not json", b"[1, 2]", b"", b"\xff\xfe"])
def test_malformed_bodies_are_400(api: httpx.Client, raw: bytes) -> None:
    response = api.post(
        "/v1/chat/completions", content=raw, headers={"content-type": "application/json"}
    )
    assert_error(response, 400)


def test_n_greater_than_one_is_refused_by_name(api: httpx.Client) -> None:
    assert_error(chat(api, "hi", n=2), 400, param="n")


def test_unknown_route_is_404_in_openai_shape(api: httpx.Client) -> None:
    assert_error(api.get("/v1/nope"), 404)


def test_failed_calls_are_recorded(admin: httpx.Client, api: httpx.Client) -> None:
    chat(api, "recorded-failure-marker", model="gpt-nonexistent")
    api.post(
        "/v1/chat/completions", content=b"{broken", headers={"content-type": "application/json"}
    )
    rows = api.get("/v1/analytics/requests", params={"status": "error"}).json()["requests"]
    models = {r["model"] for r in rows}
    assert "gpt-nonexistent" in models
    assert "" in models  # the unreadable body
