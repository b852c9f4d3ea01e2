"""A mock Google Gemini API (v1beta): `models/{model}:generateContent` and
`models/{model}:streamGenerateContent?alt=sse`, and
`models/{model}:batchEmbedContents` (the vectors of tests/mocks/embeddings.py,
no usage, as the real API answers; `mock:error_500` in a text answers 500).

It checks what it is sent: the `x-goog-api-key` header (a bad key is a 400
with ErrorInfo reason API_KEY_INVALID, as the real API answers), the body
validated with google-genai's pydantic types, explicit roles user/model
alternating from a user turn, no empty parts, and functionResponse names
answering an earlier functionCall. Anything wrong is a 400 INVALID_ARGUMENT.
Top-level names must be camelCase; nested ones may also be snake_case, which
the real API accepts and the SDK itself sends.

Scenarios (`mock:<name>` in the last user text):
  echo (default)  "Echo: <last user text>"; usage 10 in / 5 out
  cached          usage 2000 in, 1500 of them cached, 100 out
  reasoning       a `thought: true` part; 200 thought tokens, 100 candidate tokens
  tool_call       a functionCall of the first declared function, {"city": "Paris"},
                  finishReason STOP (with a thoughtSignature and no id, as Gemini sends)
  json            a JSON object as text
  length          finishReason MAX_TOKENS
  content_filter  finishReason SAFETY and no content
  blocked         no candidates; promptFeedback.blockReason SAFETY
  malformed_call  finishReason MALFORMED_FUNCTION_CALL and no content
  error_400 / error_403 / error_404 / error_429 / error_500 / error_503   that status,
                  in Google's error body (429 carries RetryInfo retryDelay "7s")
  bad_json        200 with a body that is not JSON
  slow            waits 3 s before answering (for timeouts)
  stream_fail     streams two chunks, then an error payload
  chunks=N        streams the reply in N text chunks
Streams send `data: <GenerateContentResponse>\\r\\n\\r\\n` frames with cumulative
usageMetadata, finishReason on the last chunk, and no [DONE]. Chunks are 10 ms
apart, so a client that goes away mid-stream is noticed (`state.disconnects`).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import orjson
from google.genai import types
from pydantic import BaseModel, ValidationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from tests.mocks.embeddings import DIMENSIONS, embed, sized
from tests.mocks.scenarios import REPLY, chunks_of, scenario_of
from tests.mocks.server import MockState, Recorded

STATUS_NAMES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}
_RPC = "type.googleapis.com/google.rpc."
# Top-level request fields and the SDK type each one is checked against.
_FIELDS: dict[str, type[BaseModel] | None] = {
    "contents": None,  # checked part by part below
    "systemInstruction": types.Content,
    "generationConfig": types.GenerationConfig,
    "toolConfig": types.ToolConfig,
    "tools": types.Tool,
    "safetySettings": types.SafetySetting,
    "cachedContent": None,
}
MODEL_VERSION = "gemini-mock-001"
SIGNATURE = "c2lnbmF0dXJlLW9mLWEtdGhvdWdodA=="  # base64, opaque like the real one
THOUGHT = "Let me think. 6 times 7 is 42."


def _error(status: int, message: str, details: list[dict[str, Any]] | None = None) -> Response:
    body = {"error": {"code": status, "message": message, "status": STATUS_NAMES.get(status)}}
    if details:
        body["error"]["details"] = details
    return JSONResponse(body, status_code=status)


def _scenario_error(status: int) -> Response:
    details: list[dict[str, Any]] = []
    if status == 429:
        details = [
            {
                "@type": _RPC + "QuotaFailure",
                "violations": [
                    {
                        "quotaMetric": "generativelanguage.googleapis.com/generate_requests",
                        "quotaId": "GenerateRequestsPerMinutePerProjectPerModel",
                    }
                ],
            },
            {"@type": _RPC + "RetryInfo", "retryDelay": "7s"},
        ]
    return _error(status, f"mock error {status}", details)


def _typed(model: type[BaseModel], value: Any, where: str) -> str | None:
    try:
        # Like the real API (proto3 JSON), this takes camelCase and snake_case
        # names; the SDK itself sends some nested fields in snake_case.
        model.model_validate(value)
    except ValidationError as exc:
        first = exc.errors()[0]
        return f"{where}.{'.'.join(map(str, first['loc']))}: {first['msg']}"
    return None


def _check_parts(parts: Any, where: str) -> str | None:
    if not isinstance(parts, list) or not parts:
        return f"{where} must have at least one part"
    for i, part in enumerate(parts):
        if not isinstance(part, dict) or not part:
            return f"{where}[{i}] is empty"
        if "text" in part and not part["text"]:
            return f"{where}[{i}].text is empty"
    return None


def _validate(body: Any) -> str | None:
    """What the real API would reject in a request body (a 400 INVALID_ARGUMENT)."""
    if not isinstance(body, dict):
        return "body must be a JSON object"
    for name, value in body.items():
        if name not in _FIELDS:
            return f'Invalid JSON payload received. Unknown name "{name}": Cannot find field.'
        model = _FIELDS[name]
        for i, item in enumerate(value if isinstance(value, list) else [value]):
            if model is not None and (problem := _typed(model, item, f"{name}[{i}]")):
                return problem
    system = body.get("systemInstruction")
    if system and (problem := _check_parts(system.get("parts"), "systemInstruction.parts")):
        return problem
    if len((body.get("generationConfig") or {}).get("stopSequences") or []) > 5:
        return "generationConfig.stopSequences takes at most 5 sequences"
    return _validate_contents(body.get("contents"))


def _validate_contents(contents: Any) -> str | None:
    if not isinstance(contents, list) or not contents:
        return "contents is not specified"
    called: set[str] = set()
    previous = None
    for i, content in enumerate(contents):
        where = f"contents[{i}]"
        if problem := _typed(types.Content, content, where):
            return problem
        role = content.get("role")
        if role not in ("user", "model"):
            return f"{where}.role must be 'user' or 'model', not {role!r}"
        if previous is None and role != "user":
            return "the conversation must start with a user turn"
        if role == previous:
            return f"{where}: consecutive '{role}' turns must be merged"
        previous = role
        if problem := _check_parts(content.get("parts"), f"{where}.parts"):
            return problem
        for part in content["parts"]:
            if role == "model" and "functionCall" in part:
                called.add(part["functionCall"].get("name"))
            if "functionResponse" in part:
                if role != "user":
                    return f"{where}: a functionResponse belongs in a user turn"
                name = part["functionResponse"].get("name")
                if name not in called:
                    return f"{where}: functionResponse '{name}' answers no earlier functionCall"
    return None


def _last_user_text(contents: list[dict[str, Any]]) -> str:
    for content in reversed(contents):
        texts = [p["text"] for p in content["parts"] if "text" in p]
        if content["role"] == "user" and texts:
            return " ".join(texts)
    return ""


def _usage(scenario: str, fraction: float = 1.0) -> dict[str, Any]:
    prompt, candidates, cached, thoughts = 10, 5, 0, 0
    if scenario == "cached":
        prompt, candidates, cached = 2000, 100, 1500
    elif scenario == "reasoning":
        candidates, thoughts = 100, 200
    candidates = round(candidates * fraction)
    usage: dict[str, Any] = {
        "promptTokenCount": prompt,
        "candidatesTokenCount": candidates,
        "totalTokenCount": prompt + candidates + thoughts,
        "promptTokensDetails": [{"modality": "TEXT", "tokenCount": prompt}],
    }
    if cached:
        usage["cachedContentTokenCount"] = cached
    if thoughts:
        usage["thoughtsTokenCount"] = thoughts
    return usage


def _reply(scenario: str, body: dict[str, Any], last_text: str) -> tuple[list[dict[str, Any]], str]:
    """The candidate's parts and finishReason."""
    parts: list[dict[str, Any]] = [{"text": f"Echo: {last_text}"}]
    declared = [d for tool in body.get("tools") or [] for d in tool.get("functionDeclarations", [])]
    if scenario == "tool_call" and declared:
        call = {"name": declared[0]["name"], "args": {"city": "Paris"}}
        return [{"functionCall": call, "thoughtSignature": SIGNATURE}], "STOP"
    if scenario == "json":
        return [{"text": '{"answer": 42}'}], "STOP"
    if scenario == "reasoning":
        return [{"text": THOUGHT, "thought": True}, {"text": REPLY}], "STOP"
    if scenario.startswith("chunks="):
        return [{"text": REPLY}], "STOP"
    finish = {
        "length": "MAX_TOKENS",
        "content_filter": "SAFETY",
        "malformed_call": "MALFORMED_FUNCTION_CALL",
    }.get(scenario, "STOP")
    if finish in ("SAFETY", "MALFORMED_FUNCTION_CALL"):
        parts = []
    return parts, finish


