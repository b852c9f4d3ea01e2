"""Streams fail over too: held back until the first content, so an upstream
that fails before it is retried or falls back unseen; after content, a failure
ends the stream with an error event in OpenAI's shape and the row records it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest

from tests.conftest import Routed
from tests.helpers import request_detail, sse_lines
from tests.openapi import assert_valid


@pytest.fixture
def api(routed: Routed, user_key: str) -> Iterator[httpx.Client]:
    with routed.client(user_key) as client:
        yield client


def stream(api: httpx.Client, text: str, model: str) -> tuple[httpx.Headers, list[str]]:
    body = {
        "model": model,
        "messages": [{"role": "user", "content": text}],
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    with api.stream("POST", "/v1/chat/completions", json=body) as response:
        assert response.status_code == 200, response.read()
        return response.headers, sse_lines(response)


def _chunks(lines: list[str]) -> list[dict[str, Any]]:
    return [json.loads(line) for line in lines if line != "[DONE]"]


@pytest.mark.parametrize("failure", ["stream_error_early", "stream_drop_early", "error_500"])
def test_a_failure_before_the_first_content_is_retried_unseen(
    api: httpx.Client, routed: Routed, failure: str
) -> None:
    routed.a.state.script[:] = [failure]
    headers, lines = stream(api, "mock:chunks=3", "solo")
    assert lines[-1] == "[DONE]"
    chunks = _chunks(lines)
    for chunk in chunks:
        assert "error" not in chunk
        assert_valid(chunk, "CreateChatCompletionStreamResponse")
    assert [c["choices"][0]["delta"].get("role") for c in chunks[:1]] == ["assistant"]
    roles = [c["choices"][0]["delta"].get("role") for c in chunks if c["choices"]]
    assert roles.count("assistant") == 1  # one opening, not one per attempt
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"])
    assert text == "Hello from the mock. The answer is 42."
    assert len(routed.a.state.requests) == 2
    assert "after 2 attempts" in headers["x-router-reason"]
    detail = request_detail(api, chunks[0]["id"])
    assert detail["status"] == "success"
    assert [a["status"] == 200 for a in detail["attempts"]] == [False, True]


def test_a_stream_falls_back_to_another_model_and_names_it(
    api: httpx.Client, routed: Routed
) -> None:
    routed.a.state.script[:] = ["stream_error_early"] * 3
    headers, lines = stream(api, "hello", "chain")
    assert lines[-1] == "[DONE]"
    chunks = _chunks(lines)
    assert {c["model"] for c in chunks} == {"backup"}
    assert chunks[-1]["provider"] == "openai"
    assert "answered by backup-b" in headers["x-router-reason"]


def test_the_openai_sdk_sees_a_normal_stream_after_a_hidden_failover(
    routed: Routed, user_key: str
) -> None:
    routed.a.state.script[:] = ["stream_drop_early"]
    client = openai.OpenAI(base_url=f"{routed.url}/v1", api_key=user_key, max_retries=0)
    pieces = []
    for chunk in client.chat.completions.create(
        model="solo",
        messages=[{"role": "user", "content": "mock:chunks=4"}],
        stream=True,
    ):
        if chunk.choices and chunk.choices[0].delta.content:
            pieces.append(chunk.choices[0].delta.content)
    assert "".join(pieces) == "Hello from the mock. The answer is 42."
    assert len(routed.a.state.requests) == 2


def test_a_failure_after_content_ends_with_an_error_event_and_is_recorded(
    api: httpx.Client, routed: Routed
) -> None:
    _, lines = stream(api, "mock:stream_fail", "solo")
    assert lines[-1] != "[DONE]"
    last = json.loads(lines[-1])
    assert set(last) == {"error"}
    assert set(last["error"]) == {"message", "type", "param", "code"}
    assert "mock failure mid-stream" in last["error"]["message"]
    chunks = _chunks(lines[:-1])
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"])
    assert text  # content had reached the client: no failover after that
    assert len(routed.a.state.requests) == 1
    detail = request_detail(api, chunks[0]["id"])
    assert detail["status"] == "error"
    assert "mock failure mid-stream" in detail["error_message"]
    (attempt,) = detail["attempts"]
    assert attempt["deployment"] == "solo-a" and attempt["status"] == 502
    assert "mock failure mid-stream" in attempt["error"]
