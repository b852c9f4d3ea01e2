"""OpenAI's embeddings front door (`POST /v1/embeddings`): pure translation.

`to_request` checks the body field by field (a 400 naming the field, in
OpenAI's error shape) and keeps it whole as the `NativeBody` an
OpenAI-compatible upstream gets. `render` writes OpenAI's
`CreateEmbeddingResponse` (`object: "list"`, `data`, `model`, `usage`) plus the
router's fields: cost beside the usage (`input_cost_usd`, `output_cost_usd`,
`total_cost_usd`, and `tokens_estimated` when the provider counted none),
`id`, `provider`, `latency_ms`, `created_at`. Vectors are floats (an
upstream's JSON array written as it sent it), or base64 (little-endian
float32) when the client asked: encoded here when the upstream sent floats.
"""

from __future__ import annotations

from typing import Any

from model_router.domain.embeddings import (
    EmbeddingRequest,
    Embeddings,
    EncodingFormat,
    FloatArray,
    Vector,
    encode_base64,
    floats_of,
)
from model_router.domain.request import FrontDoor, NativeBody
from model_router.errors import InvalidRequest
from model_router.frontdoors.base import Answered, cost_json
from model_router.jsonutil import dumps, verbatim

MAX_INPUTS = 2048  # OpenAI's limit on the items of `input`
ENCODINGS: tuple[EncodingFormat, ...] = ("float", "base64")


def _bad(field: str, problem: str) -> InvalidRequest:
    return InvalidRequest(
        f"Invalid value for '{field}': {problem}", param=field, code="invalid_value"
    )


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def parse_input(raw: Any) -> list[str] | list[list[int]]:
    """OpenAI's four shapes of `input`, as a list of texts or of token arrays."""
    expected = (
        "expected a non-empty string, a list of non-empty strings, "
        "a list of token ids, or a list of lists of token ids"
    )
    if raw is None:
        raise InvalidRequest("Missing required field 'input'.", param="input", code="missing")
    if isinstance(raw, str):
        if not raw:
            raise _bad("input", "must not be an empty string")
        return [raw]
    if not isinstance(raw, list) or not raw:
        raise _bad("input", expected)
    if len(raw) > MAX_INPUTS:
        raise _bad("input", f"at most {MAX_INPUTS} items, got {len(raw)}")
    if all(isinstance(i, str) for i in raw):
        if empty := [n for n, text in enumerate(raw) if not text]:
            raise _bad(f"input[{empty[0]}]", "must not be an empty string")
        return list(raw)
    if all(_is_int(i) for i in raw):
        tokens = [raw]
    elif all(isinstance(i, list) for i in raw):
        tokens = raw
    else:
        raise _bad("input", expected)
    for n, array in enumerate(tokens):
        where = "input" if tokens is not raw else f"input[{n}]"
        if not array or not all(_is_int(t) and t >= 0 for t in array):
            raise _bad(where, "expected a non-empty list of token ids (integers of 0 or more)")
    return [list(array) for array in tokens]


def to_request(body: dict[str, Any]) -> EmbeddingRequest:
    model = body.get("model")
    if model is None:
        raise InvalidRequest("Missing required field 'model'.", param="model", code="missing")
    if not isinstance(model, str) or not model:
        raise _bad("model", "expected a model name")
    inputs = parse_input(body.get("input"))
    dimensions = body.get("dimensions")
    if dimensions is not None and (not _is_int(dimensions) or dimensions < 1):
        raise _bad("dimensions", "expected an integer of at least 1")
    encoding = body.get("encoding_format", "float")
    if encoding is None:
        encoding = "float"
    if encoding not in ENCODINGS:
        raise _bad("encoding_format", "expected 'float' or 'base64'")
    user = body.get("user")
    if user is not None and not isinstance(user, str):
        raise _bad("user", "expected a string")
    models = body.get("models")
    return EmbeddingRequest(
        model=model,
        inputs=inputs,
        dimensions=dimensions,
        encoding_format="base64" if encoding == "base64" else "float",
        user=user,
        native=NativeBody("openai", body),
        options={"models": models} if models is not None else {},
    )


def _vector(vector: Vector, encoding: EncodingFormat) -> Any:
    if isinstance(vector, str):
        return vector  # an upstream's base64 is what the client asked for
    if encoding == "base64":
        return encode_base64(floats_of(vector))
    return verbatim(vector.json) if isinstance(vector, FloatArray) else vector


def embeddings_json(
    result: Embeddings, request: EmbeddingRequest, answered: Answered
) -> dict[str, Any]:
    tokens = result.usage.input_tokens
    return {
        "object": "list",
        "data": [
            {"object": "embedding", "index": i, "embedding": _vector(v, request.encoding_format)}
            for i, v in enumerate(result.vectors)
        ],
        "model": answered.model,
        "usage": {
            "prompt_tokens": tokens,
            "total_tokens": tokens,
            **cost_json(answered.cost),
            "tokens_estimated": result.usage_estimated,
        },
        "id": answered.request_id,
        "provider": answered.provider,
        "latency_ms": answered.latency_ms,
        "created_at": answered.created.isoformat(),
    }


class OpenAIEmbeddingsDoor:
    name: FrontDoor = "embeddings"

    def to_request(self, body: dict[str, Any]) -> EmbeddingRequest:
        return to_request(body)

    def render(self, result: Embeddings, request: EmbeddingRequest, answered: Answered) -> bytes:
        return dumps(embeddings_json(result, request, answered))