def _response(
    parts: list[dict[str, Any]], finish: str | None, usage: dict[str, Any]
) -> dict[str, Any]:
    candidate: dict[str, Any] = {"index": 0}
    if parts:
        candidate["content"] = {"role": "model", "parts": parts}
    if finish:
        candidate["finishReason"] = finish
    if finish == "SAFETY":
        candidate["safetyRatings"] = [
            {"category": "HARM_CATEGORY_DANGEROUS_CONTENT", "probability": "HIGH", "blocked": True}
        ]
    return {
        "candidates": [candidate],
        "usageMetadata": usage,
        "modelVersion": MODEL_VERSION,
        "responseId": "mock-response-1",
    }


def _blocked(usage: dict[str, Any]) -> dict[str, Any]:
    return {
        "promptFeedback": {
            "blockReason": "SAFETY",
            "safetyRatings": [{"category": "HARM_CATEGORY_HARASSMENT", "probability": "HIGH"}],
        },
        "usageMetadata": {k: v for k, v in usage.items() if k.startswith("prompt")},
        "modelVersion": MODEL_VERSION,
        "responseId": "mock-response-1",
    }


def create_app(state: MockState, *, api_key: str) -> Starlette:
    async def models(request: Request) -> Response:
        raw = await request.body()
        try:
            body = orjson.loads(raw)
        except orjson.JSONDecodeError:
            return _error(400, "Invalid JSON payload received.")
        state.requests.append(
            Recorded("POST", request.url.path, request.url.query, dict(request.headers), body)
        )
        model, _, method = request.path_params["rest"].partition(":")
        if method == "batchEmbedContents" and model:
            if request.headers.get("x-goog-api-key") != api_key:
                return _error(400, "API key not valid. Please pass a valid API key.")
            return _batch_embed(model, body)
        if method not in ("generateContent", "streamGenerateContent") or not model:
            return _error(404, f"unknown method {method!r}")
        stream = method == "streamGenerateContent"
        if stream and request.query_params.get("alt") != "sse":
            return _error(400, "the mock streams only with alt=sse")
        if request.headers.get("x-goog-api-key") != api_key:
            info = {
                "@type": _RPC + "ErrorInfo",
                "reason": "API_KEY_INVALID",
                "domain": "googleapis.com",
            }
            return _error(400, "API key not valid. Please pass a valid API key.", [info])
        if problem := _validate(body):
            return _error(400, problem)
        scenario = scenario_of(_last_user_text(body["contents"]))
        if scenario.startswith("error_"):
            return _scenario_error(int(scenario.split("_")[1]))
        if scenario == "bad_json":
            return Response(b"<html>not json", media_type="application/json")
        if scenario == "slow":
            await asyncio.sleep(3)
        parts, finish = _reply(scenario, body, _last_user_text(body["contents"]))
        if stream:
            return StreamingResponse(
                _stream(state, scenario, parts, finish), media_type="text/event-stream"
            )
        if scenario == "blocked":
            return JSONResponse(_blocked(_usage(scenario)))
        return JSONResponse(_response(parts, finish, _usage(scenario)))

    return Starlette(routes=[Route("/v1beta/models/{rest:path}", models, methods=["POST"])])


