"""OpenAI's `POST /embeddings`, for every OpenAI-compatible vendor: the
client's body goes on natively (model swapped, the router's fields removed);
the answer's vectors (floats, or base64 when the client asked for it) and
usage come back as they are."""

from __future__ import annotations

from typing import Any

from model_router.domain.embeddings import (
    EmbeddingRequest,
    Embeddings,
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


def from_response(data: Any, provider: str, request: EmbeddingRequest) -> Embeddings:
    """The vectors in input order; a list that does not match the inputs is a 502.
    An upstream that reports no usage gets it estimated (`estimated_usage`)."""
    count = len(request.inputs)
    try:
        items = sorted(data["data"], key=lambda item: int(item.get("index", 0)))
        vectors: list[Vector] = [_vector(item["embedding"]) for item in items]
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
