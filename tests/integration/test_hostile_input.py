"""Hostile bodies get a clear 4xx in OpenAI's error shape: never a 500, never a
crash, never a lost request-log row, and the router keeps serving afterwards.
"""

from __future__ import annotations

import json
import time

import httpx
import pytest

from tests.conftest import Router
from tests.faultkit import count_rows, key_id
from tests.helpers import assert_error, chat

URL = "/v1/chat/completions"


def _post(api: httpx.Client, content: bytes) -> httpx.Response:
    return api.post(URL, content=content, headers={"content-type": "application/json"})


def _messages(n: int) -> list[dict[str, str]]:
    return [{"role": "user", "content": f"message {i}"} for i in range(n)]


def _body(**fields: object) -> bytes:
    return json.dumps({"model": "gpt-4o-mini", "messages": _messages(1), **fields}).encode()


def _nested(depth: int) -> bytes:
    return b'{"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}], "x": ' + (
        b"[" * depth + b"]" * depth + b"}"
    )


HOSTILE: dict[str, tuple[bytes, int, str | None]] = {
    # name: (body, status, param)
    "not json": (b"{model: gpt-4o-mini", 400, None),
    "truncated json": (b'{"model": "gpt-4o-mini", "messages": [', 400, None),
    "empty body": (b"", 400, None),
    "json array": (b"[1, 2, 3]", 400, None),
    "json string": (b'"hello"', 400, None),
    "invalid utf-8": (
        b'{"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "\xff\xfe"}]}',
        400,
        None,
    ),
    "lone surrogate": (
        b'{"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "\\ud800"}]}',
        400,
        None,
    ),
    "nested 100 deep": (_nested(100), 400, None),
    "nested 100000 deep": (_nested(100_000), 400, None),
    "infinite number": (_body().replace(b"}]", b'}], "temperature": 1e999'), 400, None),
    "huge integer": (
        _body().replace(b"}]", b'}], "max_tokens": 123456789012345678901234567890'),
        400,
        "max_tokens",
    ),
    "negative max_tokens": (_body(max_tokens=-1), 400, "max_tokens"),
    "temperature as string": (_body(temperature="hot"), 400, "temperature"),
    "model as number": (json.dumps({"model": 5, "messages": _messages(1)}).encode(), 400, "model"),
    "messages as object": (
        json.dumps({"model": "gpt-4o-mini", "messages": {"a": 1}}).encode(),
        400,
        "messages",
    ),
    "no messages": (json.dumps({"model": "gpt-4o-mini", "messages": []}).encode(), 400, "messages"),
    "unknown role": (
        json.dumps(
            {"model": "gpt-4o-mini", "messages": [{"role": "god", "content": "x"}]}
        ).encode(),
        400,
        None,
    ),
    "empty content list": (
        json.dumps(
            {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": []}]}
        ).encode(),
        400,
        None,
    ),
    "10,000 messages": (
        json.dumps({"model": "gpt-4o-mini", "messages": _messages(10_000)}).encode(),
        400,
        "messages",
    ),
    "content as object": (
        json.dumps(
            {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": {"x": 1}}]}
        ).encode(),
        400,
        None,
    ),
    "stream as object": (_body(stream={"a": 1}), 400, "stream"),
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_a_hostile_body_is_a_clear_4xx(name: str, api: httpx.Client) -> None:
    body, status, param = HOSTILE[name]
    assert_error(_post(api, body), status, param=param)
    assert chat(api, "still serving").status_code == 200


def test_a_body_over_the_size_limit_is_a_413_even_without_content_length(
    router: Router, api: httpx.Client
) -> None:
    limit = router.settings.max_request_bytes
    big = _body().replace(b'"message 0"', b'"' + b"a" * (limit + 10) + b'"')
    assert_error(_post(api, big), 413)

    def chunks() -> object:
        for _ in range(limit // 65536 + 2):
            yield b" " * 65536

    response = api.post(URL, content=chunks(), headers={"content-type": "application/json"})
    assert_error(response, 413)


def test_a_nul_character_is_logged_on_both_databases(router: Router, user_key: str) -> None:
    """PostgreSQL text cannot hold NUL: a client sending one must not stall the log."""
    with router.client(user_key) as api:
        assert chat(api, "before \x00 after").status_code == 200
        for _ in range(5):
            assert chat(api, "plain").status_code == 200
    user = key_id(router, user_key)
    deadline = time.monotonic() + 10
    while count_rows(router.database_url, user)[0] < 6 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert count_rows(router.database_url, user)[0] == 6


def test_every_rejected_call_is_in_the_request_log(router: Router, user_key: str) -> None:
    with router.client(user_key) as api:
        for name in ("not json", "unknown role", "nested 100 deep", "10,000 messages"):
            assert _post(api, HOSTILE[name][0]).status_code == 400
    user = key_id(router, user_key)
    deadline = time.monotonic() + 10
    while count_rows(router.database_url, user)[0] < 4 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert count_rows(router.database_url, user)[0] == 4
