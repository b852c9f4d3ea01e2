"""Gemini embeddings: `models/{model}:batchEmbedContents`, pure translation.

One request per input: `{model: "models/<m>", content: {parts: [{text}]},
outputDimensionality}`. Gemini embeds text only, so token arrays are refused
(a 400 naming `input`). The Gemini API reports no token usage for embeddings
(`usageMetadata` is read when present): the usage is then estimated at about
4 characters a token (`domain.embeddings.estimate_tokens`) and marked so.
"""

from __future__ import annotations

from typing import Any

from model_router.domain.embeddings import EmbeddingRequest, Embeddings, Vector, estimated_usage
from model_router.domain.usage import Usage
from model_router.errors import UnsupportedFeature
from model_router.providers.base import Target
from model_router.providers.http import malformed

Json = dict[str, Any]


def model_path(target: Target) -> str:
    return "models/" + target.upstream_model.removeprefix("models/")


def to_batch_request(request: EmbeddingRequest, target: Target) -> Json:
    if request.token_input:
        raise UnsupportedFeature(
            "Gemini embeds text only: 'input' must be a string or a list of strings, "
            "not token arrays.",
            param="input",
            code="unsupported_input",
        )
    model = model_path(target)
    requests: list[Json] = []
    for text in request.texts():
        item: Json = {"model": model, "content": {"parts": [{"text": text}]}}
        if request.dimensions is not None:
            item["outputDimensionality"] = request.dimensions
        requests.append(item)
    return {"requests": requests}


def from_batch_response(data: Any, provider: str, request: EmbeddingRequest) -> Embeddings:
    """The vectors (floats: the door encodes base64 when asked) and the usage,
    estimated unless Gemini reported `usageMetadata.promptTokenCount`."""
    try:
        vectors: list[Vector] = [[float(v) for v in item["values"]] for item in data["embeddings"]]
    except (KeyError, TypeError, ValueError) as exc:
        raise malformed(provider, "no embeddings[].values") from exc
    if len(vectors) != len(request.inputs):
        raise malformed(provider, f"{len(vectors)} embeddings for {len(request.inputs)} inputs")
    metadata = data.get("usageMetadata")
    tokens = metadata.get("promptTokenCount") if isinstance(metadata, dict) else None
    if isinstance(tokens, int):
        return Embeddings(vectors, Usage(input_tokens=tokens))
    return Embeddings(vectors, estimated_usage(request), usage_estimated=True)
