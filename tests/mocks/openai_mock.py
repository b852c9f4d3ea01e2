"""A mock OpenAI Chat Completions server (also serves as DeepSeek and any
OpenAI-compatible vendor: `deepseek=True` answers with DeepSeek's usage fields).

Scenarios (`mock:<name>` in the last user message):
  echo (default)  "Echo: <last user text>"; usage 10 in / 5 out
  cached          usage 2000 in, 1500 of them cached, 100 out
  reasoning       reasoning_content and 200 reasoning tokens of 300 out
  tool_call       a call to the first tool given, finish_reason tool_calls
  tool_once       a call to the first tool given; once a tool message answers
                  it, "Tool said: <its content>" (an agent's whole loop)
  exec_cat        the same with Codex's shell tool: `exec_command` running
                  `cat hello.txt`
  read_file       a call to the `Read` tool on the first absolute path after the
                  directive (Claude Code's tool); once a tool message answers it,
                  "Tool said: <its content>"
  json            a JSON object as content
  length / content_filter   that finish_reason
  error_400 / error_401 / error_404 / error_429 / error_500 / error_503   that status
  bad_json        200 with a body that is not JSON
  slow            waits 3 s before answering (for timeouts)
  stream_fail     streams two chunks, then an error event
  chunks=N        streams the reply in N content chunks
  ratelimit=MS    429 with `retry-after: MS/1000` (seconds, fractional)
  sleep=MS        waits MS milliseconds, then answers normally (slow responses)
  drop            sends 200 headers, then cuts the connection (no body)
  stream_error_early / stream_drop_early   a stream that sends its opening chunk,
                  then an error event / a cut connection, before any content

`MockState.script` scripts one instance: each request takes the next scenario
from it, whatever its message says (e.g. "fail the next 3 calls").

`POST /v1/embeddings` (and `/embeddings`) answers hashed bag-of-words and
character-trigram vectors (tests/mocks/embeddings.py): similar texts are close.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator
from typing import Any

import orjson
from openai.types.chat import ChatCompletionMessageParam, ChatCompletionToolParam
from pydantic import TypeAdapter, ValidationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from tests.mocks.embeddings import embeddings
from tests.mocks.scenarios import REPLY, chunks_of, scenario_of, text_of
from tests.mocks.server import MockState, Recorded

_MESSAGE = TypeAdapter(ChatCompletionMessageParam)
_TOOL = TypeAdapter(ChatCompletionToolParam)


def _error(status: int, message: str, etype: str, code: str | None = None) -> JSONResponse:
    headers = {"retry-after": "7"} if status == 429 else {}
    body = {"error": {"message": message, "type": etype, "param": None, "code": code}}
    return JSONResponse(body, status_code=status, headers=headers)


async def _cut() -> AsyncIterator[bytes]:
    raise ConnectionResetError("mock: connection dropped")
    yield b""  # pragma: no cover - makes this a generator


async def _early(error: bool) -> AsyncIterator[bytes]:
    opening = {"role": "assistant", "content": ""}
    yield _frame(
        {
            "id": "chatcmpl-mock123",
            "object": "chat.completion.chunk",
            "created": 1,
            "model": "mock",
            "choices": [{"index": 0, "delta": opening, "finish_reason": None}],
        }
    )
    if error:
        yield _frame({"error": {"message": "mock failure before content", "type": "server_error"}})
        return
    raise ConnectionResetError("mock: connection dropped")


async def _failure(scenario: str, stream: bool) -> Response | None:
    """The routing scenarios: rate limits with a retry-after, slow answers, cuts."""
    if scenario.startswith("ratelimit="):
        seconds = int(scenario.split("=")[1]) / 1000
        body = {"error": {"message": "mock rate limit", "type": "rate_limit_exceeded"}}
        return JSONResponse(body, status_code=429, headers={"retry-after": f"{seconds:g}"})
    if scenario.startswith("sleep="):
        await asyncio.sleep(int(scenario.split("=")[1]) / 1000)
    elif scenario == "drop":
        return StreamingResponse(_cut(), media_type="application/json")
    elif scenario in ("stream_error_early", "stream_drop_early") and stream:
        error = scenario == "stream_error_early"
        return StreamingResponse(_early(error), media_type="text/event-stream")
    return None


def _validate(body: Any) -> str | None:
    """What is wrong with a request body, checked against the SDK's param types."""
    if not isinstance(body, dict):
        return "body must be a JSON object"
    if not isinstance(body.get("model"), str):
        return "model is required"
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return "messages must be a non-empty list"
    try:
        for message in messages:
            _MESSAGE.validate_python(message)
            if message.get("role") not in ("system", "developer", "user", "assistant", "tool"):
                return f"invalid role {message.get('role')!r}"
        for tool in body.get("tools") or []:
            _TOOL.validate_python(tool)
    except ValidationError as exc:
        return f"invalid request: {exc.errors()[0]['msg']}"
    if body.get("stream") and not (body.get("stream_options") or {}).get("include_usage"):
        return "the router must ask for usage on streams"
    return None


