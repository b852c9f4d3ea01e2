"""Routing pools: the `pools:` section of the routing file.

    pools:
      auto-coding:                       # the public name callers send as `model`
        candidates: [gpt-4o-mini, claude-haiku-4-5, gpt-4o]
        default_model: gpt-4o            # savings are measured against it
        objective: cheapest_good_enough  # or best_under_cost
        quality_bar: 0.8                 # cheapest_good_enough: expected quality at least this
        # max_cost_usd: "0.01"           # best_under_cost: the ceiling per request
        exploration: 0.1                 # share of traffic that explores (default 10 %)
        exploration_budget_usd_per_day: "5"   # cap on exploration's extra spend
        features: [size, tools, images, output, code, turns, script]  # the task class
        unrated_success: null            # quality of a success nobody rated (null: not counted)
        prior_weight: 4                  # pseudo-observations a class borrows from the pool
        signals:                         # implicit quality signals, each switchable
          upstream_error: true           # the call failed: quality 0
          truncated: true                # finish_reason `length`: quality 0
          invalid_json: true             # not JSON under a JSON-schema request: quality 0
          regeneration: true             # same prompt and key within the window: the earlier gets 0
          regeneration_window_seconds: 120

Errors name the file, the line and the field, as for the rest of the file.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Literal

from model_router.routing.learned.features import FEATURES, Feature

if TYPE_CHECKING:
    from yaml.nodes import Node

    from model_router.routing.config import _Reader

Objective = Literal["cheapest_good_enough", "best_under_cost"]
OBJECTIVES: tuple[Objective, ...] = ("cheapest_good_enough", "best_under_cost")

_POOL_FIELDS = {
    "candidates",
    "default_model",
    "objective",
    "quality_bar",
    "max_cost_usd",
    "exploration",
    "exploration_budget_usd_per_day",
    "features",
    "unrated_success",
    "prior_weight",
    "signals",
}
_SIGNAL_FIELDS = {
    "upstream_error",
    "truncated",
    "invalid_json",
    "regeneration",
    "regeneration_window_seconds",
}


DEFAULT_WINDOW = 120.0


@dataclass(frozen=True, slots=True)
class Signals:
    upstream_error: bool = True
    truncated: bool = True
    invalid_json: bool = True
    regeneration: bool = True
    regeneration_window_seconds: float = DEFAULT_WINDOW


@dataclass(frozen=True, slots=True)
class PoolSpec:
    name: str
    candidates: tuple[str, ...]
    default_model: str | None = None  # None: the file's default_model, else the last candidate
    objective: Objective = "cheapest_good_enough"
    quality_bar: float = 0.7
    max_cost_usd: Decimal | None = None
    exploration: float = 0.1
    exploration_budget_usd_per_day: Decimal | None = None  # None: no cap
    features: tuple[Feature, ...] = FEATURES
    unrated_success: float | None = None
    prior_weight: float = 4.0
    signals: Signals = field(default_factory=Signals)
    line: int = 0

    def baseline(self, file_default: str | None) -> str:
        """The model savings are measured against: a candidate, always."""
        if self.default_model is not None:
            return self.default_model
        if file_default in self.candidates:
            assert file_default is not None
            return file_default
        return self.candidates[-1]


def _fraction(reader: _Reader, node: Node, where: str, *, positive: bool = False) -> float:
    value = reader.value(node)
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    if not ok or not (0 < value <= 1 if positive else 0 <= value <= 1):
        low = "greater than 0" if positive else "from 0"
        raise reader.fail(node, where, f"expected a number {low} to 1")
    return float(value)


def _usd(reader: _Reader, node: Node, where: str) -> Decimal:
    value = reader.value(node)
    try:
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise InvalidOperation
        amount = Decimal(str(value))
    except InvalidOperation:
        raise reader.fail(node, where, "expected an amount in USD") from None
    if not amount.is_finite() or amount < 0:
        raise reader.fail(node, where, "expected an amount in USD of 0 or more")
    return amount


def _flag(reader: _Reader, node: Node, where: str) -> bool:
    value = reader.value(node)
    if not isinstance(value, bool):
        raise reader.fail(node, where, "expected true or false")
    return value


def _signals(reader: _Reader, node: Node, where: str) -> Signals:
    fields = reader.mapping(node, where, _SIGNAL_FIELDS)
    flags = {
        name: _flag(reader, fields[name], f"{where}.{name}")
        for name in ("upstream_error", "truncated", "invalid_json", "regeneration")
        if name in fields
    }
    window = DEFAULT_WINDOW
    if "regeneration_window_seconds" in fields:
        node = fields["regeneration_window_seconds"]
        window = float(reader.number(node, f"{where}.regeneration_window_seconds"))
    return Signals(**flags, regeneration_window_seconds=window)


def parse_pool(reader: _Reader, name: str, node: Node, line: int) -> PoolSpec:
    where = f"pools.{name}"
    fields = reader.mapping(node, where, _POOL_FIELDS)
    if "candidates" not in fields:
        raise reader.fail(node, f"{where}.candidates", "required")
    candidates = tuple(dict.fromkeys(reader.strings(fields["candidates"], f"{where}.candidates")))
    if not candidates:
        raise reader.fail(fields["candidates"], f"{where}.candidates", "expected a non-empty list")
    default = None
    if "default_model" in fields:
        default = reader.text(fields["default_model"], f"{where}.default_model")
        if default not in candidates:
            raise reader.fail(
                fields["default_model"], f"{where}.default_model", "must be one of the candidates"
            )
    objective: Objective = "cheapest_good_enough"
    if "objective" in fields:
        given = reader.text(fields["objective"], f"{where}.objective")
        if given not in OBJECTIVES:
            known = ", ".join(OBJECTIVES)
            raise reader.fail(fields["objective"], f"{where}.objective", f"expected {known}")
        objective = "best_under_cost" if given == "best_under_cost" else "cheapest_good_enough"
    ceiling = None
    if "max_cost_usd" in fields:
        ceiling = _usd(reader, fields["max_cost_usd"], f"{where}.max_cost_usd")
    if objective == "best_under_cost" and ceiling is None:
        raise reader.fail(node, f"{where}.max_cost_usd", "required by objective best_under_cost")
    spec = PoolSpec(name=name, candidates=candidates, default_model=default, line=line)
    values: dict[str, object] = {"objective": objective, "max_cost_usd": ceiling}
    if "quality_bar" in fields:
        values["quality_bar"] = _fraction(reader, fields["quality_bar"], f"{where}.quality_bar")
    if "exploration" in fields:
        values["exploration"] = _fraction(reader, fields["exploration"], f"{where}.exploration")
    if "exploration_budget_usd_per_day" in fields:
        key = "exploration_budget_usd_per_day"
        values[key] = _usd(reader, fields[key], f"{where}.{key}")
    if "unrated_success" in fields and reader.value(fields["unrated_success"]) is not None:
        node_u = fields["unrated_success"]
        values["unrated_success"] = _fraction(reader, node_u, f"{where}.unrated_success")
    if "prior_weight" in fields:
        weight = reader.value(fields["prior_weight"])
        if isinstance(weight, bool) or not isinstance(weight, int | float) or weight < 0:
            raise reader.fail(
                fields["prior_weight"], f"{where}.prior_weight", "expected a number of 0 or more"
            )
        values["prior_weight"] = float(weight)
    if "features" in fields:
        given_features = reader.strings(fields["features"], f"{where}.features")
        unknown = sorted(set(given_features) - set(FEATURES))
        if unknown:
            raise reader.fail(
                fields["features"],
                f"{where}.features",
                f"unknown feature '{unknown[0]}' (known: {', '.join(FEATURES)})",
            )
        values["features"] = tuple(f for f in FEATURES if f in given_features)
    if "signals" in fields:
        values["signals"] = _signals(reader, fields["signals"], f"{where}.signals")
    return replace(spec, **values)  # type: ignore[arg-type]  # checked field by field above


def parse_pools(reader: _Reader, node: Node) -> dict[str, PoolSpec]:
    pools: dict[str, PoolSpec] = {}
    for name, item in reader.mapping(node, "pools", set()).items():
        key_line = next(k.start_mark.line for k, v in node.value if v is item) + 1
        pools[name] = parse_pool(reader, name, item, key_line)
    return pools
