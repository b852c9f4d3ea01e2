"""POST /v1/messages through the Anthropic SDK, unchanged, to an Anthropic model:
the body goes upstream natively (hints, beta header), the answer comes back as
Anthropic's, and the row is recorded with front_door "messages"."""

from __future__ import annotations

import anthropic
import httpx
import pytest
from anthropic.types import Message

from tests.conftest import Router
from tests.helpers import anthropic_client, latest_rows

MODEL = "claude-haiku-4-5"


@pytest.fixture
def client(router: Router, user_key: str) -> anthropic.Anthropic:
    return anthropic_client(router.url, user_key)


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
