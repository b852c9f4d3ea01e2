"""Tags on requests (body metadata and user, the x-router-tags header), cost by
tag and by key, and keys whose prompts and responses are not stored."""

from __future__ import annotations

from decimal import Decimal

import httpx
import pytest

from tests.conftest import Router
from tests.governance import make_key, rows_of
from tests.helpers import assert_error, chat, request_detail


def test_tags_are_stored_and_cost_groups_by_tag_and_key(
    router: Router, admin: httpx.Client
) -> None:
    created = make_key(admin)
    with router.client(created["key"]) as client:
        search = {"x-router-tags": "team=search, canary"}
        for _ in range(2):
            body = {
                "model": "gpt-4o-mini",
                "messages": [{"role": "user", "content": "q"}],
                "user": "end-user-7",
                "metadata": {"feature": "autocomplete"},
            }
            assert client.post("/v1/chat/completions", json=body, headers=search).status_code == 200
        ads = client.post(
            "/v1/chat/completions",
            json={"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "a"}]},
            headers={"x-router-tags": "team=ads"},
        )
        assert ads.status_code == 200
        rows = rows_of(router, created["id"], 3)
        tagged = [r for r in rows if r.end_user == "end-user-7"]
        assert len(tagged) == 2
        assert tagged[0].tags == {"feature": "autocomplete", "team": "search", "canary": ""}
        by_team = client.get("/v1/analytics/costs", params={"group_by": "tag:team", "days": 1})
        assert by_team.status_code == 200, by_team.text
        groups = {g["group"]: g for g in by_team.json()["groups"]}
        assert groups["search"]["requests"] == 2 and groups["ads"]["requests"] == 1
        assert Decimal(str(groups["search"]["total_cost_usd"])) == 2 * Decimal(
            str(groups["ads"]["total_cost_usd"])
        )
        only = client.get(
            "/v1/analytics/costs", params={"group_by": "end_user", "tag": "team=search"}
        ).json()
        assert [(g["group"], g["requests"]) for g in only["groups"]] == [("end-user-7", 2)]
        canary = client.get("/v1/analytics/costs", params={"tag": "canary"}).json()
        assert [(g["group"], g["requests"]) for g in canary["groups"]] == [(created["id"], 2)]
        assert canary["groups"][0]["key_name"] == created["name"]
        bad = client.get("/v1/analytics/costs", params={"group_by": "colour"})
        assert bad.status_code == 422 and bad.json()["error"]["param"] == "group_by"


@pytest.fixture(scope="module")
def tagged_key(router: Router) -> str:
    """A key with three calls: two tagged team=search and canary, one team=ads."""
    key = router.new_key(name="tagged")
    with router.client(key) as client:
        for prompt, header in [("s1", "team=search, canary"), ("s2", "canary,team=search")]:
            body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": prompt}]}
            tags = {"x-router-tags": header}
            assert client.post("/v1/chat/completions", json=body, headers=tags).status_code == 200
        assert chat(client, "ads", metadata={"team": "ads"}).status_code == 200
    return key


@pytest.mark.parametrize(
    ("tags", "expected"),
    [
        (["team=search"], {"s1", "s2"}),
        ([" team = search "], {"s1", "s2"}),  # spaces around the name and the value ignored
        (["canary"], {"s1", "s2"}),  # present, whatever its value (here: none)
        (["team"], {"s1", "s2", "ads"}),
        (["team=search", "canary"], {"s1", "s2"}),  # every one must match
        (["team=ads", "canary"], set()),
        (["team=ad"], set()),  # a value matches whole, not as a prefix
        (["colour"], set()),
        ([], {"s1", "s2", "ads"}),
    ],
)
def test_the_request_log_filters_by_tags_every_one_of_which_must_match(
    router: Router, tagged_key: str, tags: list[str], expected: set[str]
) -> None:
    with router.client(tagged_key) as client:
        response = client.get("/v1/analytics/requests", params={"tag": tags, "per_page": 100})
    assert response.status_code == 200, response.text
    page = response.json()
    assert {r["prompt_preview"].removeprefix("user: ") for r in page["requests"]} == expected
    assert page["total"] == len(expected)


def test_a_bad_tag_filter_is_a_400_naming_tag_on_both_endpoints(api: httpx.Client) -> None:
    for bad in ["=search", " ", "a\x00b", "x" * 301]:
        for path in ("/v1/analytics/requests", "/v1/analytics/costs"):
            assert_error(api.get(path, params={"tag": bad}), 400, param="tag")


def test_a_normal_key_sees_only_its_own_costs(router: Router, admin: httpx.Client) -> None:
    one, two = make_key(admin), make_key(admin)
    for created in (one, two):
        with router.client(created["key"]) as client:
            assert chat(client, "x").status_code == 200
        rows_of(router, created["id"], 1)
    with router.client(one["key"]) as client:
        groups = client.get("/v1/analytics/costs", params={"group_by": "key"}).json()["groups"]
    assert [g["group"] for g in groups] == [one["id"]]
    everyone = admin.get("/v1/analytics/costs", params={"group_by": "key"}).json()["groups"]
    assert {one["id"], two["id"]} <= {g["group"] for g in everyone}


def test_store_text_off_keeps_tokens_and_cost_but_no_text(
    router: Router, admin: httpx.Client
) -> None:
    private = make_key(admin, store_text=False)
    with router.client(private["key"]) as client:
        answer = chat(client, "my secret prompt")
        assert answer.status_code == 200
        detail = request_detail(client, answer.json()["id"])
    assert detail["input_tokens"] > 0 and Decimal(str(detail["total_cost_usd"])) > 0
    assert "my secret prompt" not in str(detail)
    assert not detail.get("response_text") and not detail.get("request_messages")
    row = rows_of(router, private["id"], 1)[0]
    assert row.prompt_text == "" and row.response_text is None and row.request_messages is None


def test_store_text_off_globally(router: Router, admin: httpx.Client) -> None:
    from model_router.app import create_app
    from tests.mocks.server import ServerThread

    settings = router.settings.model_copy(update={"store_text": False})
    created = make_key(admin)
    with (
        ServerThread(create_app(settings), lifespan="on") as server,
        httpx.Client(
            base_url=server.url, headers={"authorization": f"Bearer {created['key']}"}
        ) as client,
    ):
        assert chat(client, "never stored").status_code == 200
    row = rows_of(router, created["id"], 1)[0]
    assert row.prompt_text == "" and row.response_text is None and row.input_tokens > 0
