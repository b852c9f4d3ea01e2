"""Webhooks: signed events, retries with backoff, the delivery log, redelivery,
durability across a restart, and receivers that cannot slow a request."""

from __future__ import annotations

import hashlib
import hmac
import time
import uuid
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest

from tests.conftest import Router
from tests.governance import make_key
from tests.helpers import assert_error, chat
from tests.webhook_receiver import Received, Receiver

SECRET = "whsec_test_0123456789abcdef"


class Hooks:
    def __init__(self, admin: httpx.Client) -> None:
        self.admin = admin
        self.ids: list[str] = []

    def subscribe(self, url: str, events: list[str], secret: str = SECRET) -> dict[str, Any]:
        response = self.admin.post(
            "/v1/admin/webhooks", json={"url": url, "events": events, "secret": secret}
        )
        assert response.status_code == 201, response.text
        self.ids.append(response.json()["id"])
        return dict(response.json())

    def deliveries(self, hook_id: str) -> list[dict[str, Any]]:
        response = self.admin.get(f"/v1/admin/webhooks/{hook_id}/deliveries")
        assert response.status_code == 200, response.text
        return list(response.json()["data"])

    def wait_status(self, hook_id: str, status: str, timeout: float = 15.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            found = [d for d in self.deliveries(hook_id) if d["status"] == status]
            if found:
                return found[0]
            assert time.monotonic() < deadline, self.deliveries(hook_id)
            time.sleep(0.05)


@pytest.fixture
def hooks(admin: httpx.Client) -> Iterator[Hooks]:
    made = Hooks(admin)
    yield made
    for hook_id in made.ids:
        admin.delete(f"/v1/admin/webhooks/{hook_id}")


def signed_correctly(post: Received, secret: str = SECRET) -> bool:
    stamp = post.headers["x-router-timestamp"]
    text = stamp.encode() + b"." + post.body
    expected = "v1=" + hmac.new(secret.encode(), text, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, post.headers["x-router-signature"])


def test_key_events_are_signed_over_timestamp_and_body(admin: httpx.Client, hooks: Hooks) -> None:
    with Receiver() as receiver:
        hooks.subscribe(receiver.url, ["key.created", "key.revoked"])
        created = make_key(admin, owner="hooks")
        assert admin.delete(f"/v1/admin/keys/{created['id']}").status_code == 200
        posts = receiver.wait_for(2)
    events = [p.event for p in posts]
    assert [e["type"] for e in events] == ["key.created", "key.revoked"]
    for post, event in zip(posts, events, strict=True):
        assert set(event) == {"id", "type", "created_at", "data"}
        assert event["data"]["key_id"] == created["id"] and event["data"]["owner"] == "hooks"
        assert post.headers["x-router-event-id"] == event["id"]
        assert post.headers["x-router-event"] == event["type"]
        assert abs(time.time() - int(post.headers["x-router-timestamp"])) < 300
        assert signed_correctly(post)
        assert not signed_correctly(post, "another-secret-0123456789")
    assert "key" not in events[0]["data"]


def test_failures_are_retried_with_growing_delays(admin: httpx.Client, hooks: Hooks) -> None:
    with Receiver(fail_first=2) as receiver:
        hook = hooks.subscribe(receiver.url, ["key.created"])
        make_key(admin)
        posts = receiver.wait_for(3)
        delivery = hooks.wait_status(hook["id"], "delivered")
    assert [p.answered for p in posts] == [500, 500, 200]
    assert len({p.headers["x-router-event-id"] for p in posts}) == 1
    assert all(signed_correctly(p) for p in posts)
    # base 0.1 s in the tests: the second wait is at least twice the first
    assert posts[1].at - posts[0].at >= 0.1
    assert posts[2].at - posts[1].at >= 0.2
    assert delivery["attempts"] == 3 and delivery["last_status_code"] == 200
    assert [a["status_code"] for a in delivery["attempt_log"]] == [500, 500, 200]


def test_gives_up_after_the_last_attempt_then_redelivers(admin: httpx.Client, hooks: Hooks) -> None:
    with Receiver(fail_all=True) as receiver:
        hook = hooks.subscribe(receiver.url, ["key.created"])
        make_key(admin)
        failed = hooks.wait_status(hook["id"], "failed")
        assert failed["attempts"] == 4 and failed["last_status_code"] == 500
        assert len(receiver.received) == 4
        receiver.fail_all = False
        again = admin.post(f"/v1/admin/webhooks/{hook['id']}/deliveries/{failed['id']}/redeliver")
        assert again.status_code == 202, again.text
        assert again.json()["event_id"] == failed["event_id"]
        delivered = hooks.wait_status(hook["id"], "delivered")
        post = receiver.wait_for(5)[-1]
    assert delivered["id"] == again.json()["id"]
    assert post.headers["x-router-event-id"] == failed["event_id"] and signed_correctly(post)
    log = hooks.deliveries(hook["id"])
    assert {d["status"] for d in log} == {"failed", "delivered"}


def test_a_slow_receiver_never_slows_a_request(
    router: Router, admin: httpx.Client, hooks: Hooks
) -> None:
    with Receiver(delay=3.0) as receiver:
        hooks.subscribe(receiver.url, ["request.error"])
        key = make_key(admin)["key"]
        with router.client(key) as client:
            response = chat(client, "mock:error_500")
        finished_when_answered = receiver.finished
        post = receiver.wait_for(1)[0]
    assert response.status_code >= 500
    assert finished_when_answered == 0
    event = post.event
    assert event["type"] == "request.error"
    assert event["data"]["model"] == "gpt-4o-mini" and event["data"]["upstream_status"] == 500


def test_budget_thresholds_are_pushed_once_each(
    router: Router, admin: httpx.Client, hooks: Hooks
) -> None:
    with Receiver() as receiver:
        hooks.subscribe(receiver.url, ["budget.threshold"])
        created = make_key(admin, budget_usd="0.000022", budget_period="total")
        with router.client(created["key"]) as client:
            statuses = [chat(client, "t", max_tokens=5).status_code for _ in range(6)]
        posts = receiver.wait_for(3)
        time.sleep(0.5)  # nothing more may come
        events = [p.event["data"] for p in receiver.received]
    assert statuses[0] == 200 and statuses[-1] == 429
    assert [e["threshold_percent"] for e in events] == [50, 80, 100]
    assert [e["refused"] for e in events] == [False, False, True]
    assert all(e["key_id"] == created["id"] for e in events)
    assert all(Decimal(e["spent_usd"]) <= Decimal("0.000022") for e in events)
    assert all(signed_correctly(p) for p in posts)


def test_stored_events_survive_a_restart(router: Router, hooks: Hooks) -> None:
    """A process that stops before sending leaves its events to the next one."""
    from model_router.services.webhooks.dispatcher import Dispatcher, Policy

    with Receiver() as receiver:
        hook = hooks.subscribe(receiver.url, ["key.revoked"])
        marker = uuid.uuid4().hex

        async def emit_then_stop(sessions: Any) -> None:
            leaving = Dispatcher(sessions, Policy())
            await leaving.load()  # subscriptions only: this process never sends
            leaving.emit("key.revoked", {"key_id": marker}, None)
            await leaving.stop()

        router.run(emit_then_stop)
        post = receiver.wait_for(1)[0]
        delivered = hooks.wait_status(hook["id"], "delivered")
    assert post.event["data"]["key_id"] == marker and signed_correctly(post)
    assert delivered["event_id"] == post.event["id"]


def test_webhook_api_validates_and_scopes(router: Router, admin: httpx.Client) -> None:
    bad_event = admin.post(
        "/v1/admin/webhooks", json={"url": "http://127.0.0.1:9/x", "events": ["key.eaten"]}
    )
    assert "key.eaten" in assert_error(bad_event, 422, param="events")["message"]
    assert_error(
        admin.post("/v1/admin/webhooks", json={"url": "not a url", "events": ["*"]}),
        422,
        param="url",
    )
    assert_error(
        admin.post(
            "/v1/admin/webhooks",
            json={"url": "http://127.0.0.1:9/x", "events": ["*"], "secret": "short"},
        ),
        422,
        param="secret",
    )
    made = admin.post("/v1/admin/webhooks", json={"url": "http://127.0.0.1:9/x", "events": ["*"]})
    assert made.status_code == 201 and made.json()["secret"].startswith("whsec_")
    hook_id = made.json()["id"]
    listed = admin.get("/v1/admin/webhooks").json()["data"]
    assert hook_id in {h["id"] for h in listed} and all("secret" not in h for h in listed)
    team_admin = make_key(admin, owner="team-hooks", is_admin=True)
    with router.client(team_admin["key"]) as team:
        assert_error(team.get(f"/v1/admin/webhooks/{hook_id}"), 404)
        assert_error(team.get(f"/v1/admin/webhooks/{hook_id}/deliveries"), 404)
        assert_error(team.delete(f"/v1/admin/webhooks/{hook_id}"), 404)
    assert admin.delete(f"/v1/admin/webhooks/{hook_id}").status_code == 200
    assert_error(admin.get(f"/v1/admin/webhooks/{hook_id}"), 404)


def test_circuit_changes_are_pushed(router: Router, admin: httpx.Client, hooks: Hooks) -> None:
    """Failures open a deployment's circuit, a success after the cooldown closes it."""
    from model_router.app import create_app
    from tests.mocks.server import ServerThread

    settings = router.settings.model_copy(
        update={
            "router_circuit_failures": 2,
            "router_circuit_window": 1000,
            "router_circuit_cooldown": 0.2,
        }
    )
    key = make_key(admin)["key"]
    with Receiver() as receiver:
        hooks.subscribe(receiver.url, ["deployment.circuit_opened", "deployment.circuit_closed"])
        with (
            ServerThread(create_app(settings), lifespan="on") as server,
            httpx.Client(base_url=server.url, headers={"authorization": f"Bearer {key}"}) as client,
        ):
            for _ in range(2):
                assert chat(client, "mock:error_500").status_code >= 500
            opened = receiver.wait_for(1)[0].event
            time.sleep(0.3)  # the cooldown, then a probe that succeeds
            deadline = time.monotonic() + 10
            while chat(client, "hi").status_code != 200:
                assert time.monotonic() < deadline
                time.sleep(0.1)
            closed = receiver.wait_for(2)[1].event
    assert opened["type"] == "deployment.circuit_opened"
    assert opened["data"]["state"] == "open" and "gpt-4o-mini" in opened["data"]["deployment"]
    assert closed["type"] == "deployment.circuit_closed"
    assert closed["data"]["deployment"] == opened["data"]["deployment"]


def test_cli_key_events_are_delivered_by_the_running_router(
    router: Router, hooks: Hooks, monkeypatch: pytest.MonkeyPatch
) -> None:
    from click.testing import CliRunner

    from model_router.cli import main

    monkeypatch.setenv("DATABASE_URL", router.database_url)
    with Receiver() as receiver:
        hooks.subscribe(receiver.url, ["key.created"])
        made = CliRunner().invoke(main, ["keys", "create", "--name", "from-cli"])
        assert made.exit_code == 0, made.output
        post = receiver.wait_for(1)[0]
    assert post.event["data"]["name"] == "from-cli" and signed_correctly(post)
    assert made.output.strip().splitlines()[-1].startswith(post.event["data"]["prefix"])
