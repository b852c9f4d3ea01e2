"""POST /v1/messages through the Anthropic SDK, unchanged, to an Anthropic model:
the body goes upstream natively (hints, beta header), the answer comes back as
Anthropic's, and the row is recorded with front_door "messages"."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import anthropic
import httpx
import pytest
from anthropic.types import Message, ToolParam

from model_router.costs.catalogue import default_catalogue
from model_router.costs.pricing import Rates
from tests.conftest import Router
from tests.helpers import anthropic_client, latest_rows

MODEL = "claude-haiku-4-5"


@pytest.fixture
def client(router: Router, user_key: str) -> Iterator[anthropic.Anthropic]:
    with anthropic_client(router.url, user_key) as sdk:
        yield sdk


def test_create_passes_the_body_through_natively(
    router: Router, client: anthropic.Anthropic, api: httpx.Client
) -> None:
    router.anthropic.state.clear()
    message = client.messages.create(
        model=MODEL,
        max_tokens=100,
        system=[{"type": "text", "text": "Be brief.", "cache_control": {"type": "ephemeral"}}],
        messages=[{"role": "user", "content": "Bonjour"}],
        extra_headers={"anthropic-beta": "context-management-2025-06-27"},
        extra_body={"context_management": {"edits": [{"type": "clear_tool_uses_20250919"}]}},
    )
    assert isinstance(message, Message)
    assert message.content[0].type == "text" and message.content[0].text == "Echo: Bonjour"
    sent = router.anthropic.state.last()
    assert sent.body["system"][0]["cache_control"] == {"type": "ephemeral"}
    assert sent.body["context_management"] == {"edits": [{"type": "clear_tool_uses_20250919"}]}
    assert sent.headers["anthropic-beta"] == "context-management-2025-06-27"
    (row,) = latest_rows(api)
    assert row["front_door"] == "messages"
    assert row["model"] == MODEL
    assert row["status"] == "success"


def _rates(model: str) -> Rates:
    (entry,) = [e for e in default_catalogue(datetime.now(UTC)) if e.model_id == model]
    assert entry.price is not None
    return entry.price.base


def test_one_hour_cache_writes_are_charged_at_their_own_rate(
    client: anthropic.Anthropic, api: httpx.Client
) -> None:
    message = client.messages.create(
        model=MODEL,
        max_tokens=100,
        messages=[{"role": "user", "content": "mock:cache_write_1h long context"}],
    )
    assert message.usage.cache_creation_input_tokens == 1000
    rates = _rates(MODEL)
    assert rates.input is not None and rates.output is not None
    assert rates.cache_write is not None and rates.cache_write_1h is not None
    # The mock: 500 fresh input tokens, 600 written for 5 minutes, 400 for an hour, 100 out.
    expected = (
        500 * rates.input
        + 600 * rates.cache_write
        + 400 * rates.cache_write_1h
        + 100 * rates.output
    ) / Decimal(1_000_000)
    (row,) = latest_rows(api)
    assert row["total_cost_usd"] == expected
    assert row["cache_write_tokens"] == 1000
    assert row["cache_write_1h_tokens"] == 400
    assert Decimal(row["cache_write_1h_price_per_1m_tokens"]) == rates.cache_write_1h
    assert Decimal(str(message.usage.model_extra["total_cost_usd"])) == expected  # type: ignore[index]


def test_stream_gives_text_and_final_message(
    client: anthropic.Anthropic, api: httpx.Client
) -> None:
    with client.messages.stream(
        model=MODEL, max_tokens=100, messages=[{"role": "user", "content": "Salut"}]
    ) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert text == "Echo: Salut"
    assert isinstance(final, Message) and final.stop_reason == "end_turn"
    (row,) = latest_rows(api)
    assert row["front_door"] == "messages" and row["is_stream"] is True
    assert row["status"] == "success" and Decimal(row["total_cost_usd"]) > 0


def _blocks(message: Message) -> Any:
    """An answer's content, as the next request's assistant turn."""
    return [block.model_dump(exclude_none=True) for block in message.content]


TOOLS: list[ToolParam] = [
    {
        "name": "get_weather",
        "description": "Weather in a city",
        "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}},
    }
]


def test_tool_use_then_tool_result_round_trip(router: Router, client: anthropic.Anthropic) -> None:
    first = client.messages.create(
        model=MODEL,
        max_tokens=100,
        tools=TOOLS,
        messages=[{"role": "user", "content": "mock:tool_call weather?"}],
    )
    assert first.stop_reason == "tool_use"
    call = first.content[0]
    assert call.type == "tool_use" and call.input == {"city": "Paris"}
    second = client.messages.create(
        model=MODEL,
        max_tokens=100,
        tools=TOOLS,
        messages=[
            {"role": "user", "content": "mock:tool_call weather?"},
            {
                "role": "assistant",
                "content": [c.model_dump(exclude_none=True) for c in first.content],
            },  # type: ignore[misc]
            {
                "role": "user",
                "content": [{"type": "tool_result", "tool_use_id": call.id, "content": "Sunny"}],
            },
        ],
    )
    assert isinstance(second, Message)
    sent = router.anthropic.state.last().body
    assert sent["messages"][2]["content"][0]["tool_use_id"] == call.id


def test_thinking_signatures_go_back_to_anthropic_untouched(
    router: Router, client: anthropic.Anthropic
) -> None:
    first = client.messages.create(
        model=MODEL,
        max_tokens=2000,
        thinking={"type": "enabled", "budget_tokens": 1024},
        messages=[{"role": "user", "content": "mock:reasoning 6x7?"}],
    )
    thought = first.content[0]
    assert thought.type == "thinking" and thought.signature == "c2lnbmF0dXJl"
    client.messages.create(
        model=MODEL,
        max_tokens=2000,
        thinking={"type": "enabled", "budget_tokens": 1024},
        messages=[
            {"role": "user", "content": "6x7?"},
            {
                "role": "assistant",
                "content": [c.model_dump(exclude_none=True) for c in first.content],
            },  # type: ignore[misc]
            {"role": "user", "content": "And 6x8?"},
        ],
    )
    sent = router.anthropic.state.last().body
    assert sent["thinking"] == {"type": "enabled", "budget_tokens": 1024}
    assert sent["messages"][1]["content"][0]["signature"] == "c2lnbmF0dXJl"


PIXEL = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJ"
    "RU5ErkJggg=="
)


def test_images_by_base64_and_url_pass_through(router: Router, client: anthropic.Anthropic) -> None:
    message = client.messages.create(
        model=MODEL,
        max_tokens=100,
        messages=[
            {
                "role": "user",
                "content": [
                    {
                        "type": "image",
                        "source": {"type": "base64", "media_type": "image/png", "data": PIXEL},
                    },
                    {"type": "image", "source": {"type": "url", "url": "https://x.test/a.png"}},
                    {"type": "text", "text": "What is this?"},
                ],
            }
        ],
    )
    assert isinstance(message, Message)
    sent = router.anthropic.state.last().body["messages"][0]["content"]
    assert sent[0]["source"]["data"] == PIXEL and sent[1]["source"]["type"] == "url"


def test_count_tokens_asks_anthropic(router: Router, client: anthropic.Anthropic) -> None:
    counted = client.messages.count_tokens(
        model=MODEL, messages=[{"role": "user", "content": "How many tokens?"}]
    )
    assert counted.input_tokens > 0
    last = router.anthropic.state.last()
    assert last.path == "/v1/messages/count_tokens"
    assert last.body["model"] == MODEL


def test_dated_model_ids_resolve_to_the_catalogue_name(
    client: anthropic.Anthropic, api: httpx.Client
) -> None:
    message = client.messages.create(
        model="claude-haiku-4-5-20251001",
        max_tokens=50,
        messages=[{"role": "user", "content": "hi"}],
    )
    assert isinstance(message, Message)
    (row,) = latest_rows(api)
    assert row["model"] == MODEL
    assert row["requested_model"] == "claude-haiku-4-5-20251001"


def test_models_are_listed_in_anthropic_format(client: anthropic.Anthropic) -> None:
    page = client.models.list()
    names = [m.id for m in page.data]
    assert MODEL in names and all(m.type == "model" for m in page.data)


def test_head_slash_is_answered(router: Router) -> None:
    response = httpx.head(router.url + "/")
    assert response.status_code == 307 and response.headers["location"] == "/dashboard/"


def test_a_native_stream_that_fails_midway_ends_with_an_error_event(
    api: httpx.Client,
) -> None:
    body = {
        "model": MODEL,
        "max_tokens": 50,
        "stream": True,
        "messages": [{"role": "user", "content": "mock:stream_fail"}],
    }
    with api.stream("POST", "/v1/messages", json=body) as response:
        assert response.status_code == 200
        text = response.read().decode()
    assert text.startswith("event: message_start")
    assert "event: error" in text
    (row,) = latest_rows(api)
    assert row["status"] == "error" and row["front_door"] == "messages"
