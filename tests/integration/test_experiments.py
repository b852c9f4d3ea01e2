"""A/B experiments: the admin API, sticky assignment, split proportions,
feedback from the requester only, and the per-variant report."""

from __future__ import annotations

import math
import uuid
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from model_router.schemas.experiments import VariantSpec
from model_router.services.experiments import ExperimentInfo
from tests.conftest import Router
from tests.helpers import assert_error, request_detail


def _spec(**extra: Any) -> dict[str, Any]:
    return {
        "name": f"exp-{uuid.uuid4().hex[:8]}",
        "target": f"ab-{uuid.uuid4().hex[:8]}",
        "variants": [
            {"name": "mini", "model": "gpt-4o-mini", "weight": 1},
            {"name": "big", "model": "gpt-4o", "params": {"temperature": 0.2}, "weight": 1},
        ],
        **extra,
    }


def _info(weights: tuple[float, ...], traffic: float = 100) -> ExperimentInfo:
    now = datetime.now(UTC)
    return ExperimentInfo(
        id=uuid.uuid4(),
        name="split",
        target="t",
        variants=tuple(VariantSpec(name=f"v{i}", weight=w) for i, w in enumerate(weights)),
        traffic_percent=traffic,
        status="running",
        start_at=None,
        stop_at=None,
        created_at=now,
        updated_at=now,
    )


def _within(count: int, n: int, share: float) -> bool:
    """Within 4 standard deviations of the binomial expectation."""
    return abs(count - n * share) <= 4 * math.sqrt(n * share * (1 - share))


def test_split_follows_the_weights_over_2000_users() -> None:
    experiment = _info((70, 30))
    counts = Counter(
        v.name for u in range(2000) if (v := experiment.assign("key", f"user-{u}")) is not None
    )
    assert sum(counts.values()) == 2000
    assert _within(counts["v0"], 2000, 0.7) and _within(counts["v1"], 2000, 0.3)


def test_traffic_percent_enrols_that_share_of_users() -> None:
    experiment = _info((1, 1), traffic=10)
    enrolled = [experiment.assign("key", f"user-{u}") for u in range(2000)]
    assert _within(sum(v is not None for v in enrolled), 2000, 0.1)


def test_assignment_is_sticky_and_depends_on_key_and_user() -> None:
    experiment = _info((1, 1, 1))
    first = [experiment.assign("key", f"u{n}") for n in range(50)]
    assert [experiment.assign("key", f"u{n}") for n in range(50)] == first
    other_key = [experiment.assign("other", f"u{n}") for n in range(50)]
    assert other_key != first


def test_admin_api_creates_lists_updates_and_rejects_bad_input(
    admin: httpx.Client, api: httpx.Client
) -> None:
    created = admin.post("/v1/admin/experiments", json=_spec())
    assert created.status_code == 201, created.text
    experiment = created.json()
    assert experiment["active"] is True and experiment["status"] == "running"
    listed = admin.get("/v1/admin/experiments").json()["experiments"]
    assert experiment["id"] in [e["id"] for e in listed]
    patched = admin.patch(
        f"/v1/admin/experiments/{experiment['id']}", json={"status": "stopped"}
    ).json()
    assert patched["active"] is False and patched["status"] == "stopped"
    assert admin.get(f"/v1/admin/experiments/{experiment['id']}").json()["status"] == "stopped"
    assert_error(api.get("/v1/admin/experiments"), 403)
    assert_error(admin.post("/v1/admin/experiments", json=_spec(variants=[])), 422)
    twins = _spec()
    twins["variants"][1]["name"] = "mini"
    assert_error(admin.post("/v1/admin/experiments", json=twins), 422)
    bad_param = _spec()
    bad_param["variants"][0]["params"] = {"messages": []}
    assert_error(admin.post("/v1/admin/experiments", json=bad_param), 422)
    again = _spec(name=experiment["name"])
    assert_error(admin.post("/v1/admin/experiments", json=again), 400, param="name")
    assert_error(admin.get(f"/v1/admin/experiments/{uuid.uuid4()}"), 404)
    assert_error(admin.patch("/v1/admin/experiments/nope", json={}), 404)
    path = f"/v1/admin/experiments/{experiment['id']}"
    assert_error(admin.patch(path, json={"variants": None}), 400, param="variants")
    assert_error(admin.patch(path, json={"weight": 3}), 422)
    assert_error(admin.post("/v1/admin/experiments", json=_spec(name="nul\x00")), 422)
    backwards = _spec(start_at="2030-01-02T00:00:00", stop_at="2030-01-01T00:00:00+00:00")
    assert_error(admin.post("/v1/admin/experiments", json=backwards), 422)
    window = admin.patch(
        path, json={"status": "running", "start_at": "2030-01-01T00:00:00", "stop_at": None}
    )
    assert window.status_code == 200, window.text
    assert window.json()["start_at"].startswith("2030-01-01T00:00:00")
    assert window.json()["active"] is False  # not started yet
    assert_error(admin.patch(path, json={"stop_at": "2029-12-31T00:00:00Z"}), 400, param="stop_at")


