"""The mock `/embeddings` endpoint's vectors: meaningful enough to test with.

A text becomes a hashed bag of its words and character trigrams (lower-cased,
punctuation dropped), each feature counted into one of DIMENSIONS buckets with
a sign from its hash, then normalised. Texts that share most of their words
and spelling are close (cosine near 1); unrelated texts are near 0.
"""

from __future__ import annotations

import hashlib
import math
import re
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


async def embeddings(request: Request, state: MockState, authorised: bool) -> Response:
    """OpenAI's `POST /v1/embeddings`: `input` is a string or a list of strings."""
    body: Any = await request.json()
    state.requests.append(
        Recorded("POST", request.url.path, request.url.query, dict(request.headers), body)
    )
    if not authorised:
        error = {"message": "Incorrect API key provided.", "type": "invalid_request_error"}
        return JSONResponse({"error": {**error, "param": None, "code": "invalid_api_key"}}, 401)
    inputs = body.get("input") if isinstance(body, dict) else None
    if isinstance(inputs, str):
        inputs = [inputs]
    if not isinstance(inputs, list) or not all(isinstance(i, str) for i in inputs) or not inputs:
        error = {"message": "input must be a string or a list of strings", "param": "input"}
        return JSONResponse(
            {"error": {**error, "type": "invalid_request_error", "code": None}}, 400
        )
    tokens = sum(len(_WORD.findall(text)) for text in inputs)
    return JSONResponse(
        {
            "object": "list",
            "data": [
                {"object": "embedding", "index": i, "embedding": embed(text)}
                for i, text in enumerate(inputs)
            ],
            "model": body.get("model"),
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
        }
    )
