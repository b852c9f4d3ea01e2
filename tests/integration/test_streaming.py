"""Streamed chat: OpenAI chunks, usage, tool-call deltas, failures, disconnects."""

from __future__ import annotations

import json
import socket
import time
from decimal import Decimal

import httpx

from tests.conftest import Router
from tests.helpers import assert_error, request_detail, sse_lines
from tests.openapi import assert_valid


def stream(
    client: httpx.Client, text: str, model: str = "gpt-4o-mini", **extra: object
) -> list[str]:
    body = {
        "model": model,
        "messages": [{"role": "user", "content": text}],
        "stream": True,
        **extra,
    }
    with client.stream("POST", "/v1/chat/completions", json=body) as response:
        assert response.status_code == 200, response.read()
        assert response.headers["content-type"].startswith("text/event-stream")
        return sse_lines(response)


def test_stream_with_usage_ends_with_priced_usage_then_done(api: httpx.Client) -> None:
    lines = stream(api, "mock:chunks=5", stream_options={"include_usage": True})
    assert lines[-1] == "[DONE]"
    chunks = [json.loads(line) for line in lines[:-1]]
    for chunk in chunks:
        assert_valid(chunk, "CreateChatCompletionStreamResponse")
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"])
    assert text == "Hello from the mock. The answer is 42."
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    assert [c["choices"][0]["finish_reason"] for c in chunks if c["choices"]][-1] == "stop"
    last = chunks[-1]
    assert last["choices"] == []
    assert last["usage"]["prompt_tokens"] == 10 and last["usage"]["completion_tokens"] == 5
    assert Decimal(str(last["usage"]["total_cost_usd"])) == Decimal("0.0000045")
    assert len({c["id"] for c in chunks}) == 1


def test_stream_without_usage_still_records_tokens_and_cost(
    router: Router, api: httpx.Client
) -> None:
    lines = stream(api, "mock:chunks=4")
    chunks = [json.loads(line) for line in lines[:-1]]
    assert all("usage" not in c or c["usage"] is None for c in chunks)
    assert router.openai.state.last().body["stream_options"] == {"include_usage": True}
    detail = request_detail(api, chunks[0]["id"])
    assert detail["is_stream"] is True
    assert detail["status"] == "success"
    assert detail["input_tokens"] == 10 and detail["output_tokens"] == 5
    assert Decimal(str(detail["total_cost_usd"])) == Decimal("0.0000045")
    assert detail["response_text"] == "Hello from the mock. The answer is 42."
    assert detail["ttft_ms"] is not None


def test_tool_call_deltas_stream_in_indexed_form(api: httpx.Client) -> None:
    tools = [
        {"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}
    ]
    lines = stream(api, "mock:tool_call", tools=tools)
    chunks = [json.loads(line) for line in lines[:-1]]
    deltas = [d for c in chunks for d in c["choices"][0]["delta"].get("tool_calls") or []]
    assert deltas[0]["index"] == 0 and deltas[0]["id"] == "call_abc123"
    assert deltas[0]["function"]["name"] == "get_weather"
    assert "".join(d["function"]["arguments"] for d in deltas) == '{"city": "Paris"}'
    assert chunks[-1]["choices"][0]["finish_reason"] == "tool_calls"


def test_upstream_error_before_the_stream_is_a_normal_error_response(api: httpx.Client) -> None:
    body = {
        "model": "gpt-4o-mini",
        "messages": [{"role": "user", "content": "mock:error_429"}],
        "stream": True,
    }
    response = api.post("/v1/chat/completions", json=body)
    assert_error(response, 429)
    assert response.headers["retry-after"] == "7"


def test_upstream_failure_mid_stream_sends_an_error_event_and_records_it(api: httpx.Client) -> None:
    lines = stream(api, "mock:stream_fail")
    assert lines[-1] != "[DONE]"
    final = json.loads(lines[-1])
    assert set(final["error"]) == {"message", "type", "param", "code"}
    assert "mid-stream" in final["error"]["message"]
    request_id = json.loads(lines[0])["id"]
    detail = request_detail(api, request_id)
    assert detail["status"] == "error"
    assert detail["response_text"]  # what was generated before the failure


def test_client_disconnect_cancels_upstream_and_records_partial(
    router: Router, api: httpx.Client, user_key: str
) -> None:
    before = router.openai.state.disconnects
    host, port = router.url.removeprefix("http://").split(":")
    body = json.dumps(
        {
            "model": "gpt-4o-mini",
            "stream": True,
            "messages": [{"role": "user", "content": "mock:chunks=2000"}],
        }
    ).encode()
    request = (
        f"POST /v1/chat/completions HTTP/1.1\r\nHost: {host}\r\n"
        f"Authorization: Bearer {user_key}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode() + body
    with socket.create_connection((host, int(port))) as sock:
        sock.sendall(request)
        received = b""
        while received.count(b"data: ") < 5:
            received += sock.recv(65536)
    request_id = json.loads(received.split(b"data: ")[1].split(b"\n")[0])["id"]
    deadline = time.monotonic() + 5
    while router.openai.state.disconnects == before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert router.openai.state.disconnects > before, "the upstream stream was not cancelled"
    detail = request_detail(api, request_id)
    assert detail["status"] == "error"
    assert "disconnect" in detail["error_message"]
    # the upstream never reported usage: it is estimated from the text, never $0
    assert detail["output_tokens"] > 0
    assert detail["input_tokens"] > 0
    assert Decimal(str(detail["total_cost_usd"])) > 0
