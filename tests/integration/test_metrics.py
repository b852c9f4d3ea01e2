"""GET /metrics: who may scrape, and what a call adds to each metric."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from tests.conftest import Mock, Routed, Router
from tests.helpers import assert_error, chat
from tests.integration._serve import cli, new_key, router_env, scrape, serve, value
from tests.mocks.server import ServerThread


def metrics(admin: httpx.Client) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    response = admin.get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return scrape(response.text)


def test_metrics_need_an_admin_key_by_default(router: Router, api: httpx.Client) -> None:
    with router.client() as anonymous:
        assert_error(anonymous.get("/metrics"), 401)
    assert_error(api.get("/metrics"), 403)


def test_metrics_can_be_open_to_any_scraper(router: Router) -> None:
    from model_router.app import create_app

    settings = router.settings.model_copy(update={"metrics_access": "open"})
    with ServerThread(create_app(settings), lifespan="on") as server:
        response = httpx.get(f"{server.url}/metrics")
    assert response.status_code == 200
    assert "model_router_requests_total" in response.text


def test_a_call_counts_its_request_tokens_cost_and_latency_by_key_prefix(
    api: httpx.Client, admin: httpx.Client, user_key: str
) -> None:
    labels = {"model": "gpt-4o-mini", "provider": "openai"}
    before = metrics(admin)
    reply = chat(api, "count me")
    assert reply.status_code == 200
    cost = Decimal(str(reply.json()["usage"]["total_cost_usd"]))
    after = metrics(admin)

    prefix = user_key[:10]
    assert value(after, "model_router_requests_total", key=prefix) == 1
    assert (
        value(
            after,
            "model_router_requests_total",
            **labels,
            status="success",
            code="200",
            key=prefix,
        )
        == 1
    )
    assert value(after, "model_router_cost_usd_total", key=prefix, **labels) == pytest.approx(
        float(cost)
    )

    def grew(name: str, **more: str) -> float:
        return value(after, name, **labels, **more) - value(before, name, **labels, **more)

    usage = reply.json()["usage"]
    assert grew("model_router_tokens_total", direction="input") == usage["prompt_tokens"]
    assert grew("model_router_tokens_total", direction="output") == usage["completion_tokens"]
    assert grew("model_router_request_duration_seconds_count") == 1
    # The full key is never a label; only its display prefix.
    assert user_key not in admin.get("/metrics").text


def test_upstream_errors_and_rate_limits_are_counted_by_class(
    api: httpx.Client, admin: httpx.Client, user_key: str
) -> None:
    before = metrics(admin)
    # Models no other test uses: failures open their circuits, which is the point.
    assert chat(api, "mock:error_503", model="gpt-4.1-nano").status_code in (502, 503)
    assert chat(api, "mock:error_429", model="gpt-5-nano").status_code == 429
    after = metrics(admin)

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    errors = "model_router_upstream_errors_total"  # retries may add attempts: at least one
    assert grew(errors, provider="openai", error_class="server_error") >= 1
    assert grew(errors, provider="openai", error_class="rate_limit") >= 1
    prefix = user_key[:10]
    assert value(after, "model_router_rate_limited_total", key=prefix, source="upstream") == 1
    assert value(after, "model_router_requests_total", key=prefix, status="error") == 2


def test_retries_fallbacks_and_circuits_come_from_the_routing_attempts(
    routed: Routed, admin_key: str
) -> None:
    # `chain` is one deployment on mock A (2 retries, 3 failures open its circuit)
    # and falls back to `backup` on mock B.
    routed.a.state.script = ["error_500"] * 3
    with routed.client(admin_key) as client:
        before = metrics(client)
        assert chat(client, "hello", model="chain").status_code == 200
        after = metrics(client)

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert grew("model_router_retries_total", model="chain") == 2
    assert grew("model_router_fallbacks_total", model="backup") == 1
    errors = "model_router_upstream_errors_total"
    assert grew(errors, provider="openai", error_class="server_error") == 3
    assert value(after, "model_router_circuit_state", deployment="chain-a") == 2  # open
    assert value(after, "model_router_requests_total", key=admin_key[:10], status="success") == 1


def test_unknown_models_share_one_label_so_typos_cannot_add_series(
    api: httpx.Client, admin: httpx.Client, user_key: str
) -> None:
    assert_error(chat(api, "hi", model="no-such-model-xyz"), 404)
    text = admin.get("/metrics").text
    assert "no-such-model-xyz" not in text
    after = scrape(text)
    assert (
        value(after, "model_router_requests_total", key=user_key[:10], model="unknown", code="404")
        == 1
    )


def test_streams_record_time_to_first_token(api: httpx.Client, admin: httpx.Client) -> None:
    name = "model_router_time_to_first_token_seconds_count"
    labels = {"model": "gpt-4o-mini", "provider": "openai"}
    before = value(metrics(admin), name, **labels)
    body = {
        "model": "gpt-4o-mini",
        "stream": True,
        "messages": [{"role": "user", "content": "mock:chunks=4"}],
    }
    with api.stream("POST", "/v1/chat/completions", json=body) as response:
        assert response.status_code == 200
        lines = [line for line in response.iter_lines() if line.startswith("data: ")]
    assert lines[-1] == "data: [DONE]"
    assert json.loads(lines[0][6:])["object"] == "chat.completion.chunk"
    assert value(metrics(admin), name, **labels) == before + 1


def test_request_log_queue_depth_is_a_gauge(admin: httpx.Client) -> None:
    samples = metrics(admin)
    assert ("model_router_request_log_pending", frozenset()) in samples
    assert samples[("model_router_request_log_pending", frozenset())] >= 0


def test_workers_share_their_counts(tmp_path: Path, openai_upstream: Mock) -> None:
    """Under `serve --workers 2` every scrape, whichever worker answers, sees all calls."""
    env = router_env(tmp_path, f"{openai_upstream.url}/v1", METRICS_ACCESS="open")
    cli(env, "bootstrap")
    key = new_key(env)
    with serve(env, "--workers", "2") as served:
        sent = 20
        with httpx.Client(
            base_url=served.url, headers={"authorization": f"Bearer {key}"}
        ) as client:
            for i in range(sent):
                assert chat(client, f"worker call {i}").status_code == 200
            counts = set()
            # New connections each time, so the scrapes land on both workers.
            for _ in range(8):
                text = httpx.get(f"{served.url}/metrics").text
                counts.add(value(scrape(text), "model_router_requests_total", key=key[:10]))
        assert counts == {sent}
