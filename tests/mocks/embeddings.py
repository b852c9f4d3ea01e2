"""The mock `/embeddings` endpoint's vectors: meaningful enough to test with.

A text becomes a hashed bag of its words and character trigrams (lower-cased,
punctuation dropped), each feature counted into one of DIMENSIONS buckets with
a sign from its hash, then normalised. Texts that share most of their words
and spelling are close (cosine near 1); unrelated texts are near 0.
"""

from __future__ import annotations

import base64
import hashlib
import math
import re
import struct
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from tests.mocks.server import MockState, Recorded

DIMENSIONS = 512
_WORD = re.compile(r"[a-z0-9]+")


def _features(text: str) -> list[str]:
    words = _WORD.findall(text.lower())
    joined = f" {' '.join(words)} "
    trigrams = [joined[i : i + 3] for i in range(len(joined) - 2)]
    return [f"w:{w}" for w in words] + [f"c:{t}" for t in trigrams]


def embed(text: str) -> list[float]:
    vector = [0.0] * DIMENSIONS
    for feature in _features(text):
        digest = hashlib.blake2b(feature.encode(), digest_size=8).digest()
        bucket = int.from_bytes(digest[:4], "big") % DIMENSIONS
        vector[bucket] += 1.0 if digest[4] & 1 else -1.0
    norm = math.sqrt(sum(v * v for v in vector)) or 1.0
    return [v / norm for v in vector]


def cosine(a: str, b: str) -> float:
    return sum(x * y for x, y in zip(embed(a), embed(b), strict=True))


def sized(vector: list[float], dimensions: int | None) -> list[float]:
    """Shortened to `dimensions` and normalised again, as text-embedding-3 does."""
    if dimensions is None:
        return vector
    cut = vector[:dimensions]
    norm = math.sqrt(sum(v * v for v in cut)) or 1.0
    return [v / norm for v in cut]


def _openai_error(status: int, message: str, param: str | None = None) -> Response:
    error = {"message": message, "type": "invalid_request_error", "param": param, "code": None}
    return JSONResponse({"error": error}, status)


def _texts(inputs: Any) -> list[str] | None:
    """OpenAI's four shapes of `input` as texts (a token array as its ids); None if bad."""
    if isinstance(inputs, str) and inputs:
        return [inputs]
    if not isinstance(inputs, list) or not inputs or len(inputs) > 2048:
        return None
    if all(isinstance(i, str) and i for i in inputs):
        return list(inputs)
    if all(isinstance(i, int) and not isinstance(i, bool) for i in inputs):
        inputs = [inputs]
    if all(isinstance(i, list) and i and all(isinstance(t, int) for t in i) for i in inputs):
        return [" ".join(f"t{t}" for t in i) for i in inputs]
    return None


_FIELDS = {"input", "model", "encoding_format", "dimensions", "user"}


async def embeddings(request: Request, state: MockState, authorised: bool) -> Response:
    """OpenAI's `POST /v1/embeddings`: `input` a string, a list of strings, a token
    array or a list of them; `dimensions`; `encoding_format` float or base64
    (little-endian float32). Usage: one token a word, a token id a token.
    An input containing `mock:error_500`, or the scenario `error_500` next in
    `state.script`, answers 500."""
    body: Any = await request.json()
    state.requests.append(
        Recorded("POST", request.url.path, request.url.query, dict(request.headers), body)
    )
    if not authorised:
        error = {"message": "Incorrect API key provided.", "type": "invalid_request_error"}
        return JSONResponse({"error": {**error, "param": None, "code": "invalid_api_key"}}, 401)
    if not isinstance(body, dict) or (unknown := sorted(set(body) - _FIELDS)):
        return _openai_error(400, f"Unrecognized request argument supplied: {unknown[0]}")
    texts = _texts(body.get("input"))
    if texts is None:
        return _openai_error(400, "'$.input' is invalid.", "input")
    scripted = state.next_scenario("")  # `MockState.script` fails the next calls
    if scripted == "error_500" or any("mock:error_500" in text for text in texts):
        return JSONResponse({"error": {"message": "mock error 500", "type": "server_error"}}, 500)
    dimensions = body.get("dimensions")
    if dimensions is not None and (not isinstance(dimensions, int) or dimensions < 1):
        return _openai_error(400, "dimensions must be at least 1", "dimensions")
    encoding = body.get("encoding_format", "float")
    if encoding not in ("float", "base64"):
        return _openai_error(400, "encoding_format must be float or base64", "encoding_format")
    inputs = body["input"]
    tokens = (
        sum(len(_WORD.findall(text)) for text in texts)
        if isinstance(inputs, str) or isinstance(inputs[0], str)
        else sum(len(text.split()) for text in texts)
    )
    vectors = [sized(embed(text), dimensions) for text in texts]
    return JSONResponse(
        {
            "object": "list",
            "data": [
                {
                    "object": "embedding",
                    "index": i,
                    "embedding": base64.b64encode(struct.pack(f"<{len(v)}f", *v)).decode()
                    if encoding == "base64"
                    else v,
                }
                for i, v in enumerate(vectors)
            ],
            "model": body.get("model"),
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
        }
    )
