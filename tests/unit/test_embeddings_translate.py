"""The embeddings translations, pure: OpenAI's request shapes into the neutral
request, the neutral answer into OpenAI's response (validated against the
spec), and the Gemini `batchEmbedContents` body and answer."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from model_router.costs.pricing import Cost, Rates
from model_router.domain.embeddings import (
    EmbeddingRequest,
    Embeddings,
    decode_base64,
    encode_base64,
    estimate_tokens,
)
from model_router.domain.usage import Usage
from model_router.errors import InvalidRequest, UnsupportedFeature, UpstreamError
from model_router.frontdoors.base import Answered
from model_router.frontdoors.openai_embeddings import embeddings_json, to_request
from model_router.providers import openai_embed
from model_router.providers.base import Target
from model_router.providers.gemini.embed import from_batch_response, to_batch_request
from tests.openapi import assert_valid

TARGET = Target(upstream_model="upstream-embed")


@pytest.mark.parametrize(
    ("raw", "inputs"),
    [
        ("one text", ["one text"]),
        (["a", "b"], ["a", "b"]),
        ([1, 2, 3], [[1, 2, 3]]),
        ([[1, 2], [3]], [[1, 2], [3]]),
    ],
)
def test_openais_four_input_shapes_become_a_list(raw: Any, inputs: list[Any]) -> None:
    request = to_request({"model": "m", "input": raw})
    assert request.inputs == inputs
    assert request.token_input is not isinstance(inputs[0], str)


def test_the_client_body_is_kept_and_passed_on_without_router_fields() -> None:
    body = {
        "model": "m",
        "input": "x",
        "dimensions": 8,
        "encoding_format": "base64",
        "models": ["n"],
        "metadata": {"team": "search"},
        "user": "u1",
    }
    request = to_request(body)
    assert (request.dimensions, request.encoding_format, request.user) == (8, "base64", "u1")
    assert request.options == {"models": ["n"]}
    sent = openai_embed.to_body(request, TARGET)
    assert sent == {
        "model": "upstream-embed",
        "input": "x",
        "dimensions": 8,
        "encoding_format": "base64",
        "user": "u1",
    }


def test_a_neutral_request_is_sent_with_its_fields() -> None:
    request = EmbeddingRequest(model="m", inputs=["x"], dimensions=4)
    assert openai_embed.to_body(request, TARGET) == {
        "model": "upstream-embed",
        "input": ["x"],
        "encoding_format": "float",
        "dimensions": 4,
    }


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"input": "x"}, "model"),
        ({"model": "m", "input": None}, "input"),
        ({"model": "m", "input": {"text": "x"}}, "input"),
        ({"model": "m", "input": [True]}, "input"),
        ({"model": "m", "input": [[1.5]]}, "input[0]"),
        ({"model": "m", "input": "x", "dimensions": True}, "dimensions"),
    ],
)
def test_bad_fields_are_named(body: dict[str, Any], param: str) -> None:
    with pytest.raises(InvalidRequest) as caught:
        to_request(body)
    assert caught.value.param == param


def test_base64_is_little_endian_float32_as_openai_sends_it() -> None:
    encoded = encode_base64([1.0, -2.5])
    assert encoded == "AACAPwAAIMA="
    assert decode_base64(encoded) == [1.0, -2.5]


def _answered(cost: Cost | None) -> Answered:
    when = datetime(2026, 12, 2, tzinfo=UTC)
    return Answered("req-1", "text-embedding-3-small", "openai", when, 12, cost)


def test_the_answer_is_openais_with_the_cost_beside_the_usage() -> None:
    cost = Cost(Decimal("0.0000002"), Decimal(0), Rates(Decimal("0.02"), Decimal(0)))
    result = Embeddings([[0.5, 0.25]], Usage(input_tokens=10))
    body = embeddings_json(result, EmbeddingRequest("m", ["x"]), _answered(cost))
    assert_valid(body, "CreateEmbeddingResponse")
    assert body["data"] == [{"object": "embedding", "index": 0, "embedding": [0.5, 0.25]}]
    assert body["usage"]["prompt_tokens"] == body["usage"]["total_tokens"] == 10
    assert body["usage"]["total_cost_usd"] == Decimal("0.0000002")
    assert body["usage"]["tokens_estimated"] is False


def test_floats_are_encoded_when_base64_was_asked_and_base64_passes_as_is() -> None:
    request = EmbeddingRequest("m", ["x", "y"], encoding_format="base64")
    result = Embeddings([[1.0, -2.5], "AAAAAA=="], Usage(input_tokens=2))
    data = embeddings_json(result, request, _answered(None))["data"]
    assert [d["embedding"] for d in data] == ["AACAPwAAIMA=", "AAAAAA=="]


def test_an_unknown_price_is_null_never_zero() -> None:
    result = Embeddings([[0.1]], Usage(input_tokens=3))
    usage = embeddings_json(result, EmbeddingRequest("m", ["x"]), _answered(None))["usage"]
    assert usage["total_cost_usd"] is None and usage["input_cost_usd"] is None


def test_openai_answers_are_read_in_index_order_with_their_usage() -> None:
    data = {
        "object": "list",
        "data": [
            {"object": "embedding", "index": 1, "embedding": [0.2]},
            {"object": "embedding", "index": 0, "embedding": [0.1]},
        ],
        "model": "text-embedding-3-small",
        "usage": {"prompt_tokens": 7, "total_tokens": 7},
    }
    result = openai_embed.from_response(data, "openai", EmbeddingRequest("m", ["a", "b"]))
    assert result.vectors == [[0.1], [0.2]]
    assert result.usage.input_tokens == 7 and not result.usage_estimated


def test_an_openai_compatible_answer_without_usage_is_estimated() -> None:
    data = {"data": [{"index": 0, "embedding": [0.1]}]}
    request = EmbeddingRequest("m", [[5, 6, 7]])
    result = openai_embed.from_response(data, "acme", request)
    assert result.usage.input_tokens == 3 and result.usage_estimated


def test_a_count_mismatch_is_a_bad_upstream_answer() -> None:
    with pytest.raises(UpstreamError):
        openai_embed.from_response({"data": []}, "openai", EmbeddingRequest("m", ["a"]))


def test_gemini_gets_one_request_per_text_naming_its_model() -> None:
    request = EmbeddingRequest("gemini-embedding-001", ["a", "b"], dimensions=256)
    body = to_batch_request(request, Target(upstream_model="gemini-embedding-001"))
    assert body == {
        "requests": [
            {
                "model": "models/gemini-embedding-001",
                "content": {"parts": [{"text": text}]},
                "outputDimensionality": 256,
            }
            for text in ("a", "b")
        ]
    }


def test_gemini_refuses_token_arrays_naming_input() -> None:
    with pytest.raises(UnsupportedFeature) as caught:
        to_batch_request(EmbeddingRequest("g", [[1, 2]]), TARGET)
    assert caught.value.param == "input"


def test_gemini_reports_no_usage_so_it_is_estimated_at_four_characters_a_token() -> None:
    texts = ["12345678", "x"]
    data = {"embeddings": [{"values": [0.1, 0.2]}, {"values": [0.3, 0.4]}]}
    result = from_batch_response(data, "gemini", EmbeddingRequest("g", texts))
    assert result.vectors == [[0.1, 0.2], [0.3, 0.4]]
    assert result.usage.input_tokens == 3 == estimate_tokens(texts) and result.usage_estimated


def test_gemini_usage_metadata_is_used_when_present() -> None:
    data = {"embeddings": [{"values": [0.1]}], "usageMetadata": {"promptTokenCount": 4}}
    result = from_batch_response(data, "gemini", EmbeddingRequest("g", ["abc"]))
    assert result.usage.input_tokens == 4 and not result.usage_estimated


def test_estimates_round_up_and_count_every_text() -> None:
    assert estimate_tokens(["a" * 9, "", "abcd"]) == math.ceil(9 / 4) + 1 + 1


def test_the_catalogue_prices_embedding_models_by_input_with_no_output_charge() -> None:
    from model_router.costs.catalogue import EMBEDDING, default_catalogue, traits

    entries = {(e.provider, e.model_id): e for e in default_catalogue()}
    for provider, model, rate in (
        ("openai", "text-embedding-3-small", "0.02"),
        ("openai", "text-embedding-3-large", "0.13"),
        ("gemini", "gemini-embedding-001", "0.15"),
    ):
        price = entries[(provider, model)].price
        assert price is not None and price.known
        assert (price.base.input, price.base.output) == (Decimal(rate), Decimal(0))
        assert traits(provider, model)[1] == EMBEDDING
    assert entries[("gemini", "gemini-embedding-001")].context_window == 2048
