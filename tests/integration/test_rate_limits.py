"""Per-key requests and tokens per minute: 429s with retry-after, and the
x-ratelimit-* headers on every answer."""

from __future__ import annotations

import httpx

from tests.conftest import Router
from tests.governance import fresh_minute, make_key
from tests.helpers import assert_error, chat


def test_rpm_limit_counts_down_then_refuses(router: Router, admin: httpx.Client) -> None:
    created = make_key(admin, rpm_limit=3)
    fresh_minute()
    with router.client(created["key"]) as client:
        remaining = []
        for _ in range(3):
            response = chat(client, "hi")
            assert response.status_code == 200
            assert response.headers["x-ratelimit-limit-requests"] == "3"
            remaining.append(response.headers["x-ratelimit-remaining-requests"])
        refused = chat(client, "hi")
    assert remaining == ["2", "1", "0"]
    error = assert_error(refused, 429)
    assert error["type"] == "rate_limit_error" and error["code"] == "rate_limit_exceeded"
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert refused.headers["x-ratelimit-limit-requests"] == "3"
    assert refused.headers["x-ratelimit-remaining-requests"] == "0"


def test_refused_requests_are_logged_and_not_sent_upstream(
    router: Router, admin: httpx.Client
) -> None:
    from tests.governance import rows_of

    created = make_key(admin, rpm_limit=1)
    fresh_minute()
    with router.client(created["key"]) as client:
        assert chat(client, "first").status_code == 200
        before = len(router.openai.state.requests)
        assert chat(client, "second").status_code == 429
        assert len(router.openai.state.requests) == before
    rows = sorted(rows_of(router, created["id"], 2), key=lambda r: r.created_at)
    assert [r.http_status for r in rows] == [200, 429]


def test_tpm_headers_and_a_request_larger_than_the_limit(
    router: Router, admin: httpx.Client
) -> None:
    created = make_key(admin, tpm_limit=5_000)
    fresh_minute()
    with router.client(created["key"]) as client:
        ok = chat(client, "hi")
        assert ok.status_code == 200
        assert ok.headers["x-ratelimit-limit-tokens"] == "5000"
        assert 0 < int(ok.headers["x-ratelimit-remaining-tokens"]) < 5000
        assert "x-ratelimit-limit-requests" not in ok.headers
        huge = chat(client, "x" * 6_000)
    error = assert_error(huge, 429)
    assert error["code"] == "tokens_limit_exceeded"
    assert huge.headers["x-ratelimit-limit-tokens"] == "5000"
    assert "retry-after" in huge.headers


def test_stream_answers_carry_the_headers(router: Router, admin: httpx.Client) -> None:
    created = make_key(admin, rpm_limit=50, tpm_limit=100_000)
    fresh_minute()
    body = {"model": "gpt-4o-mini", "stream": True, "messages": [{"role": "user", "content": "hi"}]}
    with router.client(created["key"]) as client:
        response = client.post("/v1/chat/completions", json=body)
    assert response.status_code == 200
    assert response.headers["x-ratelimit-limit-requests"] == "50"
    assert response.headers["x-ratelimit-remaining-requests"] == "49"
    assert response.headers["x-ratelimit-limit-tokens"] == "100000"


def test_keys_without_limits_get_no_rate_headers(api: httpx.Client) -> None:
    response = chat(api, "hi")
    assert response.status_code == 200
    assert not any(h.startswith("x-ratelimit-") for h in response.headers)


def test_limits_are_per_key(router: Router, admin: httpx.Client) -> None:
    first = make_key(admin, rpm_limit=1)
    second = make_key(admin, rpm_limit=1)
    fresh_minute()
    with router.client(first["key"]) as one, router.client(second["key"]) as two:
        assert chat(one, "hi").status_code == 200
        assert chat(one, "hi").status_code == 429
        assert chat(two, "hi").status_code == 200
