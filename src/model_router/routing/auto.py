"""`"model": "auto"`: the cheapest active model that can serve the request.

A model qualifies when its provider has a key, it has a known price, its
context window holds the estimated prompt plus max_tokens, it has every
capability the request uses (tools, images, JSON schema, streaming), and it
meets the request's `routing` constraints: `max_input_price_per_1m`,
`max_output_price_per_1m`, `providers` (allow list), `min_quality` (the
catalogue's tier, 1-5) and `max_latency_ms` (against its observed p95; a model
with no observations yet passes). Models with no healthy deployment are
skipped, unless every qualifying model is in that case: then those whose
circuits are open (not merely capped) are ranked anyway, and the router calls
them on their open circuits (panic routing, see `router.Router.run`). The
qualifying models are ranked by the estimated cost of this request (name
breaks ties), so the choice is deterministic, and the rest of the ranking is
the fallback chain. No model left: 400 naming, per constraint,
what it excluded.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation
from typing import Any

from model_router.costs.catalogue import Capability
from model_router.domain.content import Image
from model_router.domain.request import Request
from model_router.errors import InvalidRequest
from model_router.routing.deployments import panic_order
from model_router.routing.errors import NoDeploymentAvailable, NoModelSatisfies
from model_router.routing.route import Route
from model_router.routing.tokens import estimate_cost

AUTO = "auto"
UNHEALTHY = "unhealthy (circuit open or at capacity)"
_FIELDS = (
    "max_input_price_per_1m",
    "max_output_price_per_1m",
    "providers",
    "min_quality",
    "max_latency_ms",
)


@dataclass(frozen=True, slots=True)
class Constraints:
    max_input_price_per_1m: Decimal | None = None
    max_output_price_per_1m: Decimal | None = None
    providers: frozenset[str] | None = None
    min_quality: int | None = None
    max_latency_ms: int | None = None


def _bad(name: str, problem: str) -> InvalidRequest:
    return InvalidRequest(
        f"Invalid value for 'routing.{name}': {problem}",
        param=f"routing.{name}",
        code="invalid_value",
    )


def _price(raw: dict[str, Any], name: str) -> Decimal | None:
    value = raw.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise _bad(name, "expected a number (USD per 1M tokens)")
    try:
        price = Decimal(str(value))
    except InvalidOperation:
        raise _bad(name, "expected a number (USD per 1M tokens)") from None
    if not price.is_finite() or price < 0:
        raise _bad(name, "expected a number of 0 or more")
    return price


def _int(raw: dict[str, Any], name: str, low: int, high: int | None = None) -> int | None:
    value = raw.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise _bad(name, f"expected an integer of at least {low}")
    if high is not None and value > high:
        raise _bad(name, f"expected an integer from {low} to {high}")
    return value


def parse_constraints(raw: Any) -> Constraints:
    """The request's `routing` object, checked field by field."""
    if raw is None:
        return Constraints()
    if not isinstance(raw, dict):
        raise InvalidRequest(
            "Invalid value for 'routing': expected an object", param="routing", code="invalid_value"
        )
    if unknown := sorted(set(raw) - set(_FIELDS)):
        raise _bad(unknown[0], f"unknown field (known: {', '.join(_FIELDS)})")
    providers = raw.get("providers")
    allowed: frozenset[str] | None = None
    if providers is not None:
        if not isinstance(providers, list) or not all(isinstance(p, str) for p in providers):
            raise _bad("providers", "expected a list of provider names")
        allowed = frozenset(providers)
    return Constraints(
        max_input_price_per_1m=_price(raw, "max_input_price_per_1m"),
        max_output_price_per_1m=_price(raw, "max_output_price_per_1m"),
        providers=allowed,
        min_quality=_int(raw, "min_quality", 1, 5),
        max_latency_ms=_int(raw, "max_latency_ms", 1),
    )


@dataclass(frozen=True, slots=True)
class Needs:
    prompt_tokens: int
    output_tokens: int  # expected, for the cost estimate
    max_output: int | None  # what the window must also hold
    capabilities: frozenset[Capability]


def needs_of(request: Request, prompt_tokens: int, output_tokens: int) -> Needs:
    used: set[Capability] = set()
    if request.tools:
        used.add("tools")
    if any(isinstance(p, Image) for m in request.messages for p in m.parts):
        used.add("vision")
    if request.output_format is not None and request.output_format.type == "json_schema":
        used.add("json_schema")
    if request.stream:
        used.add("streaming")
    return Needs(prompt_tokens, output_tokens, request.max_output_tokens, frozenset(used))


