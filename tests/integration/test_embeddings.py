"""POST /v1/embeddings: OpenAI's API in front of OpenAI-compatible and Gemini
embedding models, through the openai SDK; every call a request-log row with
its exact cost; governance as for chat; the semantic cache's own embedding
calls recorded and charged to the key whose chat call needed them."""

from __future__ import annotations

import math
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest

from tests.conftest import Router
from tests.contract.design import Curl, curls
from tests.governance import fresh_minute, make_key, rows_of, settled
from tests.helpers import assert_error, chat
from tests.integration.cache_app import serve
from tests.mocks.embeddings import embed, sized
from tests.openapi import assert_valid

SMALL = "text-embedding-3-small"  # $0.02 per 1M input tokens (genai-prices)
GEMINI = "gemini-embedding-001"  # $0.15 per 1M input tokens
MILLION = Decimal(1_000_000)
TEXTS = ["The quick brown fox", "jumps over the lazy dog today"]
JSON = {"content-type": "application/json"}


def _sdk(url: str, key: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{url}/v1", api_key=key, max_retries=0)


def _close(got: list[float], expected: list[float]) -> bool:
    """Equal to float32 precision (base64 carries float32s)."""
    return len(got) == len(expected) and all(
        math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-7) for a, b in zip(got, expected, strict=True)
    )


@pytest.fixture
def owner(router: Router, admin: httpx.Client) -> dict[str, Any]:
    """A fresh key, with its id for its rows."""
    return make_key(admin)


def test_float_embeddings_of_several_texts_are_priced_and_recorded(
    router: Router, owner: dict[str, Any]
) -> None:
    with router.client(owner["key"]) as client:
        response = client.post(
            "/v1/embeddings", json={"model": SMALL, "input": TEXTS, "encoding_format": "float"}
        )
    assert response.status_code == 200, response.text
    body = response.json()
    assert_valid(body, "CreateEmbeddingResponse")
    assert [d["index"] for d in body["data"]] == [0, 1]
    assert all(_close(d["embedding"], embed(t)) for d, t in zip(body["data"], TEXTS, strict=True))
    usage = body["usage"]
    assert usage["prompt_tokens"] == usage["total_tokens"] == 10  # the mock: a token a word
    assert Decimal(str(usage["total_cost_usd"])) == 10 * Decimal("0.02") / MILLION
    assert usage["tokens_estimated"] is False
    assert body["model"] == SMALL and body["provider"] == "openai"
    assert router.openai.state.last().body["model"] == SMALL
    (row,) = rows_of(router, owner["id"], 1)
    assert row.front_door == "embeddings" and row.status == "success"
    assert row.model == SMALL and row.provider == "openai"
    assert row.input_tokens == row.total_tokens == 10 and row.output_tokens == 0
    assert row.total_cost_usd == Decimal("0.0000002")
    assert row.prompt_text == "\n".join(TEXTS)
    assert row.latency_ms is not None and row.http_status == 200


def test_the_sdk_default_base64_and_dimensions_come_back_as_floats(
    router: Router, user_key: str
) -> None:
    result = _sdk(router.url, user_key).embeddings.create(
        model=SMALL, input=TEXTS, dimensions=64
    )  # the SDK asks for base64 and decodes it itself
    assert router.openai.state.last().body["encoding_format"] == "base64"
    assert router.openai.state.last().body["dimensions"] == 64
    assert [len(e.embedding) for e in result.data] == [64, 64]
    assert _close(result.data[1].embedding, sized(embed(TEXTS[1]), 64))
    assert result.usage.prompt_tokens == 10


def test_token_arrays_pass_to_an_openai_compatible_model(router: Router, user_key: str) -> None:
    result = _sdk(router.url, user_key).embeddings.create(
        model=SMALL, input=[[101, 202, 303], [404, 505]], encoding_format="float"
    )
    assert router.openai.state.last().body["input"] == [[101, 202, 303], [404, 505]]
    assert len(result.data) == 2 and result.usage.prompt_tokens == 5


@pytest.mark.parametrize("encoding", ["float", "base64"])
def test_a_gemini_model_embeds_through_batch_embed_contents(
    router: Router, owner: dict[str, Any], encoding: str
) -> None:
    sdk = _sdk(router.url, owner["key"])
    result = sdk.embeddings.create(
        model=GEMINI, input=TEXTS, dimensions=32, encoding_format=encoding
    )  # type: ignore[call-overload]
    sent = router.gemini.state.last()
    assert sent.path == f"/v1beta/models/{GEMINI}:batchEmbedContents"
    assert sent.body["requests"][0] == {
        "model": f"models/{GEMINI}",
        "content": {"parts": [{"text": TEXTS[0]}]},
        "outputDimensionality": 32,
    }
    vectors = [d.embedding for d in result.data]
    if encoding == "base64":  # the router encoded Gemini's floats; the SDK decoded them
        assert all(isinstance(v, str) for v in vectors)
        vectors = [_decode(v) for v in vectors]  # type: ignore[arg-type]
    assert all(_close(v, sized(embed(t), 32)) for v, t in zip(vectors, TEXTS, strict=True))
    # Gemini counts no tokens: 4 characters a token, rounded up, per text (5 + 8).
    assert result.usage.prompt_tokens == 13
    (row,) = rows_of(router, owner["id"], 1)
    assert row.provider == "gemini" and row.input_tokens == 13
    assert row.total_cost_usd == 13 * Decimal("0.15") / MILLION
    assert "usage estimated at 4 characters a token" in (row.route_reason or "")


