"""`search` and the filters of the request log take `%`, `_`, `'` and `\\` literally:
they are searched for, never interpreted by SQL (LIKE wildcards, quoting, escapes).
"""

from __future__ import annotations

import httpx
import pytest

from tests.helpers import chat

PROMPTS = [
    "discount 100% off",
    "discount 100 percent off",
    "snake_case name",
    "snakeXcase name",
    "it's quoted",
    "its quoted",
    "back\\slash path",
    "back/slash path",
]


def _search(api: httpx.Client, text: str, **params: str) -> list[str]:
    response = api.get("/v1/analytics/requests", params={"search": text, "per_page": 100, **params})
    assert response.status_code == 200, response.text
    return sorted(r["prompt_preview"] for r in response.json()["requests"])


@pytest.fixture
def logged(api: httpx.Client) -> httpx.Client:
    for prompt in PROMPTS:
        assert chat(api, prompt).status_code == 200
    return api


@pytest.mark.parametrize(
    ("needle", "expected"),
    [
        ("100%", ["discount 100% off"]),
        ("%", ["discount 100% off"]),
        ("snake_case", ["snake_case name"]),
        ("_", ["snake_case name"]),
        ("it's", ["it's quoted"]),
        ("'", ["it's quoted"]),
        ("back\\slash", ["back\\slash path"]),
        ("\\", ["back\\slash path"]),
        ("' OR '1'='1", []),
        ("%' --", []),
    ],
)
def test_search_matches_metacharacters_literally(
    logged: httpx.Client, needle: str, expected: list[str]
) -> None:
    assert _search(logged, needle) == [f"user: {prompt}" for prompt in expected]


@pytest.mark.parametrize("model", ["%", "_", "gpt-4o-mini' OR '1'='1", "\\", "gpt%"])
def test_the_model_filter_is_literal_too(logged: httpx.Client, model: str) -> None:
    response = logged.get("/v1/analytics/requests", params={"model": model})
    assert response.status_code == 200, response.text
    assert response.json()["requests"] == []
