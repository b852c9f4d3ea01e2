"""Circuit breakers never turn a few failures into an outage: when every
deployment of a model (and of its fallbacks) is open, the request is still
tried on the one open longest ("panic" routing); a 429 never opens a circuit;
a retry-after never makes the router refuse a call it could make.

`held_open` is the routing router of tests/conftest.py with a 10-minute
cooldown (an open circuit stays open for the test unless a call closes it);
`routed` has a 0.5 s cooldown, for probes. Both open a circuit after 3
consecutive failures and make up to 3 attempts per model.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.conftest import Routed
from tests.helpers import request_detail, sse_lines
from tests.integration._serve import scrape, value

STREAM = [False, True]


@pytest.fixture
def api(held_open: Routed, user_key: str) -> Iterator[httpx.Client]:
    with held_open.client(user_key) as client:
        yield client


class Answer:
    """One chat call, streamed or not: its status, headers and request id."""

    def __init__(self, api: httpx.Client, model: str, stream: bool) -> None:
        body: dict[str, Any] = {
            "model": model,
            "messages": [{"role": "user", "content": "hello"}],
            "stream": stream,
        }
        with api.stream("POST", "/v1/chat/completions", json=body) as response:
            self.status = response.status_code
            self.headers = response.headers
            if self.status != 200:
                self.error = json.loads(response.read())["error"]
                return
            if stream:
                chunks = [json.loads(x) for x in sse_lines(response) if x != "[DONE]"]
                assert all("error" not in c for c in chunks), chunks
                self.id = chunks[0]["id"]
                self.model = chunks[0]["model"]
            else:
                reply = json.loads(response.read())
                self.id, self.model = reply["id"], reply["model"]

    def attempts(self, api: httpx.Client) -> list[dict[str, Any]]:
        return list(request_detail(api, self.id)["attempts"])


def health(api: httpx.Client) -> dict[str, Any]:
    response = api.get("/health/providers")
    assert response.status_code == 200, response.text
    return dict(response.json())


def deployment(api: httpx.Client, name: str) -> dict[str, Any]:
    found = [d for d in health(api)["deployments"] if d["deployment"] == name]
    assert len(found) == 1
    return found[0]


def last_rows(api: httpx.Client, n: int) -> list[dict[str, Any]]:
    """The key's last n request-log rows, oldest first, once all n are written."""
    deadline = time.monotonic() + 3
    while True:
        page = api.get("/v1/analytics/requests", params={"per_page": n}).json()
        if page["total"] >= n or time.monotonic() > deadline:
            assert page["total"] >= n, page
            return [request_detail(api, r["id"]) for r in reversed(page["requests"])]
        time.sleep(0.05)


def outcomes(attempts: list[dict[str, Any]]) -> list[tuple[str, int, bool]]:
    return [(a["deployment"], a["status"], a["panic"]) for a in attempts]


@pytest.mark.parametrize("stream", STREAM, ids=["json", "stream"])
def test_the_only_deployment_recovers_from_500s_and_429s_without_a_local_outage(
    api: httpx.Client, held_open: Routed, stream: bool
) -> None:
    held_open.a.state.script[:] = ["error_500"] * 4 + ["error_429"] * 3
    # Three 500s (the first try and 2 retries) open the circuit.
    assert Answer(api, "solo", stream).status == 502
    assert deployment(api, "solo-a")["state"] == "open"
    assert health(api)["panic"] == ["solo"]
    # Open, and nothing else can serve `solo`: each request is still tried, once.
    assert Answer(api, "solo", stream).status == 502
    for _ in range(3):
        limited = Answer(api, "solo", stream)
        assert limited.status == 429, limited.error
        assert deployment(api, "solo-a")["state"] == "open"  # a 429 neither opens nor closes
    assert len(held_open.a.state.requests) == 7

    # The upstream is healthy again: the next request is answered and closes the circuit.
    answer = Answer(api, "solo", stream)
    assert answer.status == 200 and answer.model == "solo"
    reason = answer.headers["x-router-reason"]
    assert "panic: every deployment of solo has an open circuit" in reason
    assert reason.endswith("answered by solo-a")
    assert outcomes(answer.attempts(api)) == [("solo-a", 200, True)]
    solo = deployment(api, "solo-a")
    assert solo["state"] == "closed"
    assert solo["panic_calls"] == 5 and solo["last_panic_at"] is not None
    assert health(api)["panic"] == []

    rows = last_rows(api, 6)
    assert [outcomes(r["attempts"]) for r in rows] == [
        [("solo-a", 500, False)] * 3,
        [("solo-a", 500, True)],
        [("solo-a", 429, True)],
        [("solo-a", 429, True)],
        [("solo-a", 429, True)],
        [("solo-a", 200, True)],
    ]
    assert "panic" in str(rows[-1]["route_reason"])

    after = Answer(api, "solo", stream)  # closed again: an ordinary call
    assert after.status == 200
    assert outcomes(after.attempts(api)) == [("solo-a", 200, False)]
    assert "panic" not in after.headers["x-router-reason"]


