"""The semantic cache: near-duplicate prompts reuse an answer, others do not.

Embeddings come from the OpenAI mock's `/v1/embeddings` (hashed words and
character trigrams, tests/mocks/embeddings.py). With those vectors the
documented example pairs score: "What's the capital of France?" 0.90 and
"What is the capital city of France?" 0.90 against "What is the capital of
France?"; "What is the capital of Spain?" 0.78; an unrelated question 0.03.
At a threshold of 0.85 the first two hit and the others miss; at 0.75 the
Spain question would get France's answer, the trade-off the README describes.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.conftest import Router
from tests.governance import make_key, rows_of
from tests.helpers import request_detail
from tests.integration.cache_app import chat_calls, serve
from tests.mocks.embeddings import cosine

FRANCE = "What is the capital of France?"
NEAR = ["What's the capital of France?", "What is the capital city of France?"]
FAR = ["What is the capital of Spain?", "How do I bake sourdough bread at home?"]


def _server(router: Router, threshold: float) -> Any:
    return serve(
        router,
        cache_enabled=True,
        semantic_cache_enabled=True,
        semantic_cache_threshold=threshold,
        semantic_cache_model="text-embedding-3-small",
    )


@pytest.fixture(scope="module")
def semantic_url(router: Router) -> Iterator[str]:
    with _server(router, 0.85) as url:
        yield url


def _ask(client: httpx.Client, text: str, **extra: Any) -> httpx.Response:
    body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": text}], **extra}
    response = client.post("/v1/chat/completions", json=body)
    assert response.status_code == 200, response.text
    return response


def test_the_example_pairs_score_as_documented() -> None:
    assert all(0.85 <= cosine(FRANCE, text) < 0.95 for text in NEAR)
    assert 0.75 <= cosine(FRANCE, FAR[0]) < 0.85
    assert cosine(FRANCE, FAR[1]) < 0.2


@pytest.mark.parametrize("near", NEAR)
def test_a_near_duplicate_prompt_gets_the_cached_answer(
    router: Router, semantic_url: str, near: str
) -> None:
    with httpx.Client(
        base_url=semantic_url, headers={"authorization": f"Bearer {router.new_key()}"}
    ) as client:
        original = _ask(client, FRANCE)
        assert original.headers["x-router-cache"] == "miss"
        before = chat_calls(router.openai.state.requests)
        reused = _ask(client, near)
        assert chat_calls(router.openai.state.requests) == before
        assert reused.headers["x-router-cache"] == "hit"
        assert reused.headers["x-router-cache-match"] == "semantic"
        assert reused.json()["content"] == f"Echo: {FRANCE}"
        row = request_detail(client, reused.json()["id"])
        assert row["cache_status"] == "semantic_hit" and row["total_cost_usd"] == 0
        assert float(row["saved_cost_usd"]) == 0.0000045
        embedded = [r for r in router.openai.state.requests if r.path == "/v1/embeddings"]
        assert embedded and embedded[-1].body["model"] == "text-embedding-3-small"


@pytest.mark.parametrize("far", FAR)
def test_a_different_question_misses(router: Router, semantic_url: str, far: str) -> None:
    with httpx.Client(
        base_url=semantic_url, headers={"authorization": f"Bearer {router.new_key()}"}
    ) as client:
        _ask(client, FRANCE)
        other = _ask(client, far)
        assert other.headers["x-router-cache"] == "miss"
        assert other.json()["content"] == f"Echo: {far}"


def test_same_words_with_other_parameters_or_another_key_miss(
    router: Router, semantic_url: str
) -> None:
    key = router.new_key()
    with httpx.Client(base_url=semantic_url, headers={"authorization": f"Bearer {key}"}) as client:
        _ask(client, FRANCE)
        assert _ask(client, NEAR[0], max_tokens=20).headers["x-router-cache"] == "miss"
        longer = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": NEAR[0]}]
        assert _ask(client, NEAR[0], messages=longer).headers["x-router-cache"] == "miss"
    with httpx.Client(
        base_url=semantic_url, headers={"authorization": f"Bearer {router.new_key()}"}
    ) as stranger:
        assert _ask(stranger, NEAR[0]).headers["x-router-cache"] == "miss"


def test_a_lower_threshold_trades_precision_for_hits(router: Router) -> None:
    with (
        _server(router, 0.75) as url,
        httpx.Client(
            base_url=url, headers={"authorization": f"Bearer {router.new_key()}"}
        ) as client,
    ):
        _ask(client, f"{FRANCE}")
        wrong = _ask(client, FAR[0])
        assert wrong.headers["x-router-cache"] == "hit"  # Spain gets France's answer
        assert wrong.json()["content"] == f"Echo: {FRANCE}"
        assert _ask(client, FAR[1]).headers["x-router-cache"] == "miss"


def test_without_an_embeddings_provider_it_is_an_exact_cache(
    router: Router, admin: httpx.Client
) -> None:
    prompt = f"no embeddings {uuid.uuid4()}"
    settings = {
        "cache_enabled": True,
        "semantic_cache_enabled": True,
        "semantic_cache_provider": "no-such-provider",
    }
    key = make_key(admin)
    with (
        serve(router, **settings) as url,
        httpx.Client(base_url=url, headers={"authorization": f"Bearer {key['key']}"}) as client,
    ):
        _ask(client, prompt)
        assert _ask(client, prompt).headers["x-router-cache"] == "hit"
        assert _ask(client, prompt + "!").headers["x-router-cache"] == "miss"
    # A model the catalogue lacks is the router's configuration: logged, and no
    # failed embeddings call recorded per lookup (rows are written in order).
    rows = rows_of(router, key["id"], 3)
    assert {row.front_door for row in rows} == {"chat_completions"}
