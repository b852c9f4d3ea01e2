"""The routing file (`ROUTER_CONFIG`, YAML), read and validated at start.

    default_model: gpt-4o          # optional: what `auto` savings are measured against
    models:
      gpt-4o-mini:                 # a public model name callers use
        fallbacks: [claude-haiku-4-5, gemini-2.5-flash]
        deployments:
          - name: openai-main      # unique; default "<provider>/<model>"
            provider: openai       # a provider in the catalogue
            weight: 3
          - name: openai-backup
            provider: openai
            api_key_setting: OPENAI_API_KEY_2   # another key, by its variable name
            base_url: https://api.openai.com/v1
            model: gpt-4o-mini     # the catalogue model it is priced as (default: the public name)
            upstream_model: gpt-4o-mini-2024-07-18
            weight: 1
            rpm: 500               # optional caps per minute
            tpm: 200000
      claude-haiku-4-5:
        quality: 3                 # override the catalogue's tier
        capabilities: [tools, vision, json_schema, streaming]

    pools:                         # learned routing: see routing/learned/pools.py
      auto-coding:
        candidates: [gpt-4o-mini, claude-haiku-4-5, gpt-4o]

A model the file does not name has one deployment: its catalogue entry. Every
error names the file, the line and the field.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from model_router.costs.catalogue import ALL_CAPABILITIES, Capability
from model_router.routing.learned.pools import PoolSpec, parse_pools

# PyYAML is imported when a routing file is read: without ROUTER_CONFIG the
# router never loads it (start-up time).
if TYPE_CHECKING:
    from yaml.nodes import Node


class RoutingConfigError(ValueError):
    """The routing file is wrong; the message names the file, line and field."""

    def __init__(self, source: str, line: int, where: str, problem: str) -> None:
        super().__init__(f"{source}:{line}: {where}: {problem}")
        self.line = line
        self.field = where


@dataclass(frozen=True, slots=True)
class DeploymentSpec:
    name: str
    provider: str
    model: str | None = None
    upstream_model: str | None = None
    api_key_setting: str | None = None
    base_url: str | None = None
    weight: float = 1.0
    rpm: int | None = None
    tpm: int | None = None
    line: int = 0


@dataclass(frozen=True, slots=True)
class RouteSpec:
    name: str
    deployments: tuple[DeploymentSpec, ...] = ()
    fallbacks: tuple[str, ...] = ()
    quality: int | None = None
    capabilities: frozenset[Capability] | None = None
    line: int = 0  # of its name
    fallbacks_line: int = 0


@dataclass(frozen=True, slots=True)
class RoutingConfig:
    source: str = "(default: one deployment per catalogue model)"
    default_model: str | None = None
    routes: dict[str, RouteSpec] = field(default_factory=dict)
    pools: dict[str, PoolSpec] = field(default_factory=dict)  # learned routing (pools.py)

    def error(self, line: int, where: str, problem: str) -> RoutingConfigError:
        return RoutingConfigError(self.source, line, where, problem)


_DEPLOYMENT_FIELDS = {
    "name",
    "provider",
    "model",
    "upstream_model",
    "api_key_setting",
    "base_url",
    "weight",
    "rpm",
    "tpm",
}
_ROUTE_FIELDS = {"deployments", "fallbacks", "quality", "capabilities"}
_TOP_FIELDS = {"default_model", "models", "pools"}


class _Reader:
    """Walks the YAML node tree so every value keeps its line."""

    def __init__(self, source: str) -> None:
        from yaml.constructor import SafeConstructor

        self.source = source
        self._constructor = SafeConstructor()

    def fail(self, node: Node, where: str, problem: str) -> RoutingConfigError:
        return RoutingConfigError(self.source, node.start_mark.line + 1, where, problem)

    def mapping(self, node: Node, where: str, allowed: set[str]) -> dict[str, Node]:
        from yaml.nodes import MappingNode

        if not isinstance(node, MappingNode):
            raise self.fail(node, where, "expected a mapping")
        out: dict[str, Node] = {}
        for key, value in node.value:
            name = self.value(key)
            if not isinstance(name, str):
                raise self.fail(key, where, "keys must be strings")
            if allowed and name not in allowed:
                known = ", ".join(sorted(allowed))
                raise self.fail(key, f"{where}.{name}", f"unknown field (known: {known})")
            if name in out:
                raise self.fail(key, f"{where}.{name}", "given twice")
            out[name] = value
        return out

    def value(self, node: Node) -> Any:
        return self._constructor.construct_object(node, deep=True)

    def text(self, node: Node, where: str) -> str:
        from yaml.nodes import ScalarNode

        value = self.value(node)
        if not isinstance(node, ScalarNode) or not isinstance(value, str) or not value.strip():
            raise self.fail(node, where, "expected a non-empty string")
        return value.strip()

    def number(self, node: Node, where: str, *, integer: bool = False, minimum: float = 0) -> Any:
        value = self.value(node)
        ok = isinstance(value, int) if integer else isinstance(value, int | float)
        if isinstance(value, bool) or not ok or value <= minimum:
            kind = "an integer" if integer else "a number"
            raise self.fail(node, where, f"expected {kind} greater than {minimum:g}")
        return value

    def strings(self, node: Node, where: str) -> list[str]:
        from yaml.nodes import SequenceNode

        if not isinstance(node, SequenceNode):
            raise self.fail(node, where, "expected a list")
        return [self.text(item, f"{where}[{i}]") for i, item in enumerate(node.value)]


def parse_config(text: str, source: str = "<routing>") -> RoutingConfig:
    """The routing file's content, checked field by field."""
    import yaml

    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        line = mark.line + 1 if mark else 0
        raise RoutingConfigError(source, line, "(syntax)", str(exc.problem)) from None
    if root is None:
        return RoutingConfig(source=source)
    reader = _Reader(source)
    top = reader.mapping(root, "(top)", _TOP_FIELDS)
    default_model = None
    if "default_model" in top:
        default_model = reader.text(top["default_model"], "default_model")
    routes: dict[str, RouteSpec] = {}
    names: dict[str, int] = {}
    if "models" in top:
        models = top["models"]
        for name, node in reader.mapping(models, "models", set()).items():
            key_line = next(k.start_mark.line for k, v in models.value if v is node) + 1
            routes[name] = _route(reader, name, node, names, key_line)
    pools = parse_pools(reader, top["pools"]) if "pools" in top else {}
    return RoutingConfig(source=source, default_model=default_model, routes=routes, pools=pools)


