"""`model: "auto"` picks the cheapest model that can serve the request, for a
table of requests and catalogues, and says which constraint excluded what."""

from __future__ import annotations

from typing import Any

import pytest

from model_router.errors import InvalidRequest
from model_router.frontdoors.openai_chat_translate import to_request as door_request
from model_router.routing.auto import Constraints, needs_of, parse_constraints, rank
from model_router.routing.errors import NoDeploymentAvailable, NoModelSatisfies
from model_router.routing.route import Route
from tests.unit.routing_fixtures import model, route

TEXT = frozenset({"streaming"})
NO_VISION = frozenset({"tools", "json_schema", "streaming"})

CATALOGUE = {
    "nano": model("nano", "0.05", "0.4", window=16_000, quality=2, capabilities=TEXT),
    "mini": model("mini", "0.15", "0.6", quality=3, capabilities=NO_VISION),
    "flash": model("flash", "0.3", "2.5", provider="gemini", window=1_000_000, quality=3),
    "haiku": model("haiku", "1", "5", provider="anthropic", window=200_000, quality=3),
    "big": model("big", "2.5", "10", quality=4),
    "opus": model("opus", "5", "25", provider="anthropic", window=200_000, quality=5),
    "unpriced": model("unpriced", None, None, quality=5),
}

