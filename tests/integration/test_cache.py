"""The exact-match response cache, end to end: what is a hit and what is not,
TTL, scope, Cache-Control, the temperature rule, streaming replay, analytics."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import httpx
import openai
import pytest

from model_router.services.keys import create_key
from tests.conftest import Router
from tests.helpers import assert_error, request_detail, sse_lines
from tests.integration.cache_app import chat_calls, serve
from tests.mocks.scenarios import REPLY
from tests.openapi import assert_valid

ON = {"x-router-cache": "on"}
TOOL = {
    "type": "function",
    "function": {"name": "get_weather", "parameters": {"type": "object", "properties": {}}},
}
OTHER_TOOL = {"type": "function", "function": {"name": "get_time", "parameters": {}}}


@pytest.fixture(scope="module")
def cache_url(router: Router) -> Iterator[str]:
    """The router with the cache on for every request, scoped per key."""
    with serve(router, cache_enabled=True, cache_ttl=60.0) as url:
        yield url


@pytest.fixture
def client(router: Router, cache_url: str, user_key: str) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=cache_url, headers={"authorization": f"Bearer {user_key}"}, timeout=30
    ) as c:
        yield c


def body(text: str, **extra: Any) -> dict[str, Any]:
    return {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": text}], **extra}


def post(client: httpx.Client, payload: dict[str, Any], **headers: str) -> httpx.Response:
    response = client.post("/v1/chat/completions", json=payload, headers=headers)
    assert response.status_code == 200, response.text
    return response


def upstream_calls(router: Router) -> int:
    return chat_calls(router.openai.state.requests)


# Each field of the key: a value, and a different value that must miss.
KEY_FIELDS: list[tuple[str, Any, Any]] = [
    ("model", "gpt-4o-mini", "gpt-4o"),
    ("messages", None, None),  # the prompt itself (see the test)
    ("tools", [TOOL], [OTHER_TOOL]),
    ("tool_choice", "auto", "none"),
    ("response_format", {"type": "json_object"}, {"type": "text"}),
    ("temperature", 0, 0.5),
    ("top_p", 0.5, 0.9),
    ("max_tokens", 50, 60),
    ("max_completion_tokens", 50, 60),
    ("stop", ["END"], ["STOP"]),
    ("seed", 1, 2),
    ("presence_penalty", 0.1, 0.2),
    ("frequency_penalty", 0.1, 0.2),
    ("parallel_tool_calls", True, False),
    ("logit_bias", {"50256": -100}, {"50256": 100}),  # unknown to the router: passed on
]


@pytest.mark.parametrize(("field", "first", "second"), KEY_FIELDS, ids=[f[0] for f in KEY_FIELDS])
def test_each_key_field_hits_when_equal_and_misses_when_changed(
    router: Router, client: httpx.Client, field: str, first: Any, second: Any
) -> None:
    prompt = f"key field {field} {uuid.uuid4()}"
    base = body(prompt)
    if field == "tool_choice":
        base["tools"] = [TOOL]
    if field == "messages":
        changed = body(prompt + " (changed)")
    else:
        base[field] = first
        changed = {**base, field: second}
    before = upstream_calls(router)
    miss = post(client, base, **ON)
    hit = post(client, base, **ON)
    other = post(client, changed, **ON)
    assert miss.headers["x-router-cache"] == "miss"
    assert hit.headers["x-router-cache"] == "hit"
    assert other.headers["x-router-cache"] == "miss"
    assert upstream_calls(router) - before == 2  # the hit never reached the provider
    assert hit.json()["choices"][0]["message"] == miss.json()["choices"][0]["message"]
    assert hit.json()["id"] != miss.json()["id"]


def test_fields_that_cannot_change_the_answer_are_not_in_the_key(
    router: Router, client: httpx.Client
) -> None:
    prompt = f"not in key {uuid.uuid4()}"
    post(client, body(prompt, user="alice"))
    before = upstream_calls(router)
    again = post(client, body(prompt, user="bob", metadata={"team": "x"}))
    assert again.headers["x-router-cache"] == "hit"
    assert upstream_calls(router) == before


def test_a_hit_is_recorded_at_zero_cost_with_what_it_saved(client: httpx.Client) -> None:
    prompt = f"saved cost {uuid.uuid4()}"
    original = post(client, body(prompt)).json()
    hit = post(client, body(prompt))
    assert hit.headers["x-router-cache"] == "hit"
    answer = hit.json()
    assert answer["content"] == original["content"] == f"Echo: {prompt}"
    assert_valid(answer, "CreateChatCompletionResponse")
    assert answer["usage"]["total_cost_usd"] == 0
    original_row = request_detail(client, original["id"])
    hit_row = request_detail(client, answer["id"])
    assert original_row["cache_status"] == "miss"
    assert original_row["total_cost_usd"] == 0.0000045  # 10 in, 5 out at gpt-4o-mini's prices
    assert hit_row["cache_status"] == "hit"
    assert hit_row["total_cost_usd"] == 0 and hit_row["input_tokens"] == 0
    assert Decimal(str(hit_row["saved_cost_usd"])) == Decimal("0.0000045")
    assert hit_row["status"] == "success" and hit_row["response_text"] == f"Echo: {prompt}"


def test_usage_reports_hit_rate_and_money_saved(client: httpx.Client) -> None:
    prompt = f"usage {uuid.uuid4()}"
    for _ in range(4):  # one miss, three hits
        post(client, body(prompt))
    usage = client.get("/v1/analytics/usage", params={"days": 1}).json()
    assert usage["cache_lookups"] == 4
    assert usage["cache_hits"] == 3
    assert usage["cache_hit_rate"] == 75.0
    assert Decimal(str(usage["cache_saved_cost_usd"])) == 3 * Decimal("0.0000045")
    assert Decimal(str(usage["total_cost_usd"])) == Decimal("0.0000045")


def test_entries_expire_after_their_ttl(router: Router, client: httpx.Client) -> None:
    payload = body(f"ttl {uuid.uuid4()}", cache={"ttl": 1.5})
    post(client, payload)
    assert post(client, payload).headers["x-router-cache"] == "hit"
    time.sleep(2.0)
    before = upstream_calls(router)
    assert post(client, payload).headers["x-router-cache"] == "miss"
    assert upstream_calls(router) == before + 1


def test_the_cache_field_is_never_sent_upstream(router: Router, client: httpx.Client) -> None:
    post(client, body(f"strip {uuid.uuid4()}", cache={"ttl": 30}))
    assert "cache" not in router.openai.state.last().body


def test_one_key_never_reads_another_keys_answers(
    router: Router, cache_url: str, client: httpx.Client
) -> None:
    prompt = f"isolation {uuid.uuid4()}"
    post(client, body(prompt))
    with httpx.Client(
        base_url=cache_url, headers={"authorization": f"Bearer {router.new_key()}"}, timeout=30
    ) as other:
        before = upstream_calls(router)
        assert post(other, body(prompt)).headers["x-router-cache"] == "miss"
        assert upstream_calls(router) == before + 1


def test_global_scope_shares_answers_between_keys(router: Router) -> None:
    prompt = f"global {uuid.uuid4()}"
    with serve(router, cache_enabled=True, cache_scope="global") as url:
        first, second = router.new_key(), router.new_key()
        with httpx.Client(base_url=url, headers={"authorization": f"Bearer {first}"}) as a:
            post(a, body(prompt))
        with httpx.Client(base_url=url, headers={"authorization": f"Bearer {second}"}) as b:
            assert post(b, body(prompt)).headers["x-router-cache"] == "hit"


def test_no_cache_skips_the_read_and_no_store_skips_the_write(
    router: Router, client: httpx.Client
) -> None:
    prompt = f"cache-control {uuid.uuid4()}"
    post(client, body(prompt))
    before = upstream_calls(router)
    fresh = post(client, body(prompt), **{"cache-control": "no-cache"})
    assert "x-router-cache" not in fresh.headers
    assert upstream_calls(router) == before + 1

    unstored = body(f"no-store {uuid.uuid4()}")
    assert post(client, unstored, **{"cache-control": "no-store"}).headers["x-router-cache"] == (
        "miss"
    )
    assert post(client, unstored).headers["x-router-cache"] == "miss"  # nothing was stored


def test_temperature_above_zero_is_cached_only_when_asked(
    router: Router, client: httpx.Client
) -> None:
    warm = body(f"warm {uuid.uuid4()}", temperature=0.7)
    before = upstream_calls(router)
    assert "x-router-cache" not in post(client, warm).headers
    assert "x-router-cache" not in post(client, warm).headers
    assert upstream_calls(router) == before + 2
    post(client, warm, **ON)
    assert post(client, warm, **ON).headers["x-router-cache"] == "hit"
    asked = body(f"asked {uuid.uuid4()}", temperature=1.2, cache={"ttl": 60})
    post(client, asked)
    assert post(client, asked).headers["x-router-cache"] == "hit"


def test_off_by_default_and_switched_per_request(router: Router, api: httpx.Client) -> None:
    """`api` is the router with the cache off (the default)."""
    prompt = body(f"default off {uuid.uuid4()}")
    assert "x-router-cache" not in post(api, prompt).headers
    assert "x-router-cache" not in post(api, prompt).headers
    post(api, prompt, **ON)
    assert post(api, prompt, **ON).headers["x-router-cache"] == "hit"


def test_off_header_and_false_field_bypass_an_enabled_cache(client: httpx.Client) -> None:
    prompt = f"bypass {uuid.uuid4()}"
    post(client, body(prompt))
    assert "x-router-cache" not in post(client, body(prompt), **{"x-router-cache": "off"}).headers
    assert "x-router-cache" not in post(client, body(prompt, cache=False)).headers
    assert "x-router-cache" not in post(client, body(prompt, cache={"enabled": False})).headers


@pytest.mark.parametrize(
    ("payload", "headers", "param"),
    [
        (body("x", cache={"ttl": -1}), {}, "cache.ttl"),
        (body("x", cache={"ttl": "soon"}), {}, "cache.ttl"),
        (body("x", cache={"tll": 5}), {}, "cache.tll"),
        (body("x", cache="yes"), {}, "cache"),
        (body("x"), {"x-router-cache": "maybe"}, "x-router-cache"),
    ],
    ids=["negative-ttl", "string-ttl", "unknown-field", "not-an-object", "bad-header"],
)
def test_bad_cache_instructions_are_400_naming_them(
    client: httpx.Client, payload: dict[str, Any], headers: dict[str, str], param: str
) -> None:
    response = client.post("/v1/chat/completions", json=payload, headers=headers)
    assert_error(response, 400, param=param)


def _sdk(url: str, key: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{url}/v1", api_key=key, max_retries=0)


def test_a_streamed_request_replays_a_non_streamed_answer_as_chunks(
    cache_url: str, user_key: str, client: httpx.Client
) -> None:
    prompt = f"replay {uuid.uuid4()}"
    original = post(client, body(prompt)).json()
    sdk = _sdk(cache_url, user_key)
    raw = sdk.chat.completions.with_raw_response.create(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": prompt}],
        stream=True,
        stream_options={"include_usage": True},
    )
    assert raw.headers["x-router-cache"] == "hit"
    chunks = list(raw.parse())
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == original["content"]
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices]
    assert finishes[-1] == "stop" and finishes.count("stop") == 1
    assert chunks[-1].usage is not None and chunks[-1].usage.total_tokens == 0
    assert len({c.id for c in chunks}) == 1 and chunks[0].id != original["id"]
    row = request_detail(client, chunks[0].id)
    assert row["is_stream"] and row["cache_status"] == "hit"
    assert Decimal(str(row["saved_cost_usd"])) == Decimal("0.0000045")


def test_a_streamed_answer_is_stored_and_replayed_with_tool_calls(
    router: Router, client: httpx.Client
) -> None:
    payload = body(f"tools mock:tool_call {uuid.uuid4()}", tools=[TOOL], stream=True)
    with client.stream("POST", "/v1/chat/completions", json=payload) as live:
        assert live.headers["x-router-cache"] == "miss"
        assert sse_lines(live)[-1] == "[DONE]"
    before = upstream_calls(router)
    with client.stream("POST", "/v1/chat/completions", json=payload) as replayed:
        assert replayed.headers["x-router-cache"] == "hit"
        frames = sse_lines(replayed)
    assert upstream_calls(router) == before
    assert frames[-1] == "[DONE]"
    for frame in frames[:-1]:
        assert_valid(json.loads(frame), "CreateChatCompletionStreamResponse")
    non_streamed = post(client, {**payload, "stream": False}).json()
    assert non_streamed["choices"][0]["finish_reason"] == "tool_calls"
    call = non_streamed["choices"][0]["message"]["tool_calls"][0]
    assert call["function"] == {"name": "get_weather", "arguments": '{"city": "Paris"}'}
    assert any('"tool_calls"' in f and "get_weather" in f for f in frames)


def test_a_failed_stream_is_not_stored(router: Router, client: httpx.Client) -> None:
    payload = body(f"mock:stream_fail {uuid.uuid4()}", stream=True)
    with client.stream("POST", "/v1/chat/completions", json=payload) as failed:
        assert any('"error"' in f for f in sse_lines(failed))
    with client.stream("POST", "/v1/chat/completions", json=payload) as again:
        assert again.headers["x-router-cache"] == "miss"
        list(again.iter_lines())


def test_sdk_non_streamed_hit_has_a_fresh_id(cache_url: str, user_key: str) -> None:
    sdk = _sdk(cache_url, user_key)
    messages: Any = [{"role": "user", "content": f"sdk {uuid.uuid4()} mock:chunks=3"}]
    first = sdk.chat.completions.create(model="gpt-4o-mini", messages=messages)
    second = sdk.chat.completions.with_raw_response.create(model="gpt-4o-mini", messages=messages)
    assert second.headers["x-router-cache"] == "hit"
    parsed = second.parse()
    assert parsed.choices[0].message.content == first.choices[0].message.content == REPLY
    assert parsed.id != first.id


def test_the_operator_can_switch_the_cache_on_for_some_keys(router: Router) -> None:
    chosen, chosen_key = router.run(lambda s: create_key(s, "cached key"))
    other_key = router.new_key()
    prompt = body(f"per key {uuid.uuid4()}")
    with serve(router, cache_enabled_keys=f" {chosen.id} ,another-id") as url:
        with httpx.Client(base_url=url, headers={"authorization": f"Bearer {chosen_key}"}) as c:
            post(c, prompt)
            assert post(c, prompt).headers["x-router-cache"] == "hit"
        with httpx.Client(base_url=url, headers={"authorization": f"Bearer {other_key}"}) as o:
            assert "x-router-cache" not in post(o, prompt).headers
            assert "x-router-cache" not in post(o, prompt).headers