def _usage(scenario: str, deepseek: bool) -> dict[str, Any]:
    prompt, completion, cached, reasoning = 10, 5, 0, 0
    if scenario == "cached":
        prompt, completion, cached = 2000, 100, 1500
    elif scenario == "reasoning":
        completion, reasoning = 300, 200
    usage: dict[str, Any] = {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "completion_tokens_details": {"reasoning_tokens": reasoning},
    }
    if deepseek:
        usage["prompt_cache_hit_tokens"] = cached
        usage["prompt_cache_miss_tokens"] = prompt - cached
    else:
        usage["prompt_tokens_details"] = {"cached_tokens": cached}
    return usage


def _message(scenario: str, body: dict[str, Any], last_text: str) -> tuple[dict[str, Any], str]:
    message: dict[str, Any] = {"role": "assistant", "content": f"Echo: {last_text}"}
    finish = "stop"
    if scenario == "tool_call" and body.get("tools"):
        name = body["tools"][0]["function"]["name"]
        message = {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_abc123",
                    "type": "function",
                    "function": {"name": name, "arguments": '{"city": "Paris"}'},
                }
            ],
        }
        finish = "tool_calls"
    elif scenario in ("read_file", "tool_once", "exec_cat") and body.get("tools"):
        message, finish = _tool_loop(scenario, body, last_text)
    elif scenario == "json":
        message["content"] = '{"answer": 42}'
    elif scenario == "reasoning":
        message["reasoning_content"] = "Let me think. 6 times 7 is 42."
        message["content"] = REPLY
    elif scenario in ("length", "content_filter"):
        finish = scenario
    elif scenario.startswith("chunks="):
        message["content"] = REPLY
    return message, finish


_ABSOLUTE_PATH = re.compile(r"(/[\w.-]+)+")


def _tool_loop(scenario: str, body: dict[str, Any], last_text: str) -> tuple[dict[str, Any], str]:
    """One tool call, then an answer quoting the tool's result."""
    last = body["messages"][-1]
    if last.get("role") == "tool":
        return {"role": "assistant", "content": f"Tool said: {text_of(last['content'])}"}, "stop"
    if scenario == "read_file":
        found = _ABSOLUTE_PATH.search(last_text.split("mock:read_file", 1)[-1])
        name, args = "Read", {"file_path": found.group(0) if found else "/nonexistent"}
    elif scenario == "exec_cat":
        name, args = "exec_command", {"cmd": "cat hello.txt"}
    else:
        name, args = body["tools"][0]["function"]["name"], {"city": "Paris"}
    function = {"name": name, "arguments": orjson.dumps(args).decode()}
    call = {"id": "call_loop1", "type": "function", "function": function}
    return {"role": "assistant", "content": None, "tool_calls": [call]}, "tool_calls"


