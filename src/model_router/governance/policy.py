"""Pure rules: which models a key may call, budget periods, worst-case cost.

Worst case of a call, reserved against a budget before the upstream is called:
  - prompt tokens: the UTF-8 byte length of the messages (or `input`) and tools as JSON, an
    upper bound for byte-level BPE tokenizers (a token covers at least one byte),
  - output tokens: `max_completion_tokens` or `max_tokens`, else the model's
    maximum output, else its context window, else DEFAULT_MAX_OUTPUT,
  - at the prices of the most expensive candidate, at the time the call is
    priced (so tier and peak rates apply as they will to the actual cost).
A key with a budget cannot call a model whose price is unknown: its cost could
not be counted, so the budget could not hold (403, code `price_unknown`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fnmatch import fnmatchcase
from typing import Any

from model_router.costs.models import ModelInfo
from model_router.costs.pricing import cost
from model_router.domain import Usage
from model_router.errors import ModelNotAllowed, PermissionDenied
from model_router.jsonutil import dumps
from model_router.routing.route import Route

DEFAULT_MAX_OUTPUT = 32_768


def model_allowed(patterns: Iterable[str] | None, model: ModelInfo) -> bool:
    """A pattern matches the model's name or `provider/name` (shell wildcards)."""
    if patterns is None:
        return True
    names = (model.name, f"{model.provider}/{model.name}")
    return any(fnmatchcase(name, pattern) for pattern in patterns for name in names)


def route_allowed(patterns: Sequence[str] | None, route: Route) -> bool:
    return all(model_allowed(patterns, d.model) for d in route.deployments)


def restrict_routes(patterns: Sequence[str] | None, routes: list[Route], requested: str) -> bool:
    """Keep the routes a key may use, in place; True when some were dropped.

    The model the caller named is 403 when not allowed; fallbacks and `auto`'s
    choices that are not allowed are skipped (403 only if none is left).
    """
    if patterns is None:
        return False
    if routes and routes[0].name == requested and not route_allowed(patterns, routes[0]):
        raise ModelNotAllowed(requested)
    kept = [r for r in routes if route_allowed(patterns, r)]
    if not kept:
        raise ModelNotAllowed(requested)
    dropped = len(kept) != len(routes)
    routes[:] = kept
    return dropped


@dataclass(frozen=True, slots=True)
class Period:
    id: str  # the counter's name: d2026-11-26, m2026-11, total
    start: datetime | None
    resets_at: datetime | None

    def ttl(self, now: datetime) -> int:
        """Seconds a counter of this period is worth keeping (0: forever)."""
        if self.resets_at is None:
            return 0
        return int((self.resets_at - now).total_seconds()) + 86_400


def period_of(kind: str | None, now: datetime, created_at: datetime | None = None) -> Period:
    now = now.astimezone(UTC)
    if kind == "day":
        start = now.replace(hour=0, minute=0, second=0, microsecond=0)
        return Period(f"d{start:%Y-%m-%d}", start, start + timedelta(days=1))
    if kind == "total":
        return Period("total", created_at, None)
    start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    following = (start + timedelta(days=32)).replace(day=1)
    return Period(f"m{start:%Y-%m}", start, following)


def prompt_tokens_bound(body: dict[str, Any]) -> int:
    size = len(dumps(body.get("messages") or []))
    if body.get("input"):  # embeddings (and Responses): the input is the prompt
        size += len(dumps(body["input"]))
    if body.get("tools"):
        size += len(dumps(body["tools"]))
    return max(1, size)


def output_tokens_bound(body: dict[str, Any], candidates: Sequence[ModelInfo]) -> int:
    for name in ("max_completion_tokens", "max_tokens"):
        value = body.get(name)
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
    bounds = [m.target.max_output_tokens or m.target.context_window for m in candidates]
    known = [b for b in bounds if b]
    return max(known) if len(known) == len(bounds) and known else DEFAULT_MAX_OUTPUT


def worst_case_usd(
    candidates: Sequence[ModelInfo], prompt: int, output: int, at: datetime | None
) -> Decimal:
    """The most a call could cost on any candidate; PermissionDenied if unpriced."""
    usage = Usage(input_tokens=prompt, output_tokens=output)
    worst = Decimal(0)
    for model in candidates:
        found = cost(usage, model.price, at)
        if found is None:
            raise PermissionDenied(
                f"The model '{model.name}' has no known price, so its cost cannot be "
                "counted against this key's budget.",
                param="model",
                code="price_unknown",
            )
        worst = max(worst, found.total_usd)
    return worst
