"""Streamed chat: OpenAI chunks, usage, tool-call deltas, failures, disconnects."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest

from model_router.services.catalogue_admin import ModelSpec, add_model, add_provider
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


class _GatedStream:
    """An OpenAI-compatible upstream that streams one chunk, then waits for
    `gate` before it sends the rest."""

    def __init__(self) -> None:
        self.gate = threading.Event()
        self.sent_rest = False
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}/v1"
        threading.Thread(target=self._serve, daemon=True).start()

    @staticmethod
    def _chunk(delta: dict[str, str], finish: str | None = None) -> bytes:
        choice = {"index": 0, "delta": delta, "finish_reason": finish}
        body = {"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "g"}
        return b"data: " + json.dumps(body | {"choices": [choice]}).encode() + b"\n\n"

    def __enter__(self) -> _GatedStream:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.gate.set()
        self._listener.close()

    def _serve(self) -> None:
        try:
            conn, _ = self._listener.accept()
        except OSError:  # closed before any call
            return
        finally:
            self._listener.close()
        with conn:
            request = b""
            while b"\r\n\r\n" not in request:
                request += conn.recv(65536)
            head, _, body = request.partition(b"\r\n\r\n")
            length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
            while len(body) < length:
                body += conn.recv(65536)
            conn.sendall(
                b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nconnection: close\r\n\r\n"
                + self._chunk({"role": "assistant", "content": "first"})
            )
            self.gate.wait(10)
            self.sent_rest = True
            conn.sendall(self._chunk({"content": " second"}, "stop") + b"data: [DONE]\n\n")


@pytest.fixture
def gated() -> Iterator[_GatedStream]:
    with _GatedStream() as upstream:
        yield upstream


def test_each_chunk_reaches_the_client_while_the_upstream_is_still_streaming(
    router: Router, api: httpx.Client, gated: _GatedStream, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Events that arrive together leave together, but none waits for the next
    upstream read: the client has the first words while the upstream holds the rest."""
    upstream = gated
    monkeypatch.setenv("GATED_API_KEY", "sk-gated")

    async def seed(sessions: Any) -> None:
        await add_provider(
            sessions, "gated", base_url=upstream.url, api_key_setting="GATED_API_KEY"
        )
        await add_model(sessions, ModelSpec(provider="gated", model_id="gated-model"))

    router.run(seed)
    time.sleep(1.5)  # the running router reloads its catalogue every 0.5 s
    body = {"model": "gated-model", "stream": True, "messages": [{"role": "user", "content": "hi"}]}
    with api.stream("POST", "/v1/chat/completions", json=body) as response:
        assert response.status_code == 200, response.read()
        lines = (line[6:] for line in response.iter_lines() if line.startswith("data: "))
        content = ""
        for line in lines:
            delta = json.loads(line)["choices"][0]["delta"]
            content += delta.get("content") or ""
            if content:
                break
        assert content == "first"
        assert not upstream.sent_rest, "the first chunk waited for the rest of the stream"
        upstream.gate.set()
        rest = list(lines)
    assert rest[-1] == "[DONE]"
    assert (
        "".join(
            json.loads(line)["choices"][0]["delta"].get("content") or ""
            for line in rest[:-1]
            if json.loads(line)["choices"]
        )
        == " second"
    )
