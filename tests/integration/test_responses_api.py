"""The Responses API end to end: the `openai` SDK unchanged against the router,
conversation state across providers, stored responses, costs in analytics."""

from __future__ import annotations

import base64
import contextlib
import json
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest

from model_router.errors import NotFound
from model_router.services.keys import KeyCache
from model_router.services.responses_store import ResponseStore
from tests.conftest import Router
from tests.governance import make_key
from tests.helpers import assert_error, request_detail
from tests.openapi import assert_valid

WEATHER = {
    "type": "function",
    "name": "get_weather",
    "description": "Weather in a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
}
PNG = base64.b64encode(bytes.fromhex("89504e470d0a1a0a0000000d49484452")).decode()


def _sdk(url: str, key: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{url}/v1", api_key=key, max_retries=0)


@pytest.fixture
def sdk(router: Router, user_key: str) -> Iterator[openai.OpenAI]:
    with _sdk(router.url, user_key) as client:
        yield client


def _request_id(response_id: str) -> str:
    return str(uuid.UUID(response_id.removeprefix("resp_")))


def test_a_plain_response_is_openai_s_response(sdk: openai.OpenAI, api: httpx.Client) -> None:
    answer = api.post("/v1/responses", json={"model": "gpt-4o-mini", "input": "Say hi"})
    assert answer.status_code == 200, answer.text
    assert_valid(answer.json(), "Response")
    response = sdk.responses.create(model="gpt-4o-mini", input="Say hello")
    assert response.output_text == "Echo: Say hello"
    assert response.status == "completed" and response.model == "gpt-4o-mini"
    raw = api.get(f"/v1/responses/{response.id}").json()
    assert_valid(raw, "Response")
    detail = request_detail(api, _request_id(response.id))
    assert detail["front_door"] == "responses" and detail["status"] == "success"


def test_a_tool_call_round_trips_with_its_output(sdk: openai.OpenAI) -> None:
    first = sdk.responses.create(
        model="gpt-4o-mini",
        input="mock:tool_call weather in Paris?",
        tools=[WEATHER],  # type: ignore[list-item]
    )
    call = next(item for item in first.output if item.type == "function_call")
    assert call.name == "get_weather" and json.loads(call.arguments) == {"city": "Paris"}
    follow_up = sdk.responses.create(
        model="gpt-4o-mini",
        input=[
            {"role": "user", "content": "weather in Paris?"},
            call.model_dump(exclude_none=True),  # type: ignore[list-item]
            {"type": "function_call_output", "call_id": call.call_id, "output": "Sunny, 21 C"},
        ],
        tools=[WEATHER],  # type: ignore[list-item]
    )
    assert follow_up.status == "completed"
    assert follow_up.output_text == "Echo: weather in Paris?"


def test_json_schema_output_reaches_the_provider(sdk: openai.OpenAI, router: Router) -> None:
    schema = {
        "type": "object",
        "properties": {"answer": {"type": "integer"}},
        "required": ["answer"],
        "additionalProperties": False,
    }
    response = sdk.responses.create(
        model="gpt-4o-mini",
        input="mock:json",
        text={"format": {"type": "json_schema", "name": "answer", "schema": schema}},
    )
    assert json.loads(response.output_text) == {"answer": 42}
    sent = router.openai.state.last().body
    assert sent["response_format"]["json_schema"]["schema"] == schema


def test_images_are_sent_to_the_provider(sdk: openai.OpenAI, router: Router) -> None:
    response = sdk.responses.create(
        model="gpt-4o-mini",
        input=[
            {  # type: ignore[misc,list-item]
                "role": "user",
                "content": [
                    {"type": "input_text", "text": "What is this?"},
                    {"type": "input_image", "image_url": f"data:image/png;base64,{PNG}"},
                ],
            }
        ],
    )
    assert response.status == "completed"
    parts = router.openai.state.last().body["messages"][-1]["content"]
    assert parts[1] == {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG}"}}


def test_a_stream_ends_with_the_completed_response(sdk: openai.OpenAI, api: httpx.Client) -> None:
    with sdk.responses.stream(model="gpt-4o-mini", input="mock:chunks=4") as stream:
        deltas = [e.delta for e in stream if e.type == "response.output_text.delta"]
        final = stream.get_final_response()
    assert "".join(deltas) == "Hello from the mock. The answer is 42."
    assert final.output_text == "Hello from the mock. The answer is 42."
    stored = api.get(f"/v1/responses/{final.id}")
    assert stored.status_code == 200, stored.text
    assert_valid(stored.json(), "Response")
    output = stored.json()["output"]
    assert [i["id"] for i in output] == [getattr(i, "id", None) for i in final.output]
    assert output[0]["content"][0]["text"] == final.output_text


def test_previous_response_id_continues_on_another_provider(
    sdk: openai.OpenAI, router: Router
) -> None:
    first = sdk.responses.create(
        model="gpt-4o-mini", input="My name is Ada.", instructions="Be brief."
    )
    router.anthropic.state.clear()
    second = sdk.responses.create(
        model="claude-haiku-4-5", input="What is my name?", previous_response_id=first.id
    )
    assert second.status == "completed" and second.model == "claude-haiku-4-5"
    assert second.previous_response_id == first.id
    sent = router.anthropic.state.last().body
    texts = [
        (m["role"], m["content"] if isinstance(m["content"], str) else m["content"][0]["text"])
        for m in sent["messages"]
    ]
    assert texts == [
        ("user", "My name is Ada."),
        ("assistant", "Echo: My name is Ada."),
        ("user", "What is my name?"),
    ]
    assert "system" not in sent  # the first call's instructions are not carried over


def test_a_streamed_answer_is_stored_and_continued_elsewhere(
    sdk: openai.OpenAI, router: Router
) -> None:
    with sdk.responses.stream(model="claude-haiku-4-5", input="mock:chunks=3") as stream:
        first = stream.get_final_response()
    router.openai.state.clear()
    second = sdk.responses.create(
        model="gpt-4o-mini", input="Thanks.", previous_response_id=first.id
    )
    assert second.status == "completed"
    sent = router.openai.state.last().body["messages"]
    assert [(m["role"], m["content"]) for m in sent] == [
        ("user", "mock:chunks=3"),
        ("assistant", "Hello from the mock. The answer is 42."),
        ("user", "Thanks."),
    ]


def test_retrieve_input_items_and_delete(sdk: openai.OpenAI, api: httpx.Client) -> None:
    first = sdk.responses.create(model="gpt-4o-mini", input="one")
    second = sdk.responses.create(model="gpt-4o-mini", input="two", previous_response_id=first.id)
    assert sdk.responses.retrieve(second.id).output_text == "Echo: two"
    items = api.get(f"/v1/responses/{second.id}/input_items", params={"order": "asc"}).json()
    assert_valid(items, "ResponseItemList")
    assert items["object"] == "list" and items["has_more"] is False
    listed = sdk.responses.input_items.list(second.id, order="asc")
    assert [i.id for i in listed.data] == [i["id"] for i in items["data"]]
    kinds = [(i["type"], i.get("role")) for i in items["data"]]
    assert kinds == [("message", "user"), ("message", "assistant"), ("message", "user")]
    assert all(isinstance(i["id"], str) for i in items["data"])
    assert items["first_id"] == items["data"][0]["id"]
    page = api.get(
        f"/v1/responses/{second.id}/input_items", params={"limit": 1, "after": items["first_id"]}
    ).json()  # newest first by default: nothing after the first (oldest) in desc order
    assert page["data"] == [] and page["has_more"] is False
    page = api.get(f"/v1/responses/{second.id}/input_items", params={"limit": 2}).json()
    assert [i["id"] for i in page["data"]] == [i["id"] for i in items["data"][::-1][:2]]
    assert page["has_more"] is True
    deleted = api.delete(f"/v1/responses/{second.id}")
    assert deleted.json() == {"id": second.id, "object": "response.deleted", "deleted": True}
    assert_error(api.get(f"/v1/responses/{second.id}"), 404)
    assert_error(api.delete(f"/v1/responses/{second.id}"), 404)


def test_another_key_never_sees_a_response(
    sdk: openai.OpenAI, router: Router, api: httpx.Client
) -> None:
    mine = sdk.responses.create(model="gpt-4o-mini", input="secret")
    with router.client(router.new_key(name="other")) as other:
        assert_error(other.get(f"/v1/responses/{mine.id}"), 404)
        assert_error(other.get(f"/v1/responses/{mine.id}/input_items"), 404)
        assert_error(other.delete(f"/v1/responses/{mine.id}"), 404)
        error = assert_error(
            other.post(
                "/v1/responses",
                json={"model": "gpt-4o-mini", "input": "hi", "previous_response_id": mine.id},
            ),
            404,
            param="previous_response_id",
        )
    assert error["message"] == f"Previous response with id '{mine.id}' not found."
    assert api.get(f"/v1/responses/{mine.id}").status_code == 200


def test_store_false_keeps_nothing(sdk: openai.OpenAI, api: httpx.Client) -> None:
    response = sdk.responses.create(model="gpt-4o-mini", input="forget me", store=False)
    assert response.model_dump()["store"] is False
    assert_error(api.get(f"/v1/responses/{response.id}"), 404)


def test_a_key_without_text_storage_cannot_continue(router: Router, admin: httpx.Client) -> None:
    private = make_key(admin, store_text=False)
    with router.client(private["key"]) as client:
        first = client.post("/v1/responses", json={"model": "gpt-4o-mini", "input": "hi"})
        assert first.status_code == 200, first.text
        assert_error(client.get(f"/v1/responses/{first.json()['id']}"), 404)
        body = {"model": "gpt-4o-mini", "input": "again", "previous_response_id": "resp_x"}
        error = assert_error(client.post("/v1/responses", json=body), 400)
    assert "store_text" in error["message"]


def test_cached_and_reasoning_tokens_are_charged_exactly(
    sdk: openai.OpenAI, api: httpx.Client
) -> None:
    cached = sdk.responses.create(model="gpt-4o", input="mock:cached")
    assert cached.usage is not None and cached.usage.input_tokens_details.cached_tokens == 1500
    # gpt-4o: 2.50 in, 1.25 cached, 10 out. 500 fresh + 1500 cached + 100 out.
    detail = request_detail(api, _request_id(cached.id))
    assert detail["front_door"] == "responses"
    assert Decimal(str(detail["total_cost_usd"])) == Decimal("0.004125")
    thinking = sdk.responses.create(model="gpt-4o-mini", input="mock:reasoning")
    assert thinking.usage is not None
    assert thinking.usage.output_tokens_details.reasoning_tokens == 200
    assert thinking.output[0].type == "reasoning"
    # gpt-4o-mini: 0.15 in, 0.60 out; 10 in, 300 out (200 of them reasoning).
    detail = request_detail(api, _request_id(thinking.id))
    assert detail["reasoning_tokens"] == 200
    assert Decimal(str(detail["total_cost_usd"])) == Decimal("0.0001815")


def test_rate_limits_apply(router: Router, admin: httpx.Client) -> None:
    limited = make_key(admin, rpm_limit=1)
    with router.client(limited["key"]) as client:
        body = {"model": "gpt-4o-mini", "input": "once"}
        assert client.post("/v1/responses", json=body).status_code == 200
        assert_error(client.post("/v1/responses", json=body), 429)


def test_built_in_tools_are_refused_but_web_search_is_dropped(
    api: httpx.Client, router: Router
) -> None:
    body: dict[str, Any] = {"model": "gpt-4o-mini", "input": "hi"}
    error = assert_error(
        api.post("/v1/responses", json=body | {"tools": [{"type": "file_search"}]}),
        400,
        param="tools.0",
    )
    assert "file_search" in error["message"]
    namespace = {"type": "namespace", "name": "agents", "tools": [WEATHER]}
    answer = api.post(
        "/v1/responses",
        json=body | {"tools": [{"type": "web_search"}, namespace]},
    )
    assert answer.status_code == 200, answer.text
    sent = router.openai.state.last().body
    assert [t["function"]["name"] for t in sent["tools"]] == ["get_weather"]
    # The request detail says what was dropped, and keeps the input it was given.
    detail = request_detail(api, _request_id(answer.json()["id"]))
    assert any("web_search" in hint for hint in detail["dropped_hints"]), detail
    assert detail["request_messages"] == "hi"


def test_an_unknown_previous_response_is_404_and_recorded(api: httpx.Client) -> None:
    body = {"model": "gpt-4o-mini", "input": "hi", "previous_response_id": "resp_nope"}
    error = assert_error(api.post("/v1/responses", json=body), 404)
    assert error["message"] == "Previous response with id 'resp_nope' not found."
    page = api.get("/v1/analytics/requests", params={"status": "error"}).json()
    row = next(r for r in page["requests"] if r["front_door"] == "responses")
    assert row["model"] == "gpt-4o-mini"
    assert row["error_message"] == "Previous response with id 'resp_nope' not found."


FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


@pytest.mark.parametrize("model", ["claude-haiku-4-5", "gemini-2.5-flash", "gpt-4o-mini"])
def test_the_codex_cli_s_request_is_answered_by_any_provider(api: httpx.Client, model: str) -> None:
    body = json.loads((FIXTURES / "codex" / "say_hi_request.json").read_text())
    with api.stream("POST", "/v1/responses", json=body | {"model": model}) as response:
        assert response.status_code == 200, response.read()
        events = [line[7:] for line in response.iter_lines() if line.startswith("event: ")]
    assert events[0] == "response.created" and events[-1] == "response.completed"
    assert "response.output_text.delta" in events


def test_stored_responses_past_retention_are_purged(router: Router, user_key: str) -> None:
    key = router.run(lambda s: KeyCache(s, 60).authenticate(user_key))
    old = datetime.now(UTC) - timedelta(days=31)

    async def work(sessions: Any) -> tuple[int, list[str]]:
        store = ResponseStore(sessions, retention_days=30)
        fresh: dict[str, Any] = {"id": f"resp_fresh_{uuid.uuid4().hex}", "created_at": time.time()}
        stale: dict[str, Any] = {
            "id": f"resp_stale_{uuid.uuid4().hex}",
            "created_at": old.timestamp(),
        }
        for response in (fresh, stale):
            store.keep(key, {"input": "hi"}, response | {"model": "gpt-4o-mini", "output": []})
        await store.flush()
        purged = await store.purge()
        kept = []
        for response in (fresh, stale):
            with contextlib.suppress(NotFound):
                kept.append((await ResponseStore(sessions).get(key, response["id"])).id)
        return purged, [k.split("_")[1] for k in kept]

    purged, kept = router.run(work)
    assert purged >= 1 and kept == ["fresh"]


def test_a_row_the_database_refuses_does_not_hold_back_the_others(
    router: Router, user_key: str
) -> None:
    key = router.run(lambda s: KeyCache(s, 60).authenticate(user_key))
    twice: dict[str, Any] = {
        "id": f"resp_twice_{uuid.uuid4().hex}",
        "created_at": time.time(),
        "output": [],
    }
    other: dict[str, Any] = {
        "id": f"resp_other_{uuid.uuid4().hex}",
        "created_at": time.time(),
        "output": [],
    }

    async def work(sessions: Any) -> tuple[int, str]:
        first = ResponseStore(sessions)
        first.keep(key, {"input": "hi"}, twice)
        await first.flush()
        second = ResponseStore(sessions)  # another process that kept the same id
        second.keep(key, {"input": "hi"}, twice)
        second.keep(key, {"input": "hi"}, other)
        await second.flush()  # the duplicate is refused and dropped, the other written
        left = second.pending
        return left, (await ResponseStore(sessions).get(key, other["id"])).id

    assert router.run(work) == (0, other["id"])