@pytest.mark.parametrize("stream", STREAM, ids=["json", "stream"])
def test_429s_never_open_a_circuit(api: httpx.Client, held_open: Routed, stream: bool) -> None:
    held_open.a.state.script[:] = ["error_429"] * 5  # more than the 3 failures that open one
    for _ in range(5):
        assert Answer(api, "solo", stream).status == 429
    solo = deployment(api, "solo-a")
    assert solo["state"] == "closed" and solo["cooling_down"] is True
    answer = Answer(api, "solo", stream)
    assert answer.status == 200
    assert outcomes(answer.attempts(api)) == [("solo-a", 200, False)]


@pytest.mark.parametrize("stream", STREAM, ids=["json", "stream"])
def test_a_long_retry_after_never_makes_the_router_refuse_or_hold_the_next_request(
    api: httpx.Client, held_open: Routed, stream: bool
) -> None:
    # 30 s is longer than the router waits (1.8 s) and than its deadline (2 s):
    # had it waited out the retry-after, the next request would end in a 504.
    held_open.a.state.script[:] = ["ratelimit=30000"]
    limited = Answer(api, "solo", stream)
    assert limited.status == 429
    assert deployment(api, "solo-a")["cooling_down"] is True
    answer = Answer(api, "solo", stream)
    assert answer.status == 200, answer.error
    assert outcomes(answer.attempts(api)) == [("solo-a", 200, False)]
    assert len(held_open.a.state.requests) == 2


@pytest.mark.parametrize("stream", STREAM, ids=["json", "stream"])
def test_an_open_circuit_steers_traffic_to_a_healthy_sibling_without_panic(
    api: httpx.Client, held_open: Routed, stream: bool
) -> None:
    # duo-a weighs a million times duo-b: it is tried first while it is closed.
    held_open.a.state.script[:] = ["error_500"] * 3
    for _ in range(3):
        answer = Answer(api, "duo", stream)
        assert answer.status == 200
        assert outcomes(answer.attempts(api)) == [("duo-a", 500, False), ("duo-b", 200, False)]
    assert deployment(api, "duo-a")["state"] == "open"
    for _ in range(3):
        answer = Answer(api, "duo", stream)
        assert outcomes(answer.attempts(api)) == [("duo-b", 200, False)]
        assert "panic" not in answer.headers["x-router-reason"]
    assert len(held_open.a.state.requests) == 3
    assert health(api)["panic"] == []
    assert deployment(api, "duo-a")["panic_calls"] == 0


@pytest.mark.parametrize("stream", STREAM, ids=["json", "stream"])
def test_panic_goes_to_the_deployment_of_the_chain_open_longest(
    api: httpx.Client, held_open: Routed, stream: bool
) -> None:
    # `circuit` (on A) falls back to `backup` (on B). A's circuit opens first.
    held_open.a.state.script[:] = ["error_500"] * 3
    assert Answer(api, "circuit", stream).model == "backup"
    held_open.b.state.script[:] = ["error_500"] * 3
    assert Answer(api, "backup", stream).status == 502
    assert deployment(api, "circuit-a")["state"] == "open"
    assert deployment(api, "backup-b")["state"] == "open"
    assert set(health(api)["panic"]) >= {"circuit", "backup"}

    answer = Answer(api, "circuit", stream)
    assert answer.status == 200 and answer.model == "circuit"
    assert outcomes(answer.attempts(api)) == [("circuit-a", 200, True)]
    assert deployment(api, "circuit-a")["state"] == "closed"
    assert deployment(api, "backup-b")["state"] == "open"  # nothing called it


