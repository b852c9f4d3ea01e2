"""Fallback chains, context-window fallback, load spread over deployments and
the x-router-reason header, through the real app and the mocks (A and B)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.conftest import Routed
from tests.helpers import assert_error, chat, request_detail


@pytest.fixture
def api(routed: Routed, user_key: str) -> Iterator[httpx.Client]:
    with routed.client(user_key) as client:
        yield client


def _detail(api: httpx.Client, response: httpx.Response) -> dict[str, Any]:
    return request_detail(api, response.json()["id"])


def test_a_routing_file_fallback_answers_when_the_model_fails(
    api: httpx.Client, routed: Routed
) -> None:
    routed.a.state.script[:] = ["error_503"] * 3
    response = chat(api, "hello", model="chain")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["model"] == "backup" and body["provider"] == "openai"
    assert body["content"] == "Echo: hello"
    detail = _detail(api, response)
    assert [(a["deployment"], a["status"]) for a in detail["attempts"]] == [
        ("chain-a", 503),
        ("chain-a", 503),
        ("chain-a", 503),
        ("backup-b", 200),
    ]
    assert detail["model"] == "backup" and detail["requested_model"] == "chain"
    reason = response.headers["x-router-reason"]
    assert "answered by backup-b after 4 attempts" in reason


def test_the_request_models_list_is_tried_in_order(api: httpx.Client, routed: Routed) -> None:
    routed.a.state.script[:] = ["error_500"] * 3
    response = chat(api, "hello", model="solo", models=["backup", "pair"])
    assert response.status_code == 200, response.text
    assert response.json()["model"] == "backup"
    models = [a["model"] for a in _detail(api, response)["attempts"]]
    assert models == ["solo", "solo", "solo", "backup"]


def test_a_request_client_error_is_not_sent_to_the_fallbacks(
    api: httpx.Client, routed: Routed
) -> None:
    response = chat(api, "mock:error_400", model="chain", models=["backup"])
    assert_error(response, 400)
    assert len(routed.a.state.requests) == 1 and not routed.b.state.requests


def test_a_bad_key_on_one_deployment_moves_on_without_retrying_it(
    api: httpx.Client, routed: Routed
) -> None:
    routed.a.state.script[:] = ["error_401"]
    response = chat(api, "hello", model="chain")
    assert response.status_code == 200, response.text
    assert len(routed.a.state.requests) == 1
    assert response.json()["model"] == "backup"


def test_every_fallback_failing_returns_the_last_error(api: httpx.Client, routed: Routed) -> None:
    response = chat(api, "mock:error_500", model="chain")
    assert_error(response, 502)
    assert len(routed.a.state.requests) == 3 and len(routed.b.state.requests) == 3
    page = api.get("/v1/analytics/requests", params={"per_page": 1}).json()
    detail = request_detail(api, page["requests"][0]["id"])
    assert detail["status"] == "error" and len(detail["attempts"]) == 6
    assert detail["model"] == "backup"  # the last model tried


def test_a_prompt_too_long_for_the_window_goes_to_the_next_model_before_any_call(
    api: httpx.Client, routed: Routed
) -> None:
    # tiny is acme-large (32k window): 40k output tokens cannot fit, backup's 128k can.
    response = chat(api, "hello", model="tiny", max_tokens=40_000)
    assert response.status_code == 200, response.text
    assert response.json()["model"] == "backup"
    assert "tiny skipped" in response.headers["x-router-reason"]
    attempts = _detail(api, response)["attempts"]
    assert [a["deployment"] for a in attempts] == ["backup-b"]  # acme never called


def test_no_window_big_enough_is_a_400_before_any_call(api: httpx.Client, routed: Routed) -> None:
    response = chat(api, "hello", model="tiny", max_tokens=1_000_000)
    error = assert_error(response, 400, param="messages")
    assert error["code"] == "context_length_exceeded"
    assert "tiny (32000)" in error["message"]
    assert not routed.b.state.requests


def test_an_unknown_model_in_the_models_list_is_a_404(api: httpx.Client) -> None:
    response = chat(api, "hello", model="solo", models=["no-such-model"])
    assert_error(response, 404, param="model")


def test_a_bad_models_list_is_a_400(api: httpx.Client) -> None:
    response = chat(api, "hello", model="solo", models="backup")
    assert_error(response, 400, param="models")


def test_traffic_is_spread_over_both_deployments(api: httpx.Client, routed: Routed) -> None:
    for _ in range(40):
        assert chat(api, "hello", model="pair").status_code == 200
    a, b = len(routed.a.state.requests), len(routed.b.state.requests)
    assert a + b == 40
    # Equal weights: 40 fair coin flips fall outside 8..32 with probability < 1e-4.
    assert 8 <= a <= 32


def test_a_failing_deployment_is_failed_over_to_its_sibling(
    api: httpx.Client, routed: Routed
) -> None:
    # Kill A: every request still succeeds, through B.
    routed.a.state.script[:] = ["drop"] * 100
    for _ in range(10):
        response = chat(api, "hello", model="pair")
        assert response.status_code == 200, response.text
    assert len(routed.b.state.requests) == 10


def test_the_reason_header_is_on_errors_too(api: httpx.Client) -> None:
    response = chat(api, "mock:error_400", model="solo")
    assert response.status_code == 400
    assert response.headers["x-router-reason"].startswith("requested solo")
