"""The original design document is a public contract: a client written against
its examples keeps working against us.

Every `#### GET|POST` section of tests/contract/original-design.md is replayed
against the live router on SQLite and on PostgreSQL: its request example and
each of its curl examples (method, path, query, headers, body), with every
response checked against the documented response example's shape. The same
fields must be declared in our /openapi.json. Nothing here is hand-copied from
the document, so a change on either side shows up as a failure.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.conftest import Router
from tests.contract.design import Curl, Section, array_paths, sections, shape_errors

SECTIONS = sections()
BY_NAME = {s.name: s for s in SECTIONS}

# Where we knowingly answer null for a documented non-null example: an unknown
# price, cost, context window or latency is null, never a made-up 0 (STYLE.md).
# A non-null value there must still have the documented type.
NULLABLE = {
    "POST /v1/chat/completions": {
        "content",
        "usage.input_cost_usd",
        "usage.output_cost_usd",
        "usage.total_cost_usd",
    },
    "GET /v1/analytics/usage": {"avg_latency_ms"},
    "GET /v1/analytics/requests": {
        "requests[].provider",
        "requests[].total_cost_usd",
        "requests[].latency_ms",
    },
    "GET /v1/analytics/requests/{request_id}": {
        "provider",
        "response_text",
        "completed_at",
        "input_cost_usd",
        "output_cost_usd",
        "total_cost_usd",
        "latency_ms",
    },
    "GET /v1/analytics/models": {
        "[].input_price_per_1m_tokens",
        "[].output_price_per_1m_tokens",
        "[].context_window",
    },
}
WEATHER = "What will the weather be in Paris tomorrow?"  # for the `search=weather` example


# --- the parser and the checker, on their own ---------------------------------------


def test_the_design_documents_five_endpoints_each_with_a_response_and_a_curl() -> None:
    assert list(BY_NAME) == [
        "POST /v1/chat/completions",
        "GET /v1/analytics/usage",
        "GET /v1/analytics/requests",
        "GET /v1/analytics/requests/{request_id}",
        "GET /v1/analytics/models",
    ]
    for section in SECTIONS:
        assert section.response is not None, section.name
        assert section.curls, section.name
        assert all(c.method == section.method for c in section.curls), section.name
    assert BY_NAME["POST /v1/chat/completions"].request is not None
    assert len(BY_NAME["GET /v1/analytics/requests"].curls) == 4
    assert BY_NAME["GET /v1/analytics/usage"].params == [("query", "days")]
    assert BY_NAME["GET /v1/analytics/requests/{request_id}"].params == [("path", "request_id")]


@pytest.mark.parametrize(
    ("actual", "error"),
    [
        ({"n": 1.5, "s": "x", "b": True, "o": {"k": 1}, "a": [{"k": 2}]}, None),
        ({"n": 1, "s": "x", "b": False, "o": {"k": 1.0}, "a": []}, None),  # int or float
        ({"s": "x", "b": True, "o": {"k": 1}, "a": []}, "n: documented, missing"),
        ({"n": "1", "s": "x", "b": True, "o": {"k": 1}, "a": []}, "n: documented number"),
        ({"n": True, "s": "x", "b": True, "o": {"k": 1}, "a": []}, "n: documented number"),
        ({"n": 1, "s": None, "b": True, "o": {"k": 1}, "a": []}, "s: documented string"),
        ({"n": 1, "s": "x", "b": True, "o": {}, "a": []}, "o.k: documented, missing"),
        ({"n": 1, "s": "x", "b": True, "o": {"k": 1}, "a": [{"k": "2"}]}, "a[].k: documented"),
        ({"n": 1, "s": "x", "b": True, "o": {"k": 1}, "a": {}}, "a: documented array"),
    ],
)
def test_the_shape_check_catches_a_missing_field_or_a_wrong_type_at_any_depth(
    actual: dict[str, Any], error: str | None
) -> None:
    documented = {"n": 1, "s": "x", "b": True, "o": {"k": 1}, "a": [{"k": 1}], "z": None}
    errors = shape_errors(documented, {**actual, "z": "anything"})
    if error is None:
        assert errors == []
    else:
        assert len(errors) == 1 and errors[0].startswith(error), errors


def test_a_documented_null_is_nullable_and_listed_paths_may_be_null() -> None:
    assert shape_errors({"e": None}, {"e": {"any": 1}}) == []
    assert shape_errors({"a": [{"k": 1}]}, {"a": [{"k": None}]}, nullable=frozenset()) != []
    listed = frozenset({"a[].k"})
    assert shape_errors({"a": [{"k": 1}]}, {"a": [{"k": None}]}, nullable=listed) == []


# --- the live API, on both databases ------------------------------------------------


@pytest.fixture(scope="module")
def design_client(router: Router) -> Iterator[httpx.Client]:
    """A fresh key's client, with the design's own chat example and a call
    that the `search=weather` example finds already made."""
    key = router.new_key(name="design-contract")
    with router.client() as client:
        client.headers["X-API-Key"] = key
        chat = BY_NAME["POST /v1/chat/completions"]
        assert client.post(chat.path, json=chat.request).status_code == 200
        weather = {**chat.request, "messages": [{"role": "user", "content": WEATHER}]}
        assert client.post(chat.path, json=weather).status_code == 200
        yield client


def _send(
    client: httpx.Client, section: Section, curl: Curl, values: dict[str, str]
) -> httpx.Response:
    headers = {k: v for k, v in curl.headers.items() if "$" not in v}  # $API_KEY: ours
    path = _fill(section.path, curl.path, values)
    return client.request(curl.method, path, headers=headers, json=curl.body)


def _fill(template: str, path: str, values: dict[str, str]) -> str:
    """The example's path with the segments that are `{param}` in the heading set to ours."""
    base, mark, query = path.partition("?")
    segments, names = base.split("/"), template.split("/")
    assert len(segments) == len(names), (template, path)
    filled = [
        values[n[1:-1]] if n.startswith("{") else s for s, n in zip(segments, names, strict=True)
    ]
    return "/".join(filled) + mark + query