def fits(route: Route, needs: Needs) -> bool:
    window = route.info.context_window
    return window is None or needs.prompt_tokens + (needs.max_output or 0) <= window


@dataclass(frozen=True, slots=True)
class Ranked:
    route: Route
    cost: Decimal


def _exclusion(route: Route, needs: Needs, limits: Constraints) -> tuple[str, Route | None]:
    """(the constraint that excludes `route`, or "" and the route as allowed)."""
    info = route.info
    if route.embeds:
        return "embedding model", None
    if limits.providers is not None:
        allowed = [d for d in route.deployments if d.provider in limits.providers]
        if not allowed:
            return f"providers {sorted(limits.providers)}", None
        route = replace(route, deployments=allowed)
        info = route.info
    if all(d.config.api_key is None and d.config.api_key_setting for d in route.deployments):
        return "provider has no API key", None
    if estimate_cost(needs.prompt_tokens, needs.output_tokens, info.price) is None:
        return "no known price", None
    if not fits(route, needs):
        return f"context window < {needs.prompt_tokens + (needs.max_output or 0)} tokens", None
    for capability in sorted(needs.capabilities):
        if capability not in info.capabilities:
            return capability, None
    rates = info.price.base if info.price else None
    cap_in, cap_out = limits.max_input_price_per_1m, limits.max_output_price_per_1m
    if cap_in is not None and (rates is None or rates.input is None or rates.input > cap_in):
        return f"max_input_price_per_1m {cap_in}", None
    if cap_out is not None and (rates is None or rates.output is None or rates.output > cap_out):
        return f"max_output_price_per_1m {cap_out}", None
    if limits.min_quality is not None and (info.quality or 0) < limits.min_quality:
        return f"min_quality {limits.min_quality}", None
    if limits.max_latency_ms is not None:
        p95s = [d.state.stats.p95 for d in route.deployments if d.state.stats.p95 is not None]
        if p95s and min(p95s) > limits.max_latency_ms:
            return f"max_latency_ms {limits.max_latency_ms}", None
    if not any(d.usable() for d in route.deployments):
        return UNHEALTHY, route  # qualifies but for its health: kept for panic routing
    return "", route


def rank(routes: Sequence[Route], needs: Needs, limits: Constraints) -> list[Ranked]:
    """The models that qualify, cheapest first; raises if none does."""
    ranked: list[Ranked] = []
    open_only: list[Ranked] = []  # would qualify, but every deployment's circuit is open
    excluded: dict[str, list[str]] = {}
    for route in routes:
        why, allowed = _exclusion(route, needs, limits)
        if allowed is not None:
            price = estimate_cost(needs.prompt_tokens, needs.output_tokens, allowed.info.price)
            assert price is not None
            if not why:
                ranked.append(Ranked(allowed, price))
                continue
            if panic_order(allowed.deployments):
                open_only.append(Ranked(allowed, price))
        excluded.setdefault(why, []).append(route.name)
    if not ranked:
        # Every qualifying model is open: rank them anyway, and the router calls
        # them on their open circuits (panic routing) rather than refuse.
        ranked = open_only
    if not ranked:
        detail = "; ".join(
            f"{why} excluded {', '.join(sorted(names))}" for why, names in sorted(excluded.items())
        )
        message = f"No model satisfies the request for model 'auto': {detail or 'no models'}."
        if set(excluded) == {UNHEALTHY}:
            raise NoDeploymentAvailable(message)
        raise NoModelSatisfies(message)
    ranked.sort(key=lambda r: (r.cost, r.route.name))
    return ranked


def usd(value: Decimal | None) -> str:
    return "unknown" if value is None else f"${value.quantize(Decimal('0.000001')).normalize():f}"


def explain(
    ranked: Sequence[Ranked], needs: Needs, default: str, default_cost: Decimal | None
) -> str:
    first = ranked[0]
    uses = ", ".join(sorted(needs.capabilities)) or "plain text"
    return (
        f"auto: {first.route.name} is the cheapest of {len(ranked)} qualifying models "
        f"for ~{needs.prompt_tokens} prompt + {needs.output_tokens} output tokens ({uses}): "
        f"est. {usd(first.cost)} vs default {default} {usd(default_cost)}"
    )
