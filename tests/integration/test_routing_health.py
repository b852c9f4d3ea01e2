"""Circuit breakers and GET /health/providers, through the real app and mocks.

The routed router opens a circuit after 3 consecutive failures and probes
after 0.5 s (tests/conftest.py). Panic routing, when every deployment is open:
tests/integration/test_routing_panic.py."""

from __future__ import annotations

import time
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


def deployment(api: httpx.Client, name: str) -> dict[str, Any]:
    response = api.get("/health/providers")
    assert response.status_code == 200, response.text
    found = [d for d in response.json()["deployments"] if d["deployment"] == name]
    assert len(found) == 1, response.json()
    return found[0]


def test_the_circuit_opens_sends_nothing_while_open_and_recovers_after_a_probe(
    api: httpx.Client, routed: Routed
) -> None:
    assert deployment(api, "circuit-a")["state"] == "closed"
    routed.a.state.script[:] = ["error_500"] * 3
    first = chat(api, "hello", model="circuit")
    assert first.status_code == 200 and first.json()["model"] == "backup"
    assert deployment(api, "circuit-a")["state"] == "open"
    assert api.get("/health/providers").json()["status"] == "degraded"

    # Open: the next requests skip it entirely and go to the fallback.
    for _ in range(3):
        response = chat(api, "hello", model="circuit")
        assert response.status_code == 200 and response.json()["model"] == "backup"
        attempts = request_detail(api, response.json()["id"])["attempts"]
        assert [a["deployment"] for a in attempts] == ["backup-b"]
    assert len(routed.a.state.requests) == 3

    time.sleep(0.6)  # the cooldown passes: one probe goes through, and succeeds
    probe = chat(api, "hello", model="circuit")
    assert probe.status_code == 200 and probe.json()["model"] == "circuit"
    assert len(routed.a.state.requests) == 4
    assert deployment(api, "circuit-a")["state"] == "closed"


def test_a_failed_probe_opens_the_circuit_again(api: httpx.Client, routed: Routed) -> None:
    routed.a.state.script[:] = ["error_500"] * 4
    chat(api, "hello", model="circuit")
    assert deployment(api, "circuit-a")["state"] == "open"
    time.sleep(0.6)
    response = chat(api, "hello", model="circuit")
    assert response.json()["model"] == "backup"
    assert len(routed.a.state.requests) == 4  # exactly one probe
    assert deployment(api, "circuit-a")["state"] == "open"


def test_a_model_whose_only_deployment_is_open_is_still_tried_and_its_success_closes_it(
    api: httpx.Client, routed: Routed
) -> None:
    # Panic routing (tests/integration/test_routing_panic.py has the rest): no local 503.
    routed.a.state.script[:] = ["error_500"] * 3
    assert_error(chat(api, "hello", model="solo"), 502)
    assert deployment(api, "solo-a")["state"] == "open"
    response = chat(api, "hello", model="solo")
    assert response.status_code == 200, response.text
    assert deployment(api, "solo-a")["state"] == "closed"
    assert len(routed.a.state.requests) == 4


def test_health_reports_error_rate_and_latency_percentiles(
    api: httpx.Client, routed: Routed
) -> None:
    fresh = deployment(api, "solo-a")
    assert fresh["error_rate"] is None and fresh["p50_latency_ms"] is None
    routed.a.state.script[:] = ["error_500"]
    for _ in range(3):
        assert chat(api, "hello", model="solo").status_code == 200
    seen = deployment(api, "solo-a")
    assert seen["requests"] == 4 and seen["failures"] == 1
    assert seen["error_rate"] == 0.25
    assert seen["p50_latency_ms"] is not None
    assert seen["p95_latency_ms"] >= seen["p50_latency_ms"]
    assert "mock error 500" in seen["last_error"]
    assert seen["provider"] == "openai" and seen["model"] == "solo"


def test_health_lists_catalogue_models_as_one_deployment_each(api: httpx.Client) -> None:
    names = {d["deployment"] for d in api.get("/health/providers").json()["deployments"]}
    assert {"anthropic/claude-haiku-4-5", "gemini/gemini-2.5-flash", "pair-a", "pair-b"} <= names


def test_health_of_providers_needs_a_key(routed: Routed) -> None:
    with routed.client() as anonymous:
        assert_error(anonymous.get("/health/providers"), 401)


def test_a_provider_without_a_key_keeps_saying_so_and_never_opens_a_circuit(
    api: httpx.Client,
) -> None:
    for _ in range(5):  # more than the 3 failures that open a circuit
        error = assert_error(chat(api, "hello", model="nokey-model"), 503)
        assert error["code"] == "provider_not_configured"
        assert "NOKEY_API_KEY" in error["message"]
    assert deployment(api, "nokey/nokey-model")["state"] == "closed"