def _decode(encoded: str) -> list[float]:
    from model_router.domain.embeddings import decode_base64

    return decode_base64(encoded)


def test_the_answer_says_gemini_tokens_are_estimated(router: Router, api: httpx.Client) -> None:
    response = api.post("/v1/embeddings", json={"model": GEMINI, "input": "twelve chars"})
    assert response.status_code == 200, response.text
    assert response.json()["usage"]["tokens_estimated"] is True
    assert response.json()["usage"]["prompt_tokens"] == 3


def test_token_arrays_to_gemini_are_a_400_naming_input(router: Router, api: httpx.Client) -> None:
    response = api.post("/v1/embeddings", json={"model": GEMINI, "input": [1, 2, 3]})
    error = assert_error(response, 400, param="input")
    assert "Gemini embeds text only" in error["message"]


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"input": "x"}, "model"),
        ({"model": SMALL}, "input"),
        ({"model": SMALL, "input": ""}, "input"),
        ({"model": SMALL, "input": []}, "input"),
        ({"model": SMALL, "input": ["a", ""]}, "input[1]"),
        ({"model": SMALL, "input": [1, "a"]}, "input"),
        ({"model": SMALL, "input": [[1], []]}, "input[1]"),
        ({"model": SMALL, "input": [-1]}, "input"),
        ({"model": SMALL, "input": ["a"] * 2049}, "input"),
        ({"model": SMALL, "input": "a", "dimensions": 0}, "dimensions"),
        ({"model": SMALL, "input": "a", "dimensions": "8"}, "dimensions"),
        ({"model": SMALL, "input": "a", "encoding_format": "hex"}, "encoding_format"),
        ({"model": SMALL, "input": "a", "user": 7}, "user"),
    ],
)
def test_bad_input_is_a_400_naming_the_field_and_recorded(
    router: Router, owner: dict[str, Any], body: dict[str, Any], param: str
) -> None:
    with router.client(owner["key"]) as client:
        assert_error(client.post("/v1/embeddings", json=body), 400, param=param)
    (row,) = rows_of(router, owner["id"], 1)
    assert row.front_door == "embeddings" and row.status == "error" and row.http_status == 400


def test_a_chat_model_is_refused_by_embeddings_and_the_other_way_round(
    api: httpx.Client,
) -> None:
    refused = api.post("/v1/embeddings", json={"model": "gpt-4o-mini", "input": "hi"})
    assert "not an embedding model" in assert_error(refused, 400, param="model")["message"]
    auto = api.post("/v1/embeddings", json={"model": "auto", "input": "hi"})
    assert_error(auto, 400, param="model")
    wrong = chat(api, "hi", model=SMALL)
    assert "use POST /v1/embeddings" in assert_error(wrong, 400, param="model")["message"]


def test_auto_never_picks_an_embedding_model(api: httpx.Client) -> None:
    response = chat(api, "hi", model="auto")
    assert response.status_code == 200, response.text
    assert "embedding" not in response.json()["model"]


def test_budgets_and_allowed_models_apply(router: Router, admin: httpx.Client) -> None:
    broke = make_key(admin, budget_usd="0")
    with router.client(broke["key"]) as client:
        refused = client.post("/v1/embeddings", json={"model": SMALL, "input": "hi"})
    assert assert_error(refused, 429)["code"] == "budget_exceeded"
    chat_only = make_key(admin, allowed_models=["gpt-4o-mini"])
    with router.client(chat_only["key"]) as client:
        denied = client.post("/v1/embeddings", json={"model": SMALL, "input": "hi"})
    assert assert_error(denied, 403)["code"] == "model_not_allowed"
    budgeted = make_key(admin, budget_usd="1")
    with router.client(budgeted["key"]) as client:
        ok = client.post("/v1/embeddings", json={"model": SMALL, "input": "one two three"})
    assert ok.status_code == 200, ok.text
    assert Decimal(settled(admin, budgeted["id"])["spend_usd"]) == Decimal("0.00000006")


def test_a_keys_rate_limit_counts_embeddings_calls(router: Router, admin: httpx.Client) -> None:
    limited = make_key(admin, rpm_limit=1)
    fresh_minute()
    with router.client(limited["key"]) as client:
        assert client.post("/v1/embeddings", json={"model": SMALL, "input": "a"}).status_code == 200
        second = client.post("/v1/embeddings", json={"model": SMALL, "input": "b"})
    assert assert_error(second, 429)["code"] == "rate_limit_exceeded"
    assert second.headers["retry-after"]


