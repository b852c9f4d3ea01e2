"""Retries, backoff, retry-after and the deadline, through the real app and mocks.

`routed` is a router whose routing file puts models on two mock instances, A
and B (tests/conftest.py): `solo` has one deployment on A and no fallback, so
every upstream call it makes is one request A received.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.conftest import Routed
from tests.helpers import assert_error, chat, request_detail


@pytest.fixture
def api(routed: Routed, user_key: str) -> Any:
    with routed.client(user_key) as client:
        yield client


def _attempts(api: httpx.Client, response: httpx.Response) -> list[dict[str, Any]]:
    request_id = response.headers.get("x-request-id") or response.json().get("id")
    return list(request_detail(api, request_id)["attempts"] or [])


def _row_of_last(api: httpx.Client) -> dict[str, Any]:
    page = api.get("/v1/analytics/requests", params={"per_page": 1}).json()
    return request_detail(api, page["requests"][0]["id"])


@pytest.mark.parametrize("failure", ["error_429", "error_500", "error_502", "error_503", "drop"])
def test_a_transient_failure_is_retried_and_the_answer_succeeds(
    api: httpx.Client, routed: Routed, failure: str
) -> None:
    if failure == "error_429":
        failure = "ratelimit=50"  # the mock's own 429 asks for 7 s
    routed.a.state.script[:] = [failure, failure]
    response = chat(api, "hello", model="solo")
    assert response.status_code == 200, response.text
    assert response.json()["model"] == "solo"
    assert len(routed.a.state.requests) == 3
    attempts = _attempts(api, response)
    assert [a["deployment"] for a in attempts] == ["solo-a"] * 3
    assert attempts[-1]["status"] == 200 and attempts[-1]["error"] is None
    assert all(a["error"] for a in attempts[:2])


@pytest.mark.parametrize("status", [408, 409])
def test_408_and_409_are_retried(api: httpx.Client, routed: Routed, status: int) -> None:
    routed.a.state.script[:] = [f"error_{status}"]
    response = chat(api, "hello", model="solo")
    assert response.status_code == 200, response.text
    assert len(routed.a.state.requests) == 2


def test_a_timeout_is_retried(api: httpx.Client, routed: Routed) -> None:
    # The routed router gives an attempt 0.4 s; the mock sleeps 0.8 s once.
    routed.a.state.script[:] = ["sleep=800"]
    response = chat(api, "hello", model="solo")
    assert response.status_code == 200, response.text
    attempts = _attempts(api, response)
    assert [a["status"] for a in attempts] == [504, 200]


@pytest.mark.parametrize("status", [400, 413, 422])
def test_other_client_errors_are_never_retried(
    api: httpx.Client, routed: Routed, status: int
) -> None:
    response = chat(api, f"mock:error_{status}", model="solo")
    assert_error(response, status)
    assert len(routed.a.state.requests) == 1
    row = _row_of_last(api)
    assert [a["status"] for a in row["attempts"]] == [status]


def test_every_retry_failing_returns_the_last_error_and_records_each_attempt(
    api: httpx.Client, routed: Routed
) -> None:
    response = chat(api, "mock:error_500", model="solo")
    assert_error(response, 502)
    assert len(routed.a.state.requests) == 3  # the first try and 2 retries
    row = _row_of_last(api)
    assert row["status"] == "error"
    assert [(a["deployment"], a["status"]) for a in row["attempts"]] == [("solo-a", 500)] * 3
    assert all("mock error 500" in a["error"] for a in row["attempts"])


def test_retry_after_is_honoured_before_retrying_the_same_deployment(
    api: httpx.Client, routed: Routed
) -> None:
    routed.a.state.script[:] = ["ratelimit=400"]
    response = chat(api, "hello", model="solo")
    assert response.status_code == 200, response.text
    first, second = routed.a.state.requests
    assert second.at - first.at >= 0.4


def test_a_retry_after_longer_than_the_router_waits_goes_to_the_fallback(
    api: httpx.Client, routed: Routed
) -> None:
    # The mock's 429 asks for 7 s; the routed router waits at most 1.8 s.
    routed.a.state.script[:] = ["error_429"]
    response = chat(api, "hello", model="chain")
    assert response.status_code == 200, response.text
    assert response.json()["model"] == "backup"
    assert len(routed.a.state.requests) == 1


def test_the_deadline_stops_retries(api: httpx.Client, routed: Routed) -> None:
    # Each 429 asks for 1.5 s; the deadline is 2 s, so a third try never starts.
    routed.a.state.script[:] = ["ratelimit=1500"] * 3
    response = chat(api, "hello", model="solo")
    error = assert_error(response, 504)
    assert error["code"] == "deadline_exceeded"
    assert "deadline" in error["message"]
    assert len(routed.a.state.requests) == 2
    row = _row_of_last(api)
    assert [a["status"] for a in row["attempts"]] == [429, 429]


def test_a_hanging_upstream_is_cut_at_the_attempt_timeout_and_the_fallback_answers(
    api: httpx.Client, routed: Routed
) -> None:
    # A hangs for 1.5 s on every call; each attempt is cut at 0.4 s (the routed
    # router's attempt timeout), well before the 2 s deadline, and B answers.
    routed.a.state.script[:] = ["sleep=1500"] * 3
    response = chat(api, "hello", model="chain")
    assert response.status_code == 200, response.text
    assert response.json()["model"] == "backup"
    row = _row_of_last(api)
    assert [(a["deployment"], a["status"]) for a in row["attempts"]] == [
        ("chain-a", 504),
        ("chain-a", 504),
        ("chain-a", 504),
        ("backup-b", 200),
    ]
    assert "no answer within 0.4s" in row["attempts"][0]["error"]