_EMBED_FIELDS = {"model", "content", "taskType", "title", "outputDimensionality"}


def _batch_embed(model: str, body: Any) -> Response:
    """`models/{model}:batchEmbedContents`: one vector per request, each request
    naming the URL's model; text parts only. No usage, as the real API sends."""
    if not isinstance(body, dict) or set(body) != {"requests"}:
        return _error(400, 'Invalid JSON payload received. Expected only "requests".')
    requests = body["requests"]
    if not isinstance(requests, list) or not requests or len(requests) > 100:
        return _error(400, "requests must hold 1 to 100 requests")
    vectors = []
    for i, item in enumerate(requests):
        where = f"requests[{i}]"
        if not isinstance(item, dict) or (unknown := sorted(set(item) - _EMBED_FIELDS)):
            return _error(400, f'Invalid JSON payload received. Unknown name "{unknown[0]}".')
        if item.get("model") != f"models/{model}":
            return _error(400, f"{where}.model must be the URL's model, models/{model}")
        if problem := _typed(types.Content, item.get("content"), f"{where}.content"):
            return _error(400, problem)
        parts = item["content"].get("parts")
        if problem := _check_parts(parts, f"{where}.content.parts"):
            return _error(400, problem)
        if not all(set(p) == {"text"} for p in parts):
            return _error(400, f"{where}.content.parts: text parts only")
        text = " ".join(p["text"] for p in parts)
        if "mock:error_500" in text:
            return _scenario_error(500)
        size = item.get("outputDimensionality")
        if size is not None and (not isinstance(size, int) or not 1 <= size <= DIMENSIONS):
            return _error(400, f"{where}.outputDimensionality must be 1 to {DIMENSIONS}")
        vectors.append({"values": sized(embed(text), size)})
    return JSONResponse({"embeddings": vectors})


def _frame(data: dict[str, Any]) -> bytes:
    return b"data: " + orjson.dumps(data) + b"\r\n\r\n"


def _pieces(scenario: str, parts: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """The parts of each chunk: text split, thoughts and function calls whole."""
    n = int(scenario.split("=")[1]) if scenario.startswith("chunks=") else 3
    chunks: list[list[dict[str, Any]]] = []
    for part in parts:
        if "text" in part and not part.get("thought"):
            chunks.extend([{"text": piece}] for piece in chunks_of(part["text"], n))
        else:
            chunks.append([part])
    return chunks or [[]]


async def _stream(
    state: MockState, scenario: str, parts: list[dict[str, Any]], finish: str
) -> AsyncIterator[bytes]:
    try:
        if scenario == "blocked":
            yield _frame(_blocked(_usage(scenario)))
            return
        chunks = _pieces(scenario, parts)
        for i, chunk_parts in enumerate(chunks):
            if scenario == "stream_fail" and i == 2:
                error = {"code": 500, "message": "mock failure mid-stream", "status": "INTERNAL"}
                yield _frame({"error": error})
                return
            last = i == len(chunks) - 1
            usage = _usage(scenario, (i + 1) / len(chunks))
            yield _frame(_response(chunk_parts, finish if last else None, usage))
            await asyncio.sleep(0.01)
    except asyncio.CancelledError:
        state.disconnects += 1
        raise
