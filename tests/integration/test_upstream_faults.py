"""Upstreams that misbehave: each fault is a clear error for the client and in
the request log, and a thousand of them leak no file descriptor and no task.

The faults come from `tests/mocks/faults.py`, a raw socket server; one
provider per fault, whose base URL names it.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from model_router.services.catalogue_admin import ModelSpec, add_model, add_provider
from tests.conftest import Router
from tests.faultkit import LoopServer, open_fds, own_router
from tests.helpers import assert_error
from tests.mocks.faults import FaultServer, refused_url

FAULT_KEY = "sk-fault-upstream-0123456789abcdef"
# fault -> (HTTP status the client gets, words its message must contain)
EXPECTED: dict[str, tuple[int, str]] = {
    "refused": (502, "could not reach"),
    "reset": (502, "the upstream broke off (ConnectionClosed)"),
    "hang": (504, "did not answer in time"),
    "drip": (504, "did not answer in time"),
    "badjson": (502, "not JSON"),
    "html": (502, "not JSON"),
    "errorbody": (502, "The server is overloaded"),
}
STREAM_FAULTS = ("reset-sse",)


@pytest.fixture(scope="module")
def faults() -> Iterator[FaultServer]:
    with FaultServer() as server:
        yield server


@pytest.fixture(scope="module")
def fault_models(router: Router, faults: FaultServer, monkeypatch_module: Any) -> list[str]:
    monkeypatch_module.setenv("FAULT_API_KEY", FAULT_KEY)
    names = [*EXPECTED, *STREAM_FAULTS, "leaky", "ok"]

    async def seed(sessions: Any) -> None:
        for name in names:
            base = refused_url() if name == "refused" else f"{faults.url}/{name}"
            await add_provider(
                sessions, f"fault-{name}", base_url=f"{base}/v1", api_key_setting="FAULT_API_KEY"
            )
            await add_model(sessions, ModelSpec(provider=f"fault-{name}", model_id=f"fault-{name}"))

    router.run(seed)
    time.sleep(1.5)  # the running router reloads its catalogue every 0.5 s
    return names


@pytest.fixture(scope="module")
def monkeypatch_module() -> Iterator[pytest.MonkeyPatch]:
    with pytest.MonkeyPatch.context() as patch:
        yield patch


def body(model: str, *, stream: bool = False) -> dict[str, Any]:
    return {"model": model, "messages": [{"role": "user", "content": "hi"}], "stream": stream}


def logged_row(api: httpx.Client, model: str) -> dict[str, Any]:
    deadline = time.monotonic() + 5
    while True:
        items = api.get("/v1/analytics/requests", params={"model": model}).json()["requests"]
        if items or time.monotonic() > deadline:
            assert items, f"no request-log row for {model}"
            return dict(items[0])
        time.sleep(0.1)


@pytest.mark.parametrize("fault", sorted(EXPECTED))
def test_each_upstream_fault_is_a_clear_recorded_error(
    fault: str, fault_models: list[str], api: httpx.Client
) -> None:
    status, words = EXPECTED[fault]
    error = assert_error(api.post("/v1/chat/completions", json=body(f"fault-{fault}")), status)
    assert words in error["message"], error
    assert f"fault-{fault}" in error["message"], "the message names the provider"
    row = logged_row(api, f"fault-{fault}")
    assert row["status"] == "error"
    assert words in (row["error_message"] or ""), row


def test_a_stream_reset_mid_body_ends_in_an_error_event_and_is_recorded(
    fault_models: list[str], api: httpx.Client
) -> None:
    with api.stream("POST", "/v1/chat/completions", json=body("fault-reset-sse", stream=True)) as r:
        payloads = [line[6:] for line in r.iter_lines() if line.startswith("data: ")]
    assert r.status_code == 200  # the first chunk was already sent
    assert any('"error"' in p for p in payloads), payloads
    row = logged_row(api, "fault-reset-sse")
    assert row["status"] == "error" and row["error_message"]


def test_an_upstream_error_echoing_the_provider_key_reaches_the_client_scrubbed(
    fault_models: list[str], api: httpx.Client
) -> None:
    for stream in (False, True):
        response = api.post("/v1/chat/completions", json=body("fault-leaky", stream=stream))
        error = assert_error(response, 401)
        assert "You sent" in error["message"], error  # the upstream's message is passed on
        for text in (response.text, str(response.headers)):
            assert FAULT_KEY not in text and FAULT_KEY[-16:] not in text, text
    row = logged_row(api, "fault-leaky")
    assert FAULT_KEY[-16:] not in str(row)


def test_the_control_upstream_works(fault_models: list[str], api: httpx.Client) -> None:
    response = api.post("/v1/chat/completions", json=body("fault-ok"))
    assert response.status_code == 200, response.text
    assert response.json()["choices"][0]["message"]["content"] == "fine"


async def _hammer(url: str, key: str, calls: list[dict[str, Any]]) -> Counter[int]:
    statuses: Counter[int] = Counter()
    limit = asyncio.Semaphore(50)
    headers = {"authorization": f"Bearer {key}"}
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=30) as client:

        async def one(payload: dict[str, Any]) -> None:
            async with limit:
                if payload["stream"]:
                    async with client.stream("POST", "/v1/chat/completions", json=payload) as r:
                        async for _ in r.aiter_bytes():
                            pass
                else:
                    r = await client.post("/v1/chat/completions", json=payload)
                statuses[r.status_code] += 1

        await asyncio.gather(*(one(p) for p in calls))
    return statuses


def _settle(server: LoopServer, fds: int, tasks: int) -> tuple[int, int]:
    """Counts once closing connections have closed (or after a few seconds)."""
    deadline = time.monotonic() + 10
    while True:
        now = (open_fds(), server.task_count())
        if (now[0] <= fds and now[1] <= tasks) or time.monotonic() > deadline:
            return now
        time.sleep(0.2)


def test_a_thousand_faulty_calls_leak_no_fd_and_no_task(
    router: Router, fault_models: list[str], faults: FaultServer
) -> None:
    key = router.new_key(name="faults")
    names = [n for n in fault_models if n not in ("ok", "leaky")]
    calls = [body(f"fault-{n}", stream=n in STREAM_FAULTS) for n in names]
    with own_router(
        router.settings,
        upstream_read_timeout=0.3,
        router_max_retries=0,
        router_circuit_cooldown=0.001,
    ) as (server, _state):
        warm = asyncio.run(_hammer(server.url, key, calls * 10))
        assert sum(warm.values()) == len(calls) * 10
        time.sleep(1)
        fds, tasks = open_fds(), server.task_count()
        before = dict(faults.calls)
        statuses = asyncio.run(_hammer(server.url, key, (calls * 125)[:1000]))
        fds_after, tasks_after = _settle(server, fds + 10, tasks + 2)
    assert sum(statuses.values()) == 1000
    assert statuses[500] == 0, statuses
    reached = sum(faults.calls.values()) - sum(before.values())
    assert reached > 500, "the faulty upstream was not called (circuit open?)"
    assert fds_after <= fds + 10, f"file descriptors grew from {fds} to {fds_after}"
    assert tasks_after <= tasks + 2, f"asyncio tasks grew from {tasks} to {tasks_after}"