def test_an_upstream_error_is_recorded(router: Router, owner: dict[str, Any]) -> None:
    with router.client(owner["key"]) as client:
        failed = client.post("/v1/embeddings", json={"model": SMALL, "input": "mock:error_500"})
    assert failed.status_code >= 500
    (row,) = rows_of(router, owner["id"], 1)
    assert row.status == "error" and row.upstream_status == 500 and row.total_cost_usd is None


def test_errors_before_the_model_is_called_are_openai_shaped_and_bodies_recorded(
    router: Router, owner: dict[str, Any]
) -> None:
    with router.client() as anonymous:
        refused = anonymous.post("/v1/embeddings", json={"model": SMALL, "input": "hi"})
    assert assert_error(refused, 401)["type"] == "authentication_error"
    with router.client(owner["key"]) as client:
        broken = client.post("/v1/embeddings", content=b'{"model": ', headers=JSON)
        listed = client.post("/v1/embeddings", json=[{"model": SMALL, "input": "hi"}])
        failed = client.post("/v1/embeddings", json={"model": SMALL, "input": "mock:error_500"})
    assert assert_error(broken, 400)["code"] == "invalid_json"
    assert assert_error(listed, 400)["code"] == "invalid_json"
    assert failed.status_code >= 500 and set(failed.json()) == {"error"}
    assert "text-embedding-3-small" in failed.headers["x-router-reason"]
    rows = rows_of(router, owner["id"], 3)  # the anonymous call is no key's
    assert {(r.front_door, r.status) for r in rows} == {("embeddings", "error")}
    assert sorted(r.http_status for r in rows)[:2] == [400, 400]


def test_a_failed_model_falls_back_to_the_next_embedding_model_named(
    router: Router, owner: dict[str, Any]
) -> None:
    router.openai.state.script.append("error_500")
    body = {"model": SMALL, "models": ["gpt-4o-mini", GEMINI], "input": "fall back"}
    with router.client(owner["key"]) as client:
        response = client.post("/v1/embeddings", json=body)
    assert response.status_code == 200, response.text
    assert response.json()["provider"] == "gemini" and response.json()["model"] == GEMINI
    reason = response.headers["x-router-reason"]
    assert "gpt-4o-mini skipped: not an embedding model" in reason
    assert "answered by gemini/gemini-embedding-001 after 2 attempts" in reason
    (row,) = rows_of(router, owner["id"], 1)
    assert [a["status"] for a in row.attempts] == [500, 200]
    assert row.requested_model == SMALL and row.provider == "gemini"
    assert row.total_cost_usd == 3 * Decimal("0.15") / MILLION  # "fall back": 9 chars


def test_the_semantic_cache_embedding_calls_are_recorded_and_charged(
    router: Router, admin: httpx.Client, admin_key: str
) -> None:
    key = make_key(admin, budget_usd="1")
    settings = {
        "cache_enabled": True,
        "semantic_cache_enabled": True,
        "semantic_cache_threshold": 0.85,
    }
    with serve(router, **settings) as url:
        with httpx.Client(
            base_url=url, headers={"authorization": f"Bearer {key['key']}"}, timeout=30
        ) as client:
            first = chat(client, "What is the capital of Portugal?")
            assert first.status_code == 200, first.text
            rows = rows_of(router, key["id"], 2)
        # The served app counts this key's budget (in its own memory): ask it.
        with httpx.Client(
            base_url=url, headers={"authorization": f"Bearer {admin_key}"}, timeout=30
        ) as served_admin:
            spent = Decimal(settled(served_admin, key["id"])["spend_usd"])
    (chat_row,) = [r for r in rows if r.front_door == "chat_completions"]
    (row,) = [r for r in rows if r.front_door == "embeddings"]  # the stored answer reuses it
    assert row.user_id == chat_row.user_id and row.status == "success"
    assert row.tags == {"router": "semantic-cache"}
    assert row.model == SMALL and row.input_tokens == 6
    assert row.total_cost_usd == 6 * Decimal("0.02") / MILLION
    assert f"for the semantic cache of {chat_row.id}" in (row.route_reason or "")
    assert spent == row.total_cost_usd + chat_row.total_cost_usd


def _doc_examples() -> list[Curl]:
    text = (Path(__file__).resolve().parents[2] / "docs" / "api.md").read_text()
    section = text[text.index("\n## `POST /v1/embeddings`\n") :]
    section = section[: section.index("\n## ", 1)]
    blocks = re.findall(r"```bash\n(.*?)```", section, flags=re.S)
    return [c for block in blocks for c in curls(block)]


@pytest.mark.parametrize("example", _doc_examples(), ids=lambda c: str(c.body["model"]))
def test_the_documented_curl_examples_work(router: Router, user_key: str, example: Curl) -> None:
    headers = {k: v.replace("$ROUTER_KEY", user_key) for k, v in example.headers.items()}
    with router.client() as client:
        # curl -d posts
        response = client.post(example.path, headers=headers, json=example.body)
    assert response.status_code == 200, response.text
    inputs = example.body["input"]
    assert len(response.json()["data"]) == (len(inputs) if isinstance(inputs, list) else 1)