def test_a_failed_panic_call_moves_on_to_the_next_open_deployment(
    api: httpx.Client, held_open: Routed
) -> None:
    held_open.a.state.script[:] = ["error_500"] * 4
    assert Answer(api, "circuit", False).model == "backup"
    held_open.b.state.script[:] = ["error_500"] * 3
    assert Answer(api, "backup", False).status == 502
    answer = Answer(api, "circuit", False)
    assert answer.status == 200 and answer.model == "backup"
    assert outcomes(answer.attempts(api)) == [("circuit-a", 500, True), ("backup-b", 200, True)]
    assert deployment(api, "circuit-a")["state"] == "open"
    assert deployment(api, "backup-b")["state"] == "closed"


def test_panic_calls_are_counted_in_the_metrics(
    api: httpx.Client, held_open: Routed, admin_key: str
) -> None:
    def panics(outcome: str) -> float:
        with held_open.client(admin_key) as admin:
            samples = scrape(admin.get("/metrics").text)
        name = "model_router_panic_attempts_total"
        return value(samples, name, deployment="solo-a", outcome=outcome)

    before = panics("success"), panics("error")
    held_open.a.state.script[:] = ["error_500"] * 4
    assert Answer(api, "solo", False).status == 502
    assert Answer(api, "solo", False).status == 502
    assert Answer(api, "solo", False).status == 200
    deadline = time.monotonic() + 3  # metrics follow the request-log rows
    while (panics("success"), panics("error")) != (before[0] + 1, before[1] + 1):
        assert time.monotonic() < deadline, (before, panics("success"), panics("error"))
        time.sleep(0.05)


def test_a_model_whose_every_deployment_is_at_its_cap_is_refused_with_503(
    api: httpx.Client, held_open: Routed
) -> None:
    assert Answer(api, "capped", False).status == 200  # its one request this minute
    refused = Answer(api, "capped", False)
    assert refused.status == 503
    assert refused.error["code"] == "no_deployment_available"
    assert "capped (every deployment at its rpm/tpm cap)" in refused.error["message"]
    assert len(held_open.a.state.requests) == 1


@pytest.mark.parametrize("stream", STREAM, ids=["json", "stream"])
def test_a_failing_sibling_is_probed_first_after_the_cooldown(
    routed: Routed, user_key: str, stream: bool
) -> None:
    routed.a.state.script[:] = ["error_500"] * 3
    with routed.client(user_key) as api:
        for _ in range(3):
            assert Answer(api, "duo", stream).status == 200
        assert deployment(api, "duo-a")["state"] == "open"
        time.sleep(0.6)  # the 0.5 s cooldown passes: the next request probes duo-a
        probe = Answer(api, "duo", stream)
        assert probe.status == 200
        assert outcomes(probe.attempts(api)) == [("duo-a", 200, False)]
        assert deployment(api, "duo-a")["state"] == "closed"
    assert len(routed.a.state.requests) == 4


def test_a_failed_probe_falls_over_to_the_sibling_and_reopens(
    routed: Routed, user_key: str
) -> None:
    routed.a.state.script[:] = ["error_500"] * 4
    with routed.client(user_key) as api:
        for _ in range(3):
            assert Answer(api, "duo", False).status == 200
        time.sleep(0.6)
        probe = Answer(api, "duo", False)
        assert outcomes(probe.attempts(api)) == [("duo-a", 500, False), ("duo-b", 200, False)]
        assert deployment(api, "duo-a")["state"] == "open"


def test_auto_calls_the_models_open_longest_when_every_qualifying_one_is_open(
    api: httpx.Client, held_open: Routed
) -> None:
    # Only acme qualifies: acme-large (its catalogue deployment) and `tiny`
    # (tiny-acme), both on the acme mock; six 500s open both circuits.
    acme = held_open.base.acme.state
    body = {
        "model": "auto",
        "routing": {"providers": ["acme"]},
        "messages": [{"role": "user", "content": "hello"}],
    }
    acme.script[:] = ["error_500"] * 6
    try:
        assert api.post("/v1/chat/completions", json=body).status_code == 502
        assert deployment(api, "acme/acme-large")["state"] == "open"
        assert deployment(api, "tiny-acme")["state"] == "open"
        response = api.post("/v1/chat/completions", json=body)
        assert response.status_code == 200, response.text
        attempts = request_detail(api, response.json()["id"])["attempts"]
        assert outcomes(attempts) == [("acme/acme-large", 200, True)]
        assert "panic" in response.headers["x-router-reason"]
    finally:
        acme.clear()