def test_callers_are_routed_to_their_variant_and_it_is_recorded(
    router: Router, admin: httpx.Client, api: httpx.Client, user_key: str
) -> None:
    experiment = admin.post("/v1/admin/experiments", json=_spec()).json()
    seen: dict[str, str] = {}
    for n in range(30):
        user = f"user-{n}"
        body = {
            "model": experiment["target"],
            "user": user,
            "messages": [{"role": "user", "content": "which variant?"}],
        }
        response = api.post("/v1/chat/completions", json=body)
        assert response.status_code == 200, response.text
        variant = response.headers["x-router-variant"]
        assert response.headers["x-router-experiment"] == experiment["id"]
        assert response.json()["model"] == ("gpt-4o-mini" if variant == "mini" else "gpt-4o")
        if variant == "big":
            assert router.openai.state.last().body["temperature"] == 0.2
        seen[user] = variant
        again = api.post("/v1/chat/completions", json=body)
        assert again.headers["x-router-variant"] == variant  # sticky
        row = request_detail(api, response.json()["id"])
        assert row["experiment_id"] == experiment["id"] and row["variant"] == variant
    assert set(seen.values()) == {"mini", "big"}
    admin.patch(f"/v1/admin/experiments/{experiment['id']}", json={"status": "stopped"})
    stopped = api.post(
        "/v1/chat/completions",
        json={"model": experiment["target"], "messages": [{"role": "user", "content": "x"}]},
    )
    assert_error(stopped, 404, param="model")  # no experiment: the target is no model


def _ask(api: httpx.Client, target: str, user: str, **extra: Any) -> httpx.Response:
    body = {"model": target, "user": user, "messages": [{"role": "user", "content": "hi"}]}
    return api.post("/v1/chat/completions", json={**body, **extra})


def test_feedback_only_from_the_caller_who_made_the_request(
    router: Router, api: httpx.Client, admin: httpx.Client
) -> None:
    experiment = admin.post("/v1/admin/experiments", json=_spec()).json()
    response = _ask(api, experiment["target"], "fb-user")
    request_id = response.json()["id"]
    rated = api.post("/v1/feedback", json={"request_id": request_id, "score": 4, "comment": "ok"})
    assert rated.status_code == 201, rated.text
    assert rated.json()["experiment_id"] == experiment["id"]
    assert rated.json()["variant"] == response.headers["x-router-variant"]
    with router.client(router.new_key()) as stranger:
        assert_error(
            stranger.post("/v1/feedback", json={"request_id": request_id, "score": 1}), 404
        )
    assert_error(admin.post("/v1/feedback", json={"request_id": request_id, "score": 1}), 404)
    assert_error(api.post("/v1/feedback", json={"request_id": str(uuid.uuid4()), "score": 1}), 404)
    assert_error(api.post("/v1/feedback", json={"request_id": request_id, "score": 11}), 422)
    assert_error(api.post("/v1/feedback", json={"request_id": "nope", "score": 1}), 422)