def create_app(state: MockState, *, api_key: str, deepseek: bool = False) -> Starlette:
    async def chat(request: Request) -> Response:
        raw = await request.body()
        try:
            body = orjson.loads(raw)
        except orjson.JSONDecodeError:
            return _error(400, "body is not JSON", "invalid_request_error")
        state.requests.append(
            Recorded("POST", request.url.path, request.url.query, dict(request.headers), body)
        )
        auth = request.headers.get("authorization") or ""
        if auth != f"Bearer {api_key}" and request.headers.get("api-key") != api_key:
            return _error(
                401, "Incorrect API key provided.", "invalid_request_error", "invalid_api_key"
            )
        if problem := _validate(body):
            return _error(400, problem, "invalid_request_error")
        users = [m for m in body["messages"] if m.get("role") == "user"]
        last_text = text_of(users[-1].get("content")) if users else ""
        scenario = state.next_scenario(scenario_of(last_text))
        if failure := await _failure(scenario, bool(body.get("stream"))):
            return failure
        if scenario.startswith("error_"):
            status = int(scenario.split("_")[1])
            etype = {429: "rate_limit_exceeded", 401: "invalid_request_error"}.get(
                status, "server_error" if status >= 500 else "invalid_request_error"
            )
            return _error(status, f"mock error {status}", etype, code=f"mock_{status}")
        if scenario == "bad_json":
            return Response(b"<html>not json", media_type="application/json")
        if scenario == "slow":
            await asyncio.sleep(3)
        message, finish = _message(scenario, body, last_text)
        usage = _usage(scenario, deepseek)
        if body.get("stream"):
            return StreamingResponse(
                _stream(state, body["model"], scenario, message, finish, usage),
                media_type="text/event-stream",
            )
        return JSONResponse(
            {
                "id": "chatcmpl-mock123",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": body["model"],
                "choices": [
                    {"index": 0, "message": message, "finish_reason": finish, "logprobs": None}
                ],
                "usage": usage,
            }
        )

    async def embed(request: Request) -> Response:
        auth = request.headers.get("authorization") or ""
        ok = auth == f"Bearer {api_key}" or request.headers.get("api-key") == api_key
        return await embeddings(request, state, ok)

    # DeepSeek's documented base URL has no /v1: its SDK users post to /chat/completions.
    path = "/chat/completions" if deepseek else "/v1/chat/completions"
    return Starlette(
        routes=[
            Route(path, chat, methods=["POST"]),
            Route("/v1/embeddings", embed, methods=["POST"]),
            Route("/embeddings", embed, methods=["POST"]),
        ]
    )


def _frame(data: dict[str, Any]) -> bytes:
    return b"data: " + orjson.dumps(data) + b"\n\n"


async def _stream(
    state: MockState,
    model: str,
    scenario: str,
    message: dict[str, Any],
    finish: str,
    usage: dict[str, Any],
) -> AsyncIterator[bytes]:
    base = {
        "id": "chatcmpl-mock123",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": model,
    }

    def chunk(delta: dict[str, Any], reason: str | None = None) -> bytes:
        choice = {"index": 0, "delta": delta, "finish_reason": reason}
        return _frame({**base, "choices": [choice], "usage": None})

    try:
        yield chunk({"role": "assistant", "content": ""})
        if reasoning := message.get("reasoning_content"):
            yield chunk({"reasoning_content": reasoning})
        n = int(scenario.split("=")[1]) if scenario.startswith("chunks=") else 3
        for i, piece in enumerate(chunks_of(message.get("content") or "", n)):
            if scenario == "stream_fail" and i == 2:
                yield _frame(
                    {"error": {"message": "mock failure mid-stream", "type": "server_error"}}
                )
                return
            yield chunk({"content": piece})
            await asyncio.sleep(0.002)  # a real pace, so a client can leave mid-stream
        for index, call in enumerate(message.get("tool_calls") or []):
            name = call["function"]["name"]
            first = {"index": index, "id": call["id"], "type": "function"}
            yield chunk({"tool_calls": [{**first, "function": {"name": name, "arguments": ""}}]})
            args = call["function"]["arguments"]
            for piece in (args[: len(args) // 2], args[len(args) // 2 :]):
                yield chunk({"tool_calls": [{"index": index, "function": {"arguments": piece}}]})
        yield chunk({}, finish)
        yield _frame({**base, "choices": [], "usage": usage})
        yield b"data: [DONE]\n\n"
    except asyncio.CancelledError:
        state.disconnects += 1
        raise
