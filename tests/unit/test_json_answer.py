"""A whole answer goes out before its request-log row is built, and the row is
built whatever happens to the send (a client gone mid-write included)."""

from __future__ import annotations

from typing import Any

import pytest

from model_router.api.routes.serving import JSONAnswer

pytestmark = pytest.mark.anyio


async def _receive() -> dict[str, Any]:
    return {"type": "http.request", "body": b""}


async def test_the_row_is_built_after_the_body_is_handed_to_the_server() -> None:
    events: list[str] = []

    async def send(message: dict[str, Any]) -> None:
        events.append(message["type"])

    answer = JSONAnswer(b'{"ok":true}', {"x-router-reason": "r"}, lambda: events.append("row"))
    await answer({"type": "http"}, _receive, send)

    assert events == ["http.response.start", "http.response.body", "row"]
    assert (b"content-length", b"11") in answer.raw_headers
    assert (b"x-router-reason", b"r") in answer.raw_headers


async def test_the_row_is_built_when_the_send_fails() -> None:
    rows: list[str] = []

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.body":
            raise OSError("the client went away")

    answer = JSONAnswer(b"{}", {}, lambda: rows.append("row"))
    with pytest.raises(OSError):
        await answer({"type": "http"}, _receive, send)

    assert rows == ["row"]