def test_report_per_variant_matches_hand_computed_values(
    api: httpx.Client, admin: httpx.Client
) -> None:
    spec = _spec()
    spec["variants"][1]["params"] = {}
    experiment = admin.post("/v1/admin/experiments", json=spec).json()
    target = experiment["target"]
    ok: dict[str, list[str]] = {"mini": [], "big": []}
    n = 0
    while min(len(v) for v in ok.values()) < 4:
        response = _ask(api, target, f"report-{n}")
        ok[response.headers["x-router-variant"]].append(response.json()["id"])
        n += 1
    # Errors, recorded with their variant: a temperature out of range is a 400.
    errors = {"mini": 0, "big": 0}
    n = 0
    while min(errors.values()) < 1:
        response = _ask(api, target, f"report-error-{n}", temperature=5)
        assert response.status_code == 400
        errors[response.headers["x-router-variant"]] += 1
        n += 1
    for request_id, score in zip(ok["mini"][:4], [1, 0, 1, 1], strict=True):
        rated = api.post("/v1/feedback", json={"request_id": request_id, "score": score})
        assert rated.status_code == 201
    for request_id, score in zip(ok["big"][:4], [0, 0, 1, 0], strict=True):
        rated = api.post("/v1/feedback", json={"request_id": request_id, "score": score})
        assert rated.status_code == 201

    report = admin.get(f"/v1/analytics/experiments/{experiment['id']}").json()
    stats = {v["variant"]: v for v in report["variants"]}
    for name in ("mini", "big"):
        requests = len(ok[name]) + errors[name]
        assert stats[name]["requests"] == requests and stats[name]["errors"] == errors[name]
        assert stats[name]["error_rate"] == pytest.approx(errors[name] / requests)
    # gpt-4o-mini: 10 in, 5 out at 0.15 / 0.60 per 1M = 0.0000045; gpt-4o at 2.5 / 10 = 0.000075
    assert stats["mini"]["cost_per_request_usd"] == 0.0000045
    assert stats["big"]["cost_per_request_usd"] == 0.000075
    # mini: 1, 0, 1, 1 -> 0.75 ± 3.1824 * 0.5 / 2; big: 0, 0, 1, 0 -> 0.25, same width
    assert stats["mini"]["feedback_mean"] == 0.75 and stats["big"]["feedback_mean"] == 0.25
    low, high = stats["mini"]["feedback_ci95"]
    assert low == pytest.approx(-0.04561, abs=1e-4) and high == pytest.approx(1.54561, abs=1e-4)
    assert stats["mini"]["latency_p50_ms"] is not None
    (comparison,) = report["comparisons"]
    # Welch: t = (0.25 - 0.75) / sqrt(0.25/4 + 0.25/4) = -1.414214, df = 6
    assert comparison["feedback"]["test"] == "welch_t"
    assert comparison["feedback"]["statistic"] == pytest.approx(-1.414214, abs=1e-6)
    assert comparison["feedback"]["df"] == 6
    assert comparison["feedback"]["p_value"] == pytest.approx(0.2070, abs=1e-3)
    assert comparison["feedback"]["significant"] is False
    assert comparison["error_rate"]["test"] == "two_proportion_z"
    n1, x1 = len(ok["big"]) + errors["big"], errors["big"]
    n2, x2 = len(ok["mini"]) + errors["mini"], errors["mini"]
    pooled = (x1 + x2) / (n1 + n2)
    z = (x1 / n1 - x2 / n2) / math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    assert comparison["error_rate"]["statistic"] == pytest.approx(z, abs=1e-6)
    assert comparison["error_rate"]["p_value"] == pytest.approx(math.erfc(abs(z) / math.sqrt(2)))
    assert report["alpha"] == 0.05
    assert_error(api.get(f"/v1/analytics/experiments/{experiment['id']}"), 403)
    assert_error(admin.get(f"/v1/analytics/experiments/{uuid.uuid4()}"), 404)
