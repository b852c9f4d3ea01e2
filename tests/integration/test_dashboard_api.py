"""What the analytics API gained for the dashboard: who am I, the keys an admin
can pick, the request log's sort orders, and usage windows ending on a chosen day.
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
from tests.helpers import assert_error, chat

REQUESTS = "/v1/analytics/requests"


def exact(response: httpx.Response) -> Any:
    assert response.status_code == 200, response.text
    return json.loads(response.text, parse_float=Decimal)


@dataclass(frozen=True)
class Calls:
    client: httpx.Client
    admin: httpx.Client
    key_name: str
    ids: list[str]  # oldest first; the last one failed upstream


@pytest.fixture(scope="module")
def calls(router: Router) -> Iterator[Calls]:
    """One key: three calls that cost three different amounts, then a failure."""
    name = f"dash-{uuid.uuid4().hex[:8]}"
    with (
        router.client(router.new_key(name=name)) as client,
        router.client(router.new_key(admin=True, name="dash-admin")) as admin,
    ):
        ids = []
        for text, model in (
            ("hi", "gpt-4o-mini"),
            ("hi", "gpt-4o"),
            ("mock:cached", "gpt-4o-mini"),
        ):
            response = chat(client, text, model=model)
            assert response.status_code == 200, response.text
            ids.append(response.json()["id"])
        assert_error(chat(client, "mock:error_500 please"), 502)
        yield Calls(client, admin, name, ids)


def _rows(calls: Calls, sort: str, **params: Any) -> list[dict[str, Any]]:
    body = exact(calls.client.get(REQUESTS, params={"sort": sort, "per_page": 100, **params}))
    return list(body["requests"])


def test_me_names_the_calling_key(calls: Calls, router: Router) -> None:
    me = exact(calls.client.get("/v1/analytics/me"))
    assert me["name"] == calls.key_name and me["is_admin"] is False
    assert me["prefix"].startswith("mr-")
    assert exact(calls.admin.get("/v1/analytics/me"))["is_admin"] is True
    with router.client("mr-not-a-key") as stranger:
        assert_error(stranger.get("/v1/analytics/me"), 401)


def test_admin_lists_the_keys_it_can_filter_on(calls: Calls) -> None:
    users = exact(calls.admin.get("/v1/analytics/users"))["users"]
    mine = [u for u in users if u["name"] == calls.key_name]
    assert len(mine) == 1 and mine[0]["is_active"] and not mine[0]["is_admin"]
    assert set(mine[0]) == {"id", "name", "prefix", "is_admin", "is_active"}  # never a hash
    usage = exact(calls.admin.get("/v1/analytics/usage", params={"user_id": mine[0]["id"]}))
    assert usage["total_requests"] == 4


def test_a_normal_key_may_not_list_keys(calls: Calls) -> None:
    assert_error(calls.client.get("/v1/analytics/users"), 403)


@pytest.mark.parametrize("sort", ["-total_cost_usd", "total_cost_usd"])
def test_sorting_by_cost_puts_unknown_costs_last_either_way(calls: Calls, sort: str) -> None:
    rows = _rows(calls, sort)
    costs = [r["total_cost_usd"] for r in rows]
    assert costs[-1] is None and None not in costs[:-1]
    assert costs[:-1] == sorted(costs[:-1], reverse=sort.startswith("-"))
    assert len(set(costs[:-1])) == 3  # three models / usages, three costs


def test_sorting_by_latency_and_by_time(calls: Calls) -> None:
    for sort in ("latency_ms", "-latency_ms"):
        latencies = [r["latency_ms"] for r in _rows(calls, sort)]
        assert latencies == sorted(latencies, reverse=sort.startswith("-"))
    oldest = [r["id"] for r in _rows(calls, "created_at")]
    assert oldest[:3] == calls.ids
    assert [r["id"] for r in _rows(calls, "-created_at")] == oldest[::-1]
    assert [r["id"] for r in exact(calls.client.get(REQUESTS))["requests"]] == oldest[::-1]


def test_pages_of_a_sorted_log_neither_overlap_nor_skip(calls: Calls) -> None:
    whole = [r["id"] for r in _rows(calls, "-total_cost_usd")]
    paged = []
    for page in (1, 2):
        params = {"sort": "-total_cost_usd", "per_page": 2, "page": page}
        paged += [r["id"] for r in exact(calls.client.get(REQUESTS, params=params))["requests"]]
    assert paged == whole


@pytest.mark.parametrize("sort", ["cost", "-created", "created_at,latency_ms", ""])
def test_an_unknown_sort_is_422_naming_it(calls: Calls, sort: str) -> None:
    assert_error(calls.client.get(REQUESTS, params={"sort": sort}), 422, param="sort")


def test_usage_window_can_end_on_any_day(calls: Calls) -> None:
    today = datetime.now(UTC).date()
    ending_today = exact(calls.client.get("/v1/analytics/usage", params={"days": 3}))
    explicit = exact(
        calls.client.get("/v1/analytics/usage", params={"days": 3, "end_date": today.isoformat()})
    )
    assert explicit == ending_today
    before = today - timedelta(days=1)
    past = exact(
        calls.client.get("/v1/analytics/usage", params={"days": 2, "end_date": before.isoformat()})
    )
    assert (past["start_date"], past["end_date"]) == (
        (before - timedelta(days=1)).isoformat(),
        before.isoformat(),
    )
    assert past["total_requests"] == 0  # this key's calls are all today
    assert [d["date"] for d in past["daily_stats"]] == [past["start_date"], past["end_date"]]


@pytest.mark.parametrize(
    ("end_date", "days", "status"),
    [("0001-01-02", 5, 400), ("2026-02-30", 1, 422), ("yesterday", 1, 422)],
)
def test_a_usage_window_that_cannot_exist_is_refused(
    calls: Calls, end_date: str, days: int, status: int
) -> None:
    response = calls.client.get("/v1/analytics/usage", params={"days": days, "end_date": end_date})
    assert_error(response, status, param="end_date")


def test_the_last_possible_day_is_a_valid_end(calls: Calls) -> None:
    body = exact(
        calls.client.get(
            "/v1/analytics/usage", params={"days": 1, "end_date": date.max.isoformat()}
        )
    )
    assert body["end_date"] == date.max.isoformat() and body["total_requests"] == 0