TOOL = {"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}
IMAGE = {"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}}
SCHEMA = {"type": "json_schema", "json_schema": {"name": "x", "schema": {"type": "object"}}}


def _routes(names: list[str] | None = None) -> list[Route]:
    return [route(CATALOGUE[n]) for n in (names or CATALOGUE)]


def _pick(body: dict[str, Any], names: list[str] | None = None) -> list[str]:
    request = door_request(
        {"model": "auto", "messages": [{"role": "user", "content": "hi"}], **body}
    )
    needs = needs_of(request, body.get("prompt", 100), 256)
    limits = parse_constraints(body.get("routing"))
    return [r.route.name for r in rank(_routes(names), needs, limits)]


@pytest.mark.parametrize(
    ("body", "first"),
    [
        ({}, "nano"),  # plain text: the cheapest of all
        ({"stream": True}, "nano"),
        ({"tools": [TOOL]}, "mini"),  # nano has no tools
        ({"response_format": SCHEMA}, "mini"),
        ({"messages": [{"role": "user", "content": [IMAGE]}]}, "flash"),  # mini: no vision
        ({"max_tokens": 20_000}, "mini"),  # nano's 16k window cannot hold it
        ({"routing": {"min_quality": 4}}, "big"),
        ({"routing": {"min_quality": 5}}, "opus"),  # unpriced is never "cheapest"
        ({"routing": {"providers": ["anthropic"]}}, "haiku"),
        ({"routing": {"providers": ["gemini", "anthropic"], "min_quality": 4}}, "opus"),
        ({"routing": {"max_output_price_per_1m": 0.5}}, "nano"),
        ({"routing": {"max_input_price_per_1m": "0.2", "min_quality": 3}}, "mini"),
        ({"tools": [TOOL], "routing": {"max_input_price_per_1m": 1.5}}, "mini"),
    ],
)
def test_auto_picks_the_cheapest_capable_model(body: dict[str, Any], first: str) -> None:
    assert _pick(body)[0] == first


def test_the_rest_of_the_ranking_is_the_fallback_chain_cheapest_first() -> None:
    assert _pick({"tools": [TOOL]}) == ["mini", "flash", "haiku", "big", "opus"]


def test_a_long_prompt_excludes_small_windows() -> None:
    assert _pick({"prompt": 500_000}) == ["flash"]


def test_max_latency_is_checked_against_the_observed_p95() -> None:
    routes = _routes(["nano", "mini"])
    for _ in range(10):
        routes[0].deployments[0].state.stats.record(True, 900)
        routes[1].deployments[0].state.stats.record(True, 100)
    request = door_request({"model": "auto", "messages": [{"role": "user", "content": "hi"}]})
    needs = needs_of(request, 100, 256)
    ranked = rank(routes, needs, Constraints(max_latency_ms=500))
    assert [r.route.name for r in ranked] == ["mini"]
    # A model never observed passes: nothing says it is slow.
    assert rank(_routes(["nano"]), needs, Constraints(max_latency_ms=1))[0].route.name == "nano"


def test_an_unhealthy_model_is_skipped_for_the_next_cheapest() -> None:
    routes = _routes(["nano", "mini"])
    circuit = routes[0].deployments[0].state.circuit
    for _ in range(3):
        circuit.record(False)
    assert circuit.state == "open"
    request = door_request({"model": "auto", "messages": [{"role": "user", "content": "hi"}]})
    ranked = rank(routes, needs_of(request, 100, 256), Constraints())
    assert [r.route.name for r in ranked] == ["mini"]


def test_every_qualifying_model_open_is_ranked_anyway_for_panic_routing() -> None:
    routes = _routes(["nano", "mini"])
    for each in routes:
        for _ in range(3):
            each.deployments[0].state.circuit.record(False)
    request = door_request({"model": "auto", "messages": [{"role": "user", "content": "hi"}]})
    ranked = rank(routes, needs_of(request, 100, 256), Constraints())
    assert [r.route.name for r in ranked] == ["nano", "mini"]


def test_every_model_at_its_cap_is_a_503_not_a_400() -> None:
    routes = [route(CATALOGUE["nano"], rpm=1)]
    routes[0].deployments[0].state.usage.add_request()
    request = door_request({"model": "auto", "messages": [{"role": "user", "content": "hi"}]})
    with pytest.raises(NoDeploymentAvailable):
        rank(routes, needs_of(request, 100, 256), Constraints())


def test_a_model_without_a_configured_key_is_excluded() -> None:
    routes = [route(CATALOGUE["nano"], api_key=None), route(CATALOGUE["mini"])]
    request = door_request({"model": "auto", "messages": [{"role": "user", "content": "hi"}]})
    ranked = rank(routes, needs_of(request, 100, 256), Constraints())
    assert [r.route.name for r in ranked] == ["mini"]


def test_no_model_left_is_a_400_naming_each_constraint_and_what_it_excluded() -> None:
    with pytest.raises(NoModelSatisfies) as caught:
        _pick(
            {
                "tools": [TOOL],
                "routing": {"min_quality": 4, "max_output_price_per_1m": 3},
            }
        )
    error = caught.value
    assert error.status_code == 400 and error.param == "routing"
    message = error.message
    assert "tools excluded nano" in message
    # Each model is named once, under the first constraint (in a fixed order) it fails.
    assert "min_quality 4 excluded flash, mini" in message
    assert "max_output_price_per_1m 3 excluded big, haiku, opus" in message
    assert "no known price excluded unpriced" in message


def test_ties_break_by_name_so_the_choice_is_deterministic() -> None:
    twins = [route(model("b-twin", "1", "1")), route(model("a-twin", "1", "1"))]
    request = door_request({"model": "auto", "messages": [{"role": "user", "content": "hi"}]})
    ranked = rank(twins, needs_of(request, 100, 256), Constraints())
    assert [r.route.name for r in ranked] == ["a-twin", "b-twin"]


@pytest.mark.parametrize(
    ("routing", "param"),
    [
        ("cheap", "routing"),
        ({"min_quality": 9}, "routing.min_quality"),
        ({"min_quality": "high"}, "routing.min_quality"),
        ({"max_input_price_per_1m": -1}, "routing.max_input_price_per_1m"),
        ({"max_output_price_per_1m": "lots"}, "routing.max_output_price_per_1m"),
        ({"providers": "openai"}, "routing.providers"),
        ({"max_latency_ms": 0}, "routing.max_latency_ms"),
        ({"fastest": True}, "routing.fastest"),
    ],
)
def test_bad_routing_constraints_are_400s_naming_the_field(routing: Any, param: str) -> None:
    with pytest.raises(InvalidRequest) as caught:
        parse_constraints(routing)
    assert caught.value.param == param
