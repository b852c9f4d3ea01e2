"""The analytics curl examples of docs/api.md work: each answers 200 on the
live router, on SQLite and on PostgreSQL (with our key, and one of our request
ids where the example names a request)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import Router
from tests.contract.design import Curl, curls

API_DOC = Path(__file__).resolve().parents[2] / "docs" / "api.md"
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _analytics_examples() -> list[Curl]:
    text = API_DOC.read_text()
    section = text[text.index("\n## Analytics\n") :]
    section = section[: section.index("\n## ", 1)]
    blocks = re.findall(r"```bash\n(.*?)```", section, flags=re.S)
    return [c for block in blocks for c in curls(block)]


EXAMPLES = _analytics_examples()


def test_the_analytics_reference_has_an_example_for_every_endpoint() -> None:
    paths = {UUID.sub("{id}", c.path.split("?")[0]) for c in EXAMPLES}
    assert paths == {
        "/v1/analytics/usage",
        "/v1/analytics/requests",
        "/v1/analytics/requests/{id}",
        "/v1/analytics/models",
        "/v1/analytics/costs",
        "/v1/analytics/me",
        "/v1/analytics/users",
        "/v1/analytics/routing/pools",
    }


@pytest.mark.parametrize("example", EXAMPLES, ids=[c.path for c in EXAMPLES])
def test_every_analytics_curl_example_answers_200(router: Router, example: Curl) -> None:
    key = router.new_key(admin=True, name="docs")  # /users is for admin keys
    with router.client() as client:
        made = client.post(
            "/v1/chat/completions",
            json={"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]},
            headers={"authorization": f"Bearer {key}"},
        )
        assert made.status_code == 200, made.text
        headers = {k: v.replace("$ROUTER_KEY", key) for k, v in example.headers.items()}
        path = UUID.sub(made.json()["id"], example.path)
        response = client.request(example.method, path, headers=headers)
    assert response.status_code == 200, f"{example.path}: {response.text}"
    assert response.headers["content-type"] == "application/json"
    assert isinstance(response.json(), dict | list)


def _messages_examples() -> list[Curl]:
    text = API_DOC.read_text()
    section = text[text.index("\n## Anthropic Messages API\n") :]
    section = section[: section.index("\n## ", 1)]
    blocks = re.findall(r"```bash\n(.*?)```", section, flags=re.S)
    return [c for block in blocks for c in curls(block)]


MESSAGES_EXAMPLES = _messages_examples()


@pytest.mark.parametrize("example", MESSAGES_EXAMPLES, ids=[c.path for c in MESSAGES_EXAMPLES])
def test_every_messages_curl_example_answers_200(router: Router, example: Curl) -> None:
    key = router.new_key(name="docs")
    headers = {k: v.replace("$ROUTER_KEY", key) for k, v in example.headers.items()}
    with router.client() as client:
        response = client.post(example.path, json=example.body, headers=headers)  # curl -d: POST
    assert response.status_code == 200, f"{example.path}: {response.text}"
    assert response.headers["content-type"] == "application/json"


def test_the_messages_reference_shows_both_endpoints() -> None:
    assert {c.path for c in MESSAGES_EXAMPLES} == {"/v1/messages", "/v1/messages/count_tokens"}