def _route(reader: _Reader, name: str, node: Node, names: dict[str, int], line: int) -> RouteSpec:
    from yaml.nodes import ScalarNode, SequenceNode

    where = f"models.{name}"
    if isinstance(node, ScalarNode) and reader.value(node) is None:
        return RouteSpec(name=name, line=line)
    fields = reader.mapping(node, where, _ROUTE_FIELDS)
    deployments: list[DeploymentSpec] = []
    if "deployments" in fields:
        items = fields["deployments"]
        if not isinstance(items, SequenceNode) or not items.value:
            raise reader.fail(items, f"{where}.deployments", "expected a non-empty list")
        for i, item in enumerate(items.value):
            spec = _deployment(reader, name, item, f"{where}.deployments[{i}]")
            if spec.name in names:
                raise reader.fail(
                    item,
                    f"{where}.deployments[{i}].name",
                    f"'{spec.name}' is already used on line {names[spec.name]}",
                )
            names[spec.name] = spec.line
            deployments.append(spec)
    fallbacks: tuple[str, ...] = ()
    fallbacks_line = line
    if "fallbacks" in fields:
        fallbacks_line = fields["fallbacks"].start_mark.line + 1
        fallbacks = tuple(reader.strings(fields["fallbacks"], f"{where}.fallbacks"))
        if name in fallbacks:
            raise reader.fail(
                fields["fallbacks"], f"{where}.fallbacks", "a model cannot fall back to itself"
            )
    quality = None
    if "quality" in fields:
        quality = reader.number(fields["quality"], f"{where}.quality", integer=True)
        if quality > 5:
            raise reader.fail(fields["quality"], f"{where}.quality", "tiers are 1 to 5")
    capabilities: frozenset[Capability] | None = None
    if "capabilities" in fields:
        given = reader.strings(fields["capabilities"], f"{where}.capabilities")
        unknown = sorted(set(given) - set(ALL_CAPABILITIES))
        if unknown:
            known = ", ".join(sorted(ALL_CAPABILITIES))
            raise reader.fail(
                fields["capabilities"],
                f"{where}.capabilities",
                f"unknown capability '{unknown[0]}' (known: {known})",
            )
        capabilities = frozenset(c for c in ALL_CAPABILITIES if c in given)
    return RouteSpec(
        name=name,
        deployments=tuple(deployments),
        fallbacks=fallbacks,
        quality=quality,
        capabilities=capabilities,
        line=line,
        fallbacks_line=fallbacks_line,
    )


def _deployment(reader: _Reader, route: str, node: Node, where: str) -> DeploymentSpec:
    fields = reader.mapping(node, where, _DEPLOYMENT_FIELDS)
    if "provider" not in fields:
        raise reader.fail(node, f"{where}.provider", "required")
    provider = reader.text(fields["provider"], f"{where}.provider")
    texts = {
        key: reader.text(fields[key], f"{where}.{key}")
        for key in ("name", "model", "upstream_model", "api_key_setting", "base_url")
        if key in fields
    }
    if "base_url" in texts and not texts["base_url"].startswith(("http://", "https://")):
        raise reader.fail(fields["base_url"], f"{where}.base_url", "expected an http(s) URL")
    caps = {
        key: int(reader.number(fields[key], f"{where}.{key}", integer=True))
        for key in ("rpm", "tpm")
        if key in fields
    }
    weight = 1.0
    if "weight" in fields:
        weight = float(reader.number(fields["weight"], f"{where}.weight"))
    model = texts.get("model")
    return DeploymentSpec(
        name=texts.get("name") or f"{provider}/{model or route}",
        provider=provider,
        model=model,
        upstream_model=texts.get("upstream_model"),
        api_key_setting=texts.get("api_key_setting"),
        base_url=texts.get("base_url"),
        weight=weight,
        rpm=caps.get("rpm"),
        tpm=caps.get("tpm"),
        line=node.start_mark.line + 1,
    )


def load_config(path: Path | None) -> RoutingConfig:
    """The routing file at `path`, or the default configuration when there is none."""
    if path is None:
        return RoutingConfig()
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise RoutingConfigError(str(path), 0, "ROUTER_CONFIG", f"cannot read: {exc}") from None
    return parse_config(text, str(path))
