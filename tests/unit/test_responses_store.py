"""What a stored response keeps of its input: every item listed with an id."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker

from model_router.db.engine import make_engine
from model_router.domain.keys import KeyInfo
from model_router.errors import StoreUnavailable
from model_router.services.responses_store import ResponseStore, stored_input


def test_a_string_input_is_one_user_message_with_an_id() -> None:
    assert stored_input("resp_abc", "hi") == [
        {
            "type": "message",
            "role": "user",
            "content": [{"type": "input_text", "text": "hi"}],
            "id": "msg_abc_in0",
        }
    ]


def test_items_keep_their_ids_and_the_others_get_one_by_type() -> None:
    items = [
        {"role": "assistant", "content": "earlier"},
        {"type": "function_call", "call_id": "c1", "name": "f", "arguments": "{}", "id": "fc_x"},
        {"type": "function_call_output", "call_id": "c1", "output": "done"},
        {"type": "web_search_call", "status": "completed"},
    ]

    stored = stored_input("resp_abc", items)

    assert [i["id"] for i in stored] == ["msg_abc_in0", "fc_x", "fco_abc_in2", "item_abc_in3"]
    assert stored[0]["type"] == "message"
    assert stored[0]["content"] == [{"type": "output_text", "text": "earlier"}]
    assert items[0] == {"role": "assistant", "content": "earlier"}  # the client's left as sent


@pytest.mark.anyio
async def test_an_unreadable_database_is_a_503_not_a_crash(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'missing' / 'router.db'}")
    store = ResponseStore(async_sessionmaker(engine))
    key = KeyInfo(uuid.uuid4(), "k", "mr-k", is_admin=False, is_active=True)
    try:
        with pytest.raises(StoreUnavailable) as caught:
            await store.previous(key, "resp_x")
    finally:
        await engine.dispose()
    assert caught.value.status_code == 503
