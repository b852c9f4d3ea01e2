"""The admin keys API: create (shown once), list, read, change, revoke; who may."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx
import pytest

from tests.conftest import Router
from tests.governance import key_state, make_key
from tests.helpers import assert_error, chat

FIELDS = {
    "id",
    "name",
    "owner",
    "prefix",
    "is_admin",
    "is_active",
    "allowed_models",
    "rpm_limit",
    "tpm_limit",
    "budget_usd",
    "budget_period",
    "expires_at",
    "metadata",
    "store_text",
    "spend_usd",
    "period_start",
    "period_resets_at",
    "created_at",
    "revoked_at",
}


def test_created_key_is_shown_once_and_works(router: Router, admin: httpx.Client) -> None:
    expires = (datetime.now(UTC) + timedelta(days=30)).replace(microsecond=0)
    created = make_key(
        admin,
        owner="search-team",
        allowed_models=["gpt-4o*"],
        rpm_limit=100,
        tpm_limit=50_000,
        budget_usd="12.50",
        budget_period="month",
        expires_at=expires.isoformat(),
        metadata={"cost_center": "42"},
        store_text=False,
    )
    assert set(created) >= FIELDS
    assert created["key"].startswith("mr-") and created["key"].startswith(created["prefix"])
    assert created["budget_usd"] == "12.5" and created["spend_usd"] == "0"
    assert created["budget_period"] == "month" and created["owner"] == "search-team"
    assert created["allowed_models"] == ["gpt-4o*"] and created["store_text"] is False
    assert datetime.fromisoformat(created["expires_at"]) == expires
    assert datetime.fromisoformat(created["period_resets_at"]) > datetime.now(UTC)
    shown = key_state(admin, created["id"])
    assert "key" not in shown
    assert {k: v for k, v in created.items() if k != "key"} == shown
    listed = admin.get("/v1/admin/keys").json()["data"]
    assert created["id"] in {k["id"] for k in listed}
    with router.client(created["key"]) as client:
        assert chat(client, "hi").status_code == 200


def test_patch_changes_only_what_is_sent_and_null_clears(admin: httpx.Client) -> None:
    created = make_key(admin, rpm_limit=5, tpm_limit=1000, budget_usd=3)
    changed = admin.patch(
        f"/v1/admin/keys/{created['id']}", json={"rpm_limit": 7, "tpm_limit": None}
    )
    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert body["rpm_limit"] == 7 and body["tpm_limit"] is None
    assert body["budget_usd"] == "3" and body["name"] == created["name"]


def test_delete_revokes_and_keeps_the_key_listed(router: Router, admin: httpx.Client) -> None:
    created = make_key(admin)
    with router.client(created["key"]) as client:
        assert chat(client, "before").status_code == 200
        revoked = admin.delete(f"/v1/admin/keys/{created['id']}")
        assert revoked.status_code == 200
        assert revoked.json()["is_active"] is False and revoked.json()["revoked_at"]
        assert assert_error(chat(client, "after"), 403)["code"] == "key_revoked"
    assert key_state(admin, created["id"])["is_active"] is False


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v1/admin/keys"),
        ("POST", "/v1/admin/keys"),
        ("GET", "/v1/admin/keys/00000000-0000-0000-0000-000000000000"),
        ("PATCH", "/v1/admin/keys/00000000-0000-0000-0000-000000000000"),
        ("DELETE", "/v1/admin/keys/00000000-0000-0000-0000-000000000000"),
        ("GET", "/v1/admin/webhooks"),
        ("POST", "/v1/admin/webhooks"),
    ],
)
def test_normal_key_gets_403_on_admin_endpoints(api: httpx.Client, method: str, path: str) -> None:
    body = {"name": "x"} if method in ("POST", "PATCH") else None
    error = assert_error(api.request(method, path, json=body), 403)
    assert error["code"] == "admin_required"


def test_team_admin_sees_only_its_owners_keys(router: Router, admin: httpx.Client) -> None:
    team_admin = make_key(admin, owner="team-a", is_admin=True)
    other = make_key(admin, owner="team-b")
    with router.client(team_admin["key"]) as team:
        mine = team.post("/v1/admin/keys", json={"name": "a-worker"})
        assert mine.status_code == 201 and mine.json()["owner"] == "team-a"
        listed = {k["id"] for k in team.get("/v1/admin/keys").json()["data"]}
        assert mine.json()["id"] in listed and other["id"] not in listed
        for method in ("GET", "PATCH", "DELETE"):
            body = {"rpm_limit": 1} if method == "PATCH" else None
            response = team.request(method, f"/v1/admin/keys/{other['id']}", json=body)
            assert assert_error(response, 404)["code"] == "key_not_found"
        assert_error(team.post("/v1/admin/keys", json={"name": "x", "owner": "team-b"}), 403)
    assert key_state(admin, other["id"])["is_active"] is True


def test_unknown_key_id_is_404(admin: httpx.Client) -> None:
    assert_error(admin.get("/v1/admin/keys/not-a-uuid"), 404)
    assert_error(admin.get("/v1/admin/keys/00000000-0000-0000-0000-000000000000"), 404)


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"rpm_limit": 0}, "rpm_limit"),
        ({"rpm_limit": -5}, "rpm_limit"),
        ({"tpm_limit": "many"}, "tpm_limit"),
        ({"budget_usd": "-1"}, "budget_usd"),
        ({"budget_usd": "ten dollars"}, "budget_usd"),
        ({"budget_usd": "NaN"}, "budget_usd"),
        ({"budget_usd": "1e12"}, "budget_usd"),
        ({"budget_period": "week", "budget_usd": 1}, "budget_period"),
        ({"expires_at": "next tuesday"}, "expires_at"),
        ({"allowed_models": "gpt-4o"}, "allowed_models"),
        ({"rate_limit": 5}, "rate_limit"),
    ],
)
def test_invalid_limits_are_422_naming_the_field(
    admin: httpx.Client, body: dict[str, object], param: str
) -> None:
    response = admin.post("/v1/admin/keys", json={"name": "bad", **body})
    error = assert_error(response, 422, param=param)
    assert param in error["message"]
    created = make_key(admin)
    patched = admin.patch(f"/v1/admin/keys/{created['id']}", json=body)
    assert_error(patched, 422, param=param)


def test_expired_key_is_401(router: Router, admin: httpx.Client) -> None:
    past = (datetime.now(UTC) - timedelta(seconds=1)).isoformat()
    created = make_key(admin, expires_at=past)
    with router.client(created["key"]) as client:
        error = assert_error(chat(client, "hi"), 401)
        assert error["code"] == "key_expired"
        assert assert_error(client.get("/v1/models"), 401)["code"] == "key_expired"
    soon = make_key(admin, expires_at=(datetime.now(UTC) + timedelta(hours=1)).isoformat())
    with router.client(soon["key"]) as client:
        assert chat(client, "hi").status_code == 200


def test_model_outside_allowed_patterns_is_403(router: Router, admin: httpx.Client) -> None:
    created = make_key(admin, allowed_models=["gpt-4o*", "anthropic/*"])
    with router.client(created["key"]) as client:
        assert chat(client, "hi", model="gpt-4o-mini").status_code == 200
        assert chat(client, "hi", model="claude-haiku-4-5").status_code == 200
        error = assert_error(chat(client, "hi", model="gemini-2.5-flash"), 403, param="model")
        assert error["code"] == "model_not_allowed"


def test_spend_is_the_sum_of_the_keys_costs(router: Router, admin: httpx.Client) -> None:
    from tests.governance import logged_cost, rows_of, settled

    created = make_key(admin, budget_usd="1", budget_period="day")
    with router.client(created["key"]) as client:
        for text in ("one", "two", "three"):
            assert chat(client, text).status_code == 200
    rows_of(router, created["id"], 3)
    state = settled(admin, created["id"])
    assert Decimal(state["spend_usd"]) == logged_cost(router, created["id"]) > 0
    assert state["reserved_usd"] == "0"


def test_cli_keys_use_the_same_service_and_validation(
    router: Router, admin: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    from click.testing import CliRunner

    from model_router.cli import main

    monkeypatch.setenv("DATABASE_URL", router.database_url)
    runner = CliRunner()
    bad = runner.invoke(main, ["keys", "create", "--name", "c", "--budget", "-3"])
    assert bad.exit_code == 2 and "--budget" in bad.output
    made = runner.invoke(
        main,
        [
            "keys",
            "create",
            "--name",
            "cli-governed",
            "--owner",
            "cli-team",
            "--rpm",
            "7",
            "--budget",
            "2.5",
            "--budget-period",
            "day",
            "--allowed-model",
            "gpt-4o*",
            "--no-store-text",
        ],
    )
    assert made.exit_code == 0, made.output
    key = made.output.strip().splitlines()[-1]
    shown = [k for k in admin.get("/v1/admin/keys").json()["data"] if k["prefix"] == key[:10]]
    assert len(shown) == 1
    assert (shown[0]["rpm_limit"], shown[0]["budget_usd"], shown[0]["budget_period"]) == (
        7,
        "2.5",
        "day",
    )
    assert shown[0]["allowed_models"] == ["gpt-4o*"] and shown[0]["store_text"] is False
    updated = runner.invoke(main, ["keys", "update", shown[0]["id"], "--rpm", "9"])
    assert updated.exit_code == 0, updated.output
    assert key_state(admin, shown[0]["id"])["rpm_limit"] == 9
    assert "cli-team" in runner.invoke(main, ["keys", "list"]).output


def test_a_key_without_budget_reports_this_months_logged_spend(
    router: Router, admin: httpx.Client
) -> None:
    from tests.governance import logged_cost

    created = make_key(admin)
    with router.client(created["key"]) as client:
        for text in ("one", "two"):
            assert chat(client, text).status_code == 200
    state = key_state(admin, created["id"])
    assert Decimal(state["spend_usd"]) == logged_cost(router, created["id"]) > 0
    assert state["budget_usd"] is None and state["period_resets_at"]


def test_fallbacks_outside_allowed_models_are_skipped(router: Router, admin: httpx.Client) -> None:
    restricted = make_key(admin, allowed_models=["gpt-4o*"])
    unrestricted = make_key(admin)
    before = len(router.anthropic.state.requests)
    with router.client(restricted["key"]) as client:
        failed = chat(client, "mock:error_500", models=["claude-haiku-4-5"])
    assert failed.status_code >= 500
    assert len(router.anthropic.state.requests) == before
    with router.client(unrestricted["key"]) as client:
        chat(client, "mock:error_500", models=["claude-haiku-4-5"])
    assert len(router.anthropic.state.requests) > before
