"""The analytics API over HTTP: usage, the request log, one request, the catalogue.

Money is read with `parse_float=Decimal`, so no float rounding can hide a wrong
sum. Most tests only read one module-wide set of calls (per backend).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest

from tests.conftest import Router
from tests.helpers import assert_error, chat, request_detail

TRICKY = "50%_off 'quote' back\\slash"
REQUESTS = "/v1/analytics/requests"


def exact(response: httpx.Response) -> Any:
    """The JSON body, every non-integer number as an exact Decimal."""
    assert response.status_code == 200, response.text
    return json.loads(response.text, parse_float=Decimal)


def listing(client: httpx.Client, **params: Any) -> dict[str, Any]:
    return dict(exact(client.get(REQUESTS, params=params)))


def previews(client: httpx.Client, **params: Any) -> list[str]:
    return [r["prompt_preview"] for r in listing(client, per_page=100, **params)["requests"]]


@dataclass(frozen=True)
class Traffic:
    a: httpx.Client
    b: httpx.Client
    admin: httpx.Client
    tag: str
    a_prompts: list[str]  # oldest first; the fourth failed upstream
    ids: dict[str, str]  # prompt -> request id, for A's successful calls
    b_ids: list[str]


@pytest.fixture(scope="module")
def traffic(router: Router) -> Iterator[Traffic]:
    """Key A: four calls to gpt-4o-mini (the fourth fails upstream), one to
    mystery-model. Key B: two calls, no `%` or `_` in its prompts."""
    tag = uuid.uuid4().hex[:12]
    prompts = [f"alpha one {tag}", f"Beta TWO {tag}", f"{TRICKY} {tag}"]
    prompts += [f"mock:error_500 {tag}", f"mystery {tag}"]
    with (
        router.client(router.new_key(name="a")) as a,
        router.client(router.new_key(name="b")) as b,
        router.client(router.new_key(admin=True, name="admin")) as admin,
    ):
        ids = {}
        for prompt in prompts:
            model = "mystery-model" if prompt.startswith("mystery") else "gpt-4o-mini"
            response = chat(a, prompt, model=model)
            if "error_500" in prompt:
                assert_error(response, 502)
            else:
                assert response.status_code == 200, response.text
                ids[prompt] = response.json()["id"]
        b_ids = [chat(b, f"plain bravo {n} {tag}").json()["id"] for n in range(2)]
        yield Traffic(a, b, admin, tag, prompts, ids, b_ids)


# --- usage -------------------------------------------------------------------------


def test_usage_sums_exactly_with_a_zero_filled_day_per_day(api: httpx.Client) -> None:
    before = datetime.now(UTC).date()
    for n in range(3):
        assert chat(api, f"usage {n}").status_code == 200
    assert_error(chat(api, "mock:error_500 usage"), 502)
    usage = exact(api.get("/v1/analytics/usage", params={"days": 7}))
    today = date.fromisoformat(usage["end_date"])
    assert today in {before, datetime.now(UTC).date()}
    assert usage["period_days"] == 7
    assert usage["total_requests"] == 4
    assert (usage["successful_requests"], usage["failed_requests"]) == (3, 1)
    assert (usage["success_rate"], usage["success_rate_percent"]) == (Decimal("0.75"), 75)
    assert usage["total_cost_usd"] == Decimal("0.0000135")
    assert (usage["total_input_tokens"], usage["total_output_tokens"]) == (30, 15)
    assert usage["total_tokens"] == 45
    assert usage["requests_with_unknown_cost"] == 0
    assert usage["avg_latency_ms"] == usage["average_latency_ms"]
    (mini,) = usage["by_model"]
    assert mini["cost_usd"] == mini["total_cost_usd"]
    assert (mini["model"], mini["requests"], mini["total_cost_usd"]) == (
        "gpt-4o-mini",
        4,
        Decimal("0.0000135"),
    )
    days = usage["daily_stats"]
    assert [d["date"] for d in days] == [str(today - timedelta(days=6 - n)) for n in range(7)]
    assert usage["start_date"] == days[0]["date"]
    last = days[-1]
    assert (last["requests"], last["successful_requests"], last["failed_requests"]) == (4, 3, 1)
    assert (last["input_tokens"], last["output_tokens"], last["total_tokens"]) == (30, 15, 45)
    assert last["total_cost_usd"] == Decimal("0.0000135")
    assert last["average_latency_ms"] is not None
    counts = "requests successful_requests failed_requests input_tokens output_tokens"
    zero = dict.fromkeys([*counts.split(), "total_tokens", "total_cost_usd", "cost_usd"], 0)
    for day in days[:-1]:
        assert day == {"date": day["date"], **zero, "average_latency_ms": None}


@pytest.mark.parametrize("days", ["0", "366", "abc"])
def test_usage_days_outside_1_to_365_is_422_naming_days(api: httpx.Client, days: str) -> None:
    assert_error(api.get("/v1/analytics/usage", params={"days": days}), 422, param="days")


# --- who sees what -----------------------------------------------------------------


def test_a_key_never_sees_another_keys_requests(traffic: Traffic) -> None:
    mine = listing(traffic.b, per_page=100)
    assert mine["total"] == 2
    assert {r["id"] for r in mine["requests"]} == set(traffic.b_ids)
    assert exact(traffic.b.get("/v1/analytics/usage", params={"days": 7}))["total_requests"] == 2
    assert previews(traffic.b, search="alpha") == []
    for request_id in traffic.ids.values():
        assert_error(traffic.b.get(f"{REQUESTS}/{request_id}"), 404)
    assert_error(traffic.a.get(f"{REQUESTS}/{traffic.b_ids[0]}"), 404)


def test_admin_sees_every_key_and_narrows_by_user_id(traffic: Traffic) -> None:
    admin = traffic.admin
    assert listing(admin, search=traffic.tag, per_page=100)["total"] == 7
    a_user = request_detail(admin, traffic.ids[traffic.a_prompts[0]])["user_id"]
    b_user = request_detail(admin, traffic.b_ids[0])["user_id"]
    assert a_user != b_user
    only_a = listing(admin, user_id=a_user, per_page=100)
    assert only_a["total"] == 5
    assert {r["user_id"] for r in only_a["requests"]} == {a_user}
    usage = exact(admin.get("/v1/analytics/usage", params={"user_id": a_user, "days": 7}))
    assert usage["total_requests"] == 5
    assert usage["failed_requests"] == 1


def test_normal_key_asking_for_another_user_id_is_403(traffic: Traffic) -> None:
    b_user = request_detail(traffic.admin, traffic.b_ids[0])["user_id"]
    for path in (REQUESTS, "/v1/analytics/usage"):
        response = traffic.a.get(path, params={"user_id": b_user})
        assert_error(response, 403, param="user_id")
    assert listing(traffic.b, user_id=b_user)["total"] == 2  # its own id is fine


# --- the request log ---------------------------------------------------------------


def test_requests_filter_by_model_and_status(traffic: Traffic) -> None:
    a, tag = traffic.a, traffic.tag
    assert previews(a, model="mystery-model") == [f"user: mystery {tag}"]
    assert listing(a, model="gpt-4o-mini")["total"] == 4
    assert previews(a, status="error") == [f"user: mock:error_500 {tag}"]
    assert listing(a, status="success")["total"] == 4
    assert listing(a, model="mystery-model", status="error")["total"] == 0


def test_search_is_case_insensitive_and_takes_wildcards_literally(traffic: Traffic) -> None:
    a, tag = traffic.a, traffic.tag
    assert previews(a, search="bETA two") == [f"user: Beta TWO {tag}"]
    assert previews(a, search="%_off") == [f"user: {TRICKY} {tag}"]
    assert previews(a, search="'QUOTE' back\\slash") == [f"user: {TRICKY} {tag}"]
    assert previews(a, search="alpha%one") == []
    assert previews(traffic.b, search="%") == []
    assert previews(traffic.b, search="_") == []


def test_requests_filter_by_inclusive_dates(traffic: Traffic) -> None:
    a = traffic.a
    rows = listing(a, per_page=100)["requests"]
    first_day = date.fromisoformat(rows[-1]["created_at"][:10])
    second = rows[-2]["created_at"]
    assert listing(a, start_date=str(first_day))["total"] == 5
    assert listing(a, end_date=rows[0]["created_at"][:10])["total"] == 5
    assert listing(a, end_date=str(first_day - timedelta(days=1)))["total"] == 0
    future = str(datetime.now(UTC).date() + timedelta(days=2))
    empty = listing(a, start_date=future)
    assert (empty["requests"], empty["total"], empty["total_pages"]) == ([], 0, 0)
    assert listing(a, start_date=second)["total"] == 4
    assert listing(a, end_date=second)["total"] == 2
    assert listing(a, start_date=second, end_date=second)["total"] == 1


def test_requests_page_newest_first(traffic: Traffic) -> None:
    pages = [listing(traffic.a, per_page=2, page=n) for n in (1, 2, 3, 4)]
    for n, page in enumerate(pages, 1):
        assert (page["total"], page["total_pages"], page["page"], page["per_page"]) == (5, 3, n, 2)
    assert [len(p["requests"]) for p in pages] == [2, 2, 1, 0]
    order = [r["prompt_preview"] for p in pages for r in p["requests"]]
    assert order == [f"user: {p}" for p in reversed(traffic.a_prompts)]


@pytest.mark.parametrize(
    ("params", "param"),
    [
        ({"per_page": 0}, "per_page"),
        ({"per_page": 101}, "per_page"),
        ({"page": 0}, "page"),
        ({"status": "pending"}, "status"),
        ({"start_date": "2025-13-01"}, "start_date"),
        ({"end_date": "yesterday"}, "end_date"),
    ],
)
def test_invalid_list_parameters_are_422_naming_them(
    api: httpx.Client, params: dict[str, Any], param: str
) -> None:
    error = assert_error(api.get(REQUESTS, params=params), 422, param=param)
    assert param in error["message"]


# --- one request -------------------------------------------------------------------


def test_detail_of_a_success_has_prompt_response_tokens_cost_and_latency(
    traffic: Traffic,
) -> None:
    prompt = traffic.a_prompts[0]
    d = exact(traffic.a.get(f"{REQUESTS}/{traffic.ids[prompt]}"))
    assert d["id"] == traffic.ids[prompt]
    assert (d["status"], d["model"], d["provider"]) == ("success", "gpt-4o-mini", "openai")
    assert d["prompt_text"] == f"user: {prompt}"
    assert d["request_messages"] == [{"role": "user", "content": prompt}]
    assert (d["response_text"], d["finish_reason"]) == (f"Echo: {prompt}", "stop")
    assert (d["input_tokens"], d["output_tokens"], d["total_tokens"]) == (10, 5, 15)
    assert (d["cached_input_tokens"], d["reasoning_tokens"]) == (0, 0)
    assert d["input_price_per_1m_tokens"] == Decimal("0.15")
    assert d["output_price_per_1m_tokens"] == Decimal("0.6")
    assert d["input_cost_usd"] == Decimal("0.0000015")
    assert d["output_cost_usd"] == Decimal("0.000003")
    assert d["total_cost_usd"] == Decimal("0.0000045")
    assert d["cost_unknown"] is False
    assert isinstance(d["latency_ms"], int) and d["latency_ms"] >= 0
    assert (d["is_stream"], d["http_status"]) == (False, 200)
    assert (d["error_message"], d["upstream_status"]) == (None, None)
    assert d["user_id"] and d["model_id"] and d["provider_id"]
    assert d["created_at"] <= d["completed_at"]


def test_detail_and_list_say_which_api_the_call_came_through(traffic: Traffic) -> None:
    prompt = traffic.a_prompts[0]
    detail = exact(traffic.a.get(f"{REQUESTS}/{traffic.ids[prompt]}"))
    assert detail["front_door"] == "chat_completions"
    rows = listing(traffic.a)["requests"]
    assert rows and {row["front_door"] for row in rows} == {"chat_completions"}


def test_the_request_log_filters_by_the_api_a_call_came_through(router: Router) -> None:
    with router.client(router.new_key(name="doors")) as client:
        chatted = chat(client, "through chat")
        assert chatted.status_code == 200, chatted.text
        embedded = client.post(
            "/v1/embeddings", json={"model": "text-embedding-3-small", "input": "a few words"}
        )
        assert embedded.status_code == 200, embedded.text
        answered = client.post("/v1/responses", json={"model": "gpt-4o-mini", "input": "Say hi"})
        assert answered.status_code == 200, answered.text
        expected = {
            "chat_completions": [chatted.json()["id"]],
            "embeddings": [None],  # an embeddings answer carries no id: matched by model
            "responses": [str(uuid.UUID(answered.json()["id"].removeprefix("resp_")))],
            "messages": [],
        }
        for door, ids in expected.items():
            page = listing(client, front_door=door, per_page=100)
            assert page["total"] == len(ids), (door, page)
            assert {r["front_door"] for r in page["requests"]} <= {door}
            if door == "embeddings":
                assert [r["model"] for r in page["requests"]] == ["text-embedding-3-small"]
            else:
                assert [r["id"] for r in page["requests"]] == ids
        assert listing(client, front_door="responses", status="error")["total"] == 0
        assert listing(client)["total"] == 3


@pytest.mark.parametrize("door", ["chat", "Messages", "", "responses\x00"])
def test_an_unknown_front_door_filter_is_a_400_naming_it(api: httpx.Client, door: str) -> None:
    error = assert_error(api.get(REQUESTS, params={"front_door": door}), 400, param="front_door")
    assert "chat_completions, messages, responses, embeddings" in error["message"]


def test_detail_of_a_failure_has_the_error_and_upstream_status(traffic: Traffic) -> None:
    (row,) = listing(traffic.a, status="error")["requests"]
    d = exact(traffic.a.get(f"{REQUESTS}/{row['id']}"))
    assert d["status"] == "error"
    assert isinstance(d["error_message"], str) and d["error_message"]
    assert d["error_message"] == row["error_message"]
    assert (d["upstream_status"], d["http_status"]) == (500, 502)
    assert (d["response_text"], d["total_cost_usd"]) == (None, None)


@pytest.mark.parametrize(
    "bad_id",
    ["not-a-uuid", "123", "00000000-0000-0000-0000-000000000001", "IDx", "ID0", "ID-", "ID}"],
)
def test_malformed_or_unknown_request_id_is_404(traffic: Traffic, bad_id: str) -> None:
    """ID stands for a real request of the caller's, so junk after it must not be ignored."""
    real = traffic.ids[traffic.a_prompts[0]]
    assert_error(traffic.a.get(f"{REQUESTS}/{bad_id.replace('ID', real)}"), 404)


