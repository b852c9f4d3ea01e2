"""An OpenAI-compatible upstream's vectors reach the client as the JSON it
sent (`FloatArray`), never read into floats and written again; anything that
cannot be matched safely is read as floats, as before."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest

from model_router.domain.embeddings import (
    EmbeddingRequest,
    FloatArray,
    decode_base64,
    encode_base64,
)
from model_router.errors import UpstreamError
from model_router.frontdoors.base import Answered
from model_router.frontdoors.openai_embeddings import OpenAIEmbeddingsDoor
from model_router.providers import openai_embed
from tests.openapi import assert_valid

# More digits than a float keeps, an exponent, an integer, a negative zero,
# spaces and newlines: only the bytes as sent survive a round trip unchanged.
FIRST = b"[ 0.12345678901234567890,\n  -1.5e-3, 7 ]"
SECOND = b"[-0.0,2E+2,0.25]"
UPSTREAM = (
    b'{"object": "list", "data": [\n'
    b'  {"object": "embedding", "index": 1, "embedding" : ' + SECOND + b"},\n"
    b'  {"index": 0, "embedding":\n' + FIRST + b', "object": "embedding"}\n'
    b'], "model": "text-embedding-3-small", "usage": {"prompt_tokens": 4, "total_tokens": 4}}'
)
ANSWERED = Answered(
    "req-1", "text-embedding-3-small", "openai", datetime(2026, 12, 3, tzinfo=UTC), 9, None
)


def _read(raw: bytes, inputs: int = 2) -> Any:
    request = EmbeddingRequest("m", ["text"] * inputs)
    return openai_embed.from_response(orjson.loads(raw), "openai", request, raw)


def test_an_upstreams_arrays_reach_the_client_byte_for_byte_in_input_order() -> None:
    result = _read(UPSTREAM)
    assert result.vectors == [FloatArray(FIRST), FloatArray(SECOND)]
    assert result.usage.input_tokens == 4
    request = EmbeddingRequest("m", ["a", "b"])
    body = OpenAIEmbeddingsDoor().render(result, request, ANSWERED)
    assert b'"index":0,"embedding":' + FIRST in body
    assert b'"index":1,"embedding":' + SECOND in body
    answer = json.loads(body)  # valid JSON, OpenAI's shape, the numbers the upstream sent
    assert_valid(answer, "CreateEmbeddingResponse")
    assert [d["embedding"] for d in answer["data"]] == [json.loads(FIRST), json.loads(SECOND)]


def test_base64_asked_of_an_upstream_that_sent_floats_is_encoded_from_them() -> None:
    result = _read(UPSTREAM)
    request = EmbeddingRequest("m", ["a", "b"], encoding_format="base64")
    answer = orjson.loads(OpenAIEmbeddingsDoor().render(result, request, ANSWERED))
    first = answer["data"][0]["embedding"]
    assert first == encode_base64(json.loads(FIRST))
    assert decode_base64(first)[1:] == [pytest.approx(-1.5e-3), 7.0]


@pytest.mark.parametrize(
    "raw",
    [
        # another "embedding" array than the items' own
        b'{"data": [{"index": 0, "embedding": [0.5, 0.25]}], "meta": {"embedding": [9]}}',
        # the item's key spelt with an escape: its array is not found
        b'{"data": [{"index": 0, "embedd\\u0069ng": [0.5, 0.25]}]}',
        # one "embedding" array too many
        b'{"data": [{"index": 0, "\\"embedding": [1], "embedding": [0.5, 0.25]}]}',
        # as many, but one that is not the item's: its last number differs
        b'{"data": [{"index": 0, "embedd\\u0069ng": [0.5, 0.25]}], "x": {"\\"embedding": [0.3]}}',
    ],
)
def test_arrays_that_cannot_be_matched_safely_are_read_as_floats(raw: bytes) -> None:
    assert _read(raw, inputs=1).vectors == [[0.5, 0.25]]


@pytest.mark.parametrize("vector", [b"[0.1, null]", b'[0.1, "0.2"]', b"[[0.1], [0.2]]", b"[]"])
def test_an_upstream_vector_of_anything_but_numbers_is_never_passed_on(vector: bytes) -> None:
    raw = b'{"data": [{"index": 0, "embedding": ' + vector + b"}]}"
    try:
        vectors = _read(raw, inputs=1).vectors
    except UpstreamError:
        return  # a 502, as before
    assert not isinstance(vectors[0], FloatArray)
