"""Learned routing in the running router: pools checked at start, feedback on a
pool's decision reaches its arms, and the pool's report over HTTP."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from model_router.app import create_app
from model_router.routing.config import RoutingConfigError, parse_config
from model_router.routing.learned.learner import DecisionRecord
from model_router.routing.learned.runtime import LearnedRouting
from model_router.routing.learned.store import SqlStore
from tests.conftest import Router
from tests.helpers import assert_error
from tests.mocks.server import ServerThread


async def key_of(sessions: Any, key: str) -> uuid.UUID:
    from sqlalchemy import select

    from model_router.db.models import User
    from model_router.services.keys import hash_key

    async with sessions() as session:
        found = await session.scalar(select(User.id).where(User.key_hash == hash_key(key)))
    assert found is not None
    return found


POOLS = """\
default_model: gpt-4o
pools:
  auto-test:
    candidates: [gpt-4o-mini, gpt-4o]
"""


@pytest.fixture(scope="module")
def served(router: Router, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Any]]:
    path: Path = tmp_path_factory.mktemp("pools") / "routing.yaml"
    path.write_text(POOLS)
    settings = router.settings.model_copy(
        update={"router_config": path, "learned_routing_flush_seconds": 0.05}
    )
    app = create_app(settings)
    with ServerThread(app, lifespan="on") as server:
        yield server.url, app


def _client(url: str, key: str) -> httpx.Client:
    return httpx.Client(base_url=url, headers={"authorization": f"Bearer {key}"}, timeout=30)


def _decision(request_id: uuid.UUID, key_id: uuid.UUID | None) -> DecisionRecord:
    from datetime import UTC, datetime

    return DecisionRecord(  # what the service would log for a pool's call
        request_id=request_id,
        created_at=datetime.now(UTC),
        pool="auto-test",
        task_class="size=xs,tools=no,images=no,output=text,code=no,turns=1,script=latin",
        features={"size": "xs"},
        chosen="gpt-4o-mini",
        answered_by="gpt-4o-mini",
        probability=0.95,
        default_model="gpt-4o",
        default_probability=0.05,
        explored=False,
        candidates=[],
        estimated_cost_usd=Decimal("0.0001"),
        default_cost_usd=Decimal("0.002"),
        cost_usd=Decimal("0.0001"),
        extra_spend_usd=Decimal(0),
        quality=None,
        quality_source="success",
        key_id=key_id,
        reason="pool auto-test: gpt-4o-mini",
    )


def test_feedback_on_a_pools_decision_teaches_its_arm_and_shows_in_the_report(
    router: Router, served: tuple[str, Any]
) -> None:
    url, _app = served
    user, admin = router.new_key(name="pool-user"), router.new_key(admin=True)
    with _client(url, user) as api:
        answer = api.post(
            "/v1/chat/completions",
            json={"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]},
        )
        assert answer.status_code == 200, answer.text
        request_id = uuid.UUID(answer.json()["id"])

        async def insert(sessions: Any) -> None:
            key_id = await key_of(sessions, user)
            await SqlStore(sessions.kw["bind"]).write([_decision(request_id, key_id)], [])

        router.run(insert)
        seen = api.get(f"/v1/analytics/routing/decisions/{request_id}")
        assert seen.status_code == 200, seen.text
        assert seen.json()["chosen_model"] == "gpt-4o-mini"
        assert seen.json()["features"] == {"size": "xs"}
        with _client(url, router.new_key(name="stranger")) as stranger:
            assert_error(stranger.get(f"/v1/analytics/routing/decisions/{request_id}"), 404)
        rated = api.post("/v1/feedback", json={"request_id": str(request_id), "score": 9})
        assert rated.status_code == 201, rated.text

    async def stored(sessions: Any) -> DecisionRecord | None:
        return await SqlStore(sessions.kw["bind"]).decision(request_id)

    deadline = time.monotonic() + 20
    record = router.run(stored)
    while record.quality is None and time.monotonic() < deadline:
        time.sleep(0.05)
        record = router.run(stored)
    assert (record.quality, record.quality_source) == (0.9, "feedback")

    with _client(url, admin) as client:
        report = client.get("/v1/analytics/routing/pools/auto-test", params={"days": 1})
    assert report.status_code == 200, report.text
    body = report.json()
    assert body["pool"] == "auto-test" and body["default_model"] == "gpt-4o"
    assert body["requests"] >= 1
    (chosen,) = [c for c in body["classes"] if c["task_class"].startswith("size=xs")]
    assert chosen["models"][0]["model"] == "gpt-4o-mini"
    assert chosen["models"][0]["quality"]["estimate"] == pytest.approx(0.9)


def test_the_cli_prints_the_pool_report(
    router: Router, served: tuple[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from click.testing import CliRunner

    from model_router.cli import main

    path = tmp_path / "routing.yaml"
    path.write_text(POOLS)
    monkeypatch.setenv("DATABASE_URL", router.database_url)
    monkeypatch.setenv("ROUTER_CONFIG", str(path))
    text = CliRunner().invoke(main, ["routing", "report", "--pool", "auto-test", "--days", "2"])
    assert text.exit_code == 0, text.output
    assert text.output.startswith("pool auto-test: ")
    assert "savings:" in text.output and "quality:" in text.output
    as_json = CliRunner().invoke(main, ["routing", "report", "--pool", "auto-test", "--json"])
    assert as_json.exit_code == 0 and '"pool":"auto-test"' in as_json.output
    missing = CliRunner().invoke(main, ["routing", "report", "--pool", "nope"])
    assert missing.exit_code != 0 and "no pool 'nope'" in missing.output


def test_the_pools_and_their_reports_are_for_admins_and_name_only_known_pools(
    router: Router, served: tuple[str, Any]
) -> None:
    url, _app = served
    with _client(url, router.new_key()) as api:
        assert_error(api.get("/v1/analytics/routing/pools/auto-test"), 403)
        assert_error(api.get("/v1/analytics/routing/pools"), 403)
    with _client(url, router.new_key(admin=True)) as admin:
        assert_error(admin.get("/v1/analytics/routing/pools/nope"), 404, param="name")
        assert_error(admin.get("/v1/analytics/routing/pools/auto-test?days=0"), 422)


def test_admins_list_the_configured_pools_with_candidates_and_default(
    router: Router, served: tuple[str, Any]
) -> None:
    url, _app = served
    with _client(url, router.new_key(admin=True)) as admin:
        listed = admin.get("/v1/analytics/routing/pools")
    assert listed.status_code == 200, listed.text
    assert listed.json() == {
        "pools": [
            {
                "name": "auto-test",
                "candidates": ["gpt-4o-mini", "gpt-4o"],
                "default_model": "gpt-4o",
                "objective": "cheapest_good_enough",
            }
        ]
    }


def test_a_router_without_pools_lists_none(router: Router) -> None:
    with router.client(router.new_key(admin=True)) as admin:
        listed = admin.get("/v1/analytics/routing/pools")
    assert listed.status_code == 200, listed.text
    assert listed.json() == {"pools": []}


@pytest.mark.parametrize(
    ("text", "field", "problem"),
    [
        (
            "pools:\n  p:\n    candidates: [gpt-4o-mini, no-such-model]\n",
            "pools.p.candidates[1]",
            "'no-such-model' is neither in the catalogue nor in this file",
        ),
        ("pools:\n  gpt-4o:\n    candidates: [gpt-4o-mini]\n", "pools.gpt-4o", "not a pool"),
        ("pools:\n  auto:\n    candidates: [gpt-4o-mini]\n", "pools.auto", "not a pool"),
    ],
)
def test_a_pool_the_router_cannot_serve_is_refused_at_start(
    served: tuple[str, Any], text: str, field: str, problem: str
) -> None:
    _url, app = served
    table = app.api.state.router.completions.router.table
    config = parse_config(text, "routing.yaml")
    learned = LearnedRouting.build(config, app.api.state.router.engine)
    with pytest.raises(RoutingConfigError) as caught:
        learned.validate(config, table)
    assert caught.value.field == field and problem in str(caught.value)
    assert str(caught.value).startswith("routing.yaml:2:")


def test_a_pool_plans_its_choice_first_and_the_other_candidates_as_fallbacks(
    served: tuple[str, Any],
) -> None:
    import random

    from model_router.domain.content import Message, Text
    from model_router.domain.request import Request
    from model_router.routing.learned.learner import Learner
    from model_router.routing.learned.plan import plan_pool

    _url, app = served
    router = app.api.state.router.completions.router
    pool = parse_config(POOLS).pools["auto-test"]
    learner = Learner({pool.name: pool}, file_default="gpt-4o", rng=random.Random(1))
    request = Request(model="auto-test", messages=[Message("user", [Text("Hello there")])])
    for _ in range(20):
        plan, decision = plan_pool(router, learner, pool, request)
        assert plan.requested == "auto-test" and plan.reason == decision.reason
        assert [r.name for r in plan.routes] == list(decision.order)
        assert plan.routes[0].name == decision.chosen
        assert {r.name for r in plan.routes} == {"gpt-4o-mini", "gpt-4o"}
        assert plan.estimated_cost == decision.estimated_cost
        assert decision.default_model == "gpt-4o" and plan.default_cost is not None
        assert decision.features is not None and decision.features.size == "xs"


def test_a_request_naming_a_pool_is_routed_by_it_logged_and_taught_by_feedback(
    router: Router, served: tuple[str, Any]
) -> None:
    url, _app = served
    user = router.new_key(name="pool-caller")
    with _client(url, user) as api:
        answer = api.post(
            "/v1/chat/completions",
            json={"model": "auto-test", "messages": [{"role": "user", "content": "hi there"}]},
        )
        assert answer.status_code == 200, answer.text
        assert answer.json()["model"] in ("gpt-4o-mini", "gpt-4o")
        assert answer.headers["x-router-reason"].startswith("pool auto-test")
        request_id = answer.json()["id"]

        deadline = time.monotonic() + 20
        seen = api.get(f"/v1/analytics/routing/decisions/{request_id}")
        while seen.status_code == 404 and time.monotonic() < deadline:
            time.sleep(0.05)
            seen = api.get(f"/v1/analytics/routing/decisions/{request_id}")
        assert seen.status_code == 200, seen.text
        decision = seen.json()
        assert decision["chosen_model"] == answer.json()["model"]
        assert 0 < decision["probability"] <= 1
        assert decision["features"]["tools"] == "no"

        detail = api.get(f"/v1/analytics/requests/{request_id}")
        while detail.status_code == 404 and time.monotonic() < deadline:
            time.sleep(0.05)
            detail = api.get(f"/v1/analytics/requests/{request_id}")
        row = detail.json()
        assert row["requested_model"] == "auto-test"
        # Savings are measured against the pool's default model, as for `auto`.
        assert row["default_cost_usd"] is not None
        assert Decimal(str(row["default_cost_usd"])) >= Decimal(str(row["total_cost_usd"]))