# --- the catalogue and authentication ----------------------------------------------


def test_models_have_exact_prices_and_null_when_unpriced(api: httpx.Client) -> None:
    models = exact(api.get("/v1/analytics/models"))
    assert isinstance(models, list)  # a bare array, as the original design has it
    by_name = {(m["provider"], m["model_id"]): m for m in models}
    mini = by_name[("openai", "gpt-4o-mini")]
    assert isinstance(mini["input_price_per_1m_tokens"], Decimal)
    assert mini["input_price_per_1m_tokens"] == Decimal("0.15")
    assert mini["output_price_per_1m_tokens"] == Decimal("0.6")
    assert mini["context_window"] == 128_000
    mystery = by_name[("openai", "mystery-model")]
    assert mystery["input_price_per_1m_tokens"] is None
    assert mystery["output_price_per_1m_tokens"] is None


@pytest.mark.parametrize(
    "path",
    ["/v1/analytics/usage", REQUESTS, f"{REQUESTS}/{uuid.UUID(int=1)}", "/v1/analytics/models"],
)
@pytest.mark.parametrize("key", [None, "mr-not-a-real-key"])
def test_every_analytics_endpoint_needs_a_valid_key(
    router: Router, path: str, key: str | None
) -> None:
    with router.client(key) as client:
        assert_error(client.get(path), 401)
