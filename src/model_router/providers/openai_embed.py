"""OpenAI's `POST /embeddings`, for every OpenAI-compatible vendor: the
client's body goes on natively (model swapped, the router's fields removed);
the answer's vectors and usage come back as they are: base64 when the client
asked for it, else each JSON array of numbers as the bytes the upstream sent
(`FloatArray`: checked, never decoded into floats and encoded again)."""

from __future__ import annotations

import re
from typing import Any

from model_router.domain.embeddings import (
    EmbeddingRequest,
    Embeddings,
    FloatArray,
    Vector,
    estimated_usage,
)
from model_router.domain.request import ROUTER_FIELDS
from model_router.domain.usage import Usage
from model_router.providers.base import Target
from model_router.providers.http import malformed

# The router's own fields, and `metadata` (the router's tags on embeddings:
# OpenAI's embeddings endpoint takes no metadata).
NOT_SENT = ROUTER_FIELDS | {"metadata"}


def to_body(request: EmbeddingRequest, target: Target) -> dict[str, Any]:
    """The upstream body: the client's own when it sent one, else the neutral fields."""
    if request.native is not None and request.native.protocol == "openai":
        body = {k: v for k, v in request.native.body.items() if k not in NOT_SENT}
    else:
        body = {"input": request.inputs, "encoding_format": request.encoding_format}
        if request.dimensions is not None:
            body["dimensions"] = request.dimensions
        if request.user is not None:
            body["user"] = request.user
    body["model"] = target.upstream_model
    return body


def from_response(
    data: Any, provider: str, request: EmbeddingRequest, raw: bytes = b""
) -> Embeddings:
    """The vectors in input order; a list that does not match the inputs is a 502.
    `raw` is the body `data` was decoded from: its arrays of numbers are kept
    as sent. An upstream that reports no usage gets it estimated (`estimated_usage`)."""
    count = len(request.inputs)
    try:
        items = data["data"]
        order = sorted(range(len(items)), key=lambda n: int(items[n].get("index", 0)))
        sent = _as_sent(raw, items)
        vectors = [sent.get(n) or _vector(items[n]["embedding"]) for n in order]
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise malformed(provider, "no data[].embedding") from exc
    if len(vectors) != count:
        raise malformed(provider, f"{len(vectors)} embeddings for {count} inputs")
    usage = data.get("usage")
    model = data.get("model")
    model = model if isinstance(model, str) else None
    if not isinstance(usage, dict) or not isinstance(usage.get("prompt_tokens"), int):
        return Embeddings(vectors, estimated_usage(request), True, model)
    return Embeddings(vectors, Usage(input_tokens=usage["prompt_tokens"]), upstream_model=model)


def _vector(value: Any) -> Vector:
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return [float(v) for v in value]
    raise TypeError("an embedding is a list of numbers or a base64 string")


_KEY = b'"embedding"'
_TO_ARRAY = re.compile(rb"[ \t\r\n]*:[ \t\r\n]*\[")


def _not_numbers(array: bytes) -> bool:
    """Whether `array` holds a nested array or object, a string, true, false or null."""
    return (
        array.find(b"[", 1) >= 0 or b"{" in array or b'"' in array or b"a" in array or b"u" in array
    )


def _as_sent(raw: bytes, items: list[Any]) -> dict[int, FloatArray]:
    """The items' arrays of numbers as `raw` has them, by position in `data`;
    none when they cannot be matched one for one (the floats are used then).

    `raw` is valid JSON (it was decoded). An `"embedding"` key's array that
    holds no nested array, object, string, true, false or null ends at its
    first `]` and is a valid array of numbers. There is one such array per
    item whose embedding is a list, in document order, unless an upstream
    spells a key with escapes; each is checked by its last number (a
    correctly rounded read of the same text is the same float)."""
    lists = [n for n, item in enumerate(items) if isinstance(item["embedding"], list)]
    arrays: list[bytes] = []
    at = raw.find(_KEY)
    while at >= 0 and len(arrays) <= len(lists):
        opened = _TO_ARRAY.match(raw, at + len(_KEY))
        if opened is None:  # the key's value is no array (or it is a value: "embedding")
            at = raw.find(_KEY, at + len(_KEY))
            continue
        end = raw.index(b"]", opened.end()) + 1
        array = raw[opened.end() - 1 : end]
        if _not_numbers(array):
            return {}
        arrays.append(array)
        at = raw.find(_KEY, end)
    if len(arrays) != len(lists):
        return {}
    sent: dict[int, FloatArray] = {}
    for n, array in zip(lists, arrays, strict=True):
        floats = items[n]["embedding"]
        last = array[max(array.rfind(b","), 0) + 1 : -1]
        if not floats or float(last) != floats[-1]:
            return {}
        sent[n] = FloatArray(array)
    return sent