def _path_values(client: httpx.Client, section: Section) -> dict[str, str]:
    if "{request_id}" not in section.path:
        assert "{" not in section.path, f"no value for a parameter of {section.path}"
        return {}
    page = client.get("/v1/analytics/requests").json()
    return {"request_id": page["requests"][0]["id"]}


@pytest.mark.parametrize("section", SECTIONS, ids=[s.name for s in SECTIONS])
def test_every_documented_example_answers_every_documented_field_with_its_type(
    design_client: httpx.Client, section: Section
) -> None:
    nullable = frozenset(NULLABLE.get(section.name, set()))
    seen: set[str] = set()
    values = _path_values(design_client, section)
    calls = [Curl(section.method, section.path, {}, section.request)] if section.request else []
    for call in [*calls, *section.curls]:
        response = _send(design_client, section, call, values)
        assert response.status_code == 200, f"{call.method} {call.path}: {response.text}"
        errors = shape_errors(
            section.response, response.json(), nullable=nullable, seen_elements=seen
        )
        assert not errors, f"{call.method} {call.path}:\n" + "\n".join(errors)
    # An empty list proves nothing about its elements: each documented one was seen.
    assert array_paths(section.response) <= seen, array_paths(section.response) - seen


def test_every_documented_parameter_is_one_of_ours(design_client: httpx.Client) -> None:
    paths = design_client.get("/openapi.json").json()["paths"]
    for section in SECTIONS:
        operation = paths[section.path][section.method.lower()]
        ours = {(p["in"], p["name"]) for p in operation.get("parameters", [])}
        assert set(section.params) <= ours, (section.name, set(section.params) - ours)


# --- /openapi.json declares the same -----------------------------------------------

JSON_TYPES = {
    "number": {"number", "integer"},
    "string": {"string"},
    "boolean": {"boolean"},
    "object": {"object"},
    "array": {"array"},
}


def _resolve(spec: dict[str, Any], schema: dict[str, Any]) -> list[dict[str, Any]]:
    """The alternatives a schema allows, $refs followed."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return _resolve(spec, spec["components"]["schemas"][name])
    if "anyOf" in schema:
        return [alt for option in schema["anyOf"] for alt in _resolve(spec, option)]
    return [schema]


def _declared_errors(
    spec: dict[str, Any], documented: Any, schema: dict[str, Any], where: str
) -> list[str]:
    if documented is None:
        return []
    options = _resolve(spec, schema)
    want = "boolean" if isinstance(documented, bool) else type(documented).__name__
    want = {
        "int": "number",
        "float": "number",
        "str": "string",
        "dict": "object",
        "list": "array",
        "boolean": "boolean",
    }[want]
    matching = [o for o in options if o.get("type") in JSON_TYPES[want]]
    if not matching:
        return [
            f"{where or '(body)'}: documented {want}, declared {[o.get('type') for o in options]}"
        ]
    errors: list[str] = []
    if want == "object":
        properties = matching[0].get("properties", {})
        for key, example in documented.items():
            path = f"{where}.{key}" if where else key
            if key not in properties:
                errors.append(f"{path}: documented, not declared")
            else:
                errors += _declared_errors(spec, example, properties[key], path)
    elif want == "array":
        for example in documented:
            errors += _declared_errors(spec, example, matching[0]["items"], f"{where}[]")
    return errors


@pytest.mark.parametrize(
    "section",
    [s for s in SECTIONS if s.path.startswith("/v1/analytics/")],
    ids=lambda s: s.name,
)
def test_openapi_declares_every_documented_analytics_field_with_its_type(
    design_client: httpx.Client, section: Section
) -> None:
    """Chat completions are declared by OpenAI's schema, checked in tests/openapi.py."""
    spec = design_client.get("/openapi.json").json()
    operation = spec["paths"][section.path][section.method.lower()]
    schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
    errors = _declared_errors(spec, section.response, schema, "")
    assert not errors, "\n".join(errors)
