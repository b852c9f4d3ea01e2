"""The provider-neutral embeddings call: what the embeddings front door
translates into and every adapter that can embed translates out of.

`EmbeddingRequest.inputs` are texts or token arrays (OpenAI's `input`, a
single one made a list of one). An answer's vectors are floats; or base64
strings when an upstream encoded them itself (an OpenAI-compatible upstream
asked for `encoding_format: "base64"`); or a `FloatArray`, an OpenAI-compatible
upstream's JSON array of numbers kept as the bytes it sent (no Python float
per element on the way to the client). `encode_base64` encodes floats as
OpenAI does (little-endian float32), so the client gets what it asked for
whoever answered; `floats_of` reads any of the three.
"""

from __future__ import annotations

import base64
import json
import struct
from dataclasses import dataclass, field
from typing import Any, Literal

from model_router.domain.request import NativeBody
from model_router.domain.usage import Usage

EncodingFormat = Literal["float", "base64"]


@dataclass(frozen=True, slots=True)
class FloatArray:
    """A vector as an upstream's JSON array of numbers, the bytes it sent:
    checked to be one flat array of numbers (`providers/openai_embed.py`),
    and written to the client as it is."""

    json: bytes

    def floats(self) -> list[float]:
        return [float(v) for v in json.loads(self.json)]


Vector = list[float] | str | FloatArray  # floats, base64 of float32s, or JSON as sent


@dataclass(slots=True)
class EmbeddingRequest:
    """One embeddings call. `native` is the client's own OpenAI body, passed on
    (model swapped) to an OpenAI-compatible upstream; `options` are the
    router's own fields (`models`), never sent upstream."""

    model: str
    inputs: list[str] | list[list[int]]
    dimensions: int | None = None
    encoding_format: EncodingFormat = "float"
    user: str | None = None
    native: NativeBody | None = None
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def token_input(self) -> bool:
        return bool(self.inputs) and not isinstance(self.inputs[0], str)

    def texts(self) -> list[str]:
        """The inputs as text (token arrays have none)."""
        return [i for i in self.inputs if isinstance(i, str)]

    def prompt_text(self) -> str:
        """For the request log and its search: the texts, one a line, or the
        size of each token array."""
        if self.token_input:
            return "\n".join(f"[{len(i)} tokens]" for i in self.inputs)
        return "\n".join(self.texts())


@dataclass(slots=True)
class Embeddings:
    """The vectors, in the order of the inputs, and the usage.

    `usage_estimated` is set when the provider reported no token count (Gemini's
    `batchEmbedContents`) and the adapter estimated it (`estimate_tokens`)."""

    vectors: list[Vector]
    usage: Usage
    usage_estimated: bool = False
    upstream_model: str | None = None


CHARS_PER_TOKEN = 4


def estimate_tokens(texts: list[str]) -> int:
    """Tokens of texts whose provider does not count them: about 4 characters a
    token (OpenAI's rule of thumb for English), at least 1 per text."""
    return sum(max(1, -(-len(text) // CHARS_PER_TOKEN)) for text in texts)


def estimated_usage(request: EmbeddingRequest) -> Usage:
    """Usage for an answer without it: token arrays count exactly, texts by
    `estimate_tokens`."""
    if request.token_input:
        return Usage(input_tokens=sum(len(i) for i in request.inputs))
    return Usage(input_tokens=estimate_tokens(request.texts()))


def encode_base64(vector: list[float]) -> str:
    """A vector as OpenAI's `encoding_format: "base64"` sends it."""
    return base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode("ascii")


def decode_base64(encoded: str) -> list[float]:
    raw = base64.b64decode(encoded)
    return list(struct.unpack(f"<{len(raw) // 4}f", raw))


def floats_of(vector: Vector) -> list[float]:
    """A vector's numbers, whichever form it came in."""
    if isinstance(vector, FloatArray):
        return vector.floats()
    return decode_base64(vector) if isinstance(vector, str) else vector
