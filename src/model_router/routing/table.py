"""The routing table: public model names -> routes, built from the routing file
and the in-memory catalogue, rebuilt when the catalogue reloads.

Deployment state (circuit, stats, usage) is kept by deployment name across
rebuilds. Without a routing file every catalogue model is one deployment,
named `<provider>/<model>`.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from dataclasses import replace

from model_router.costs.models import Catalogue, ModelInfo
from model_router.errors import ModelNotFound
from model_router.providers.base import ProviderConfig, Target
from model_router.routing.circuit import CircuitBreaker, CircuitPolicy, CircuitState
from model_router.routing.config import RouteSpec, RoutingConfig
from model_router.routing.deployments import Deployment, DeploymentState, UsageWindow
from model_router.routing.health import DeploymentStats
from model_router.routing.route import Route
from model_router.settings import Settings

_DATED = re.compile(r"-\d{8}$")
"""A snapshot date at the end of a model id (`-20251001`)."""

log = logging.getLogger(__name__)


class RoutingTable:
    def __init__(
        self,
        catalogue: Catalogue,
        config: RoutingConfig,
        settings: Settings,
        circuit: CircuitPolicy,
        notify: Callable[[str, CircuitState], None],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._catalogue = catalogue
        self.config = config
        self._settings = settings
        self._circuit = circuit
        self._notify = notify
        self._clock = clock
        self.states: dict[str, DeploymentState] = {}
        self._seen: object = None
        self._routes: dict[str, Route] = {}
        self._defaults: dict[str, Route] = {}

    def state(self, name: str) -> DeploymentState:
        state = self.states.get(name)
        if state is None:
            state = self.states[name] = DeploymentState(
                circuit=CircuitBreaker(name, self._circuit, self._notify, self._clock),
                stats=DeploymentStats(),
                usage=UsageWindow(self._clock),
            )
        return state

    def _fresh(self) -> None:
        if self._seen is not self._catalogue.models:
            self._routes = self._build(strict=False)
            self._defaults = {}
            self._seen = self._catalogue.models

    def reset(self) -> None:
        """Forget every deployment's health (circuits closed, stats empty)."""
        self.states.clear()
        self._seen = None

    def validate(self) -> None:
        """Build every route now; a reference the catalogue lacks is an error
        naming the file, line and field."""
        self._routes = self._build(strict=True)
        self._seen = self._catalogue.models

    def _build(self, *, strict: bool) -> dict[str, Route]:
        routes: dict[str, Route] = {}
        for name, spec in self.config.routes.items():
            try:
                routes[name] = self._route(spec)
            except ValueError as exc:
                if strict:
                    raise
                log.warning("routing: %s is left out: %s", name, exc)
        if strict:
            for name, spec in self.config.routes.items():
                for i, fallback in enumerate(spec.fallbacks):
                    if fallback not in routes and fallback not in self._catalogue.models:
                        raise self.config.error(
                            spec.fallbacks_line,
                            f"models.{name}.fallbacks[{i}]",
                            f"'{fallback}' is neither in the catalogue nor in this file",
                        )
            default = self.config.default_model or self._settings.router_default_model
            if default not in routes and default not in self._catalogue.models:
                log.warning("routing: the default model %s is not in the catalogue", default)
        return routes

    def _route(self, spec: RouteSpec) -> Route:
        deployments: list[Deployment] = []
        if not spec.deployments:
            info = self._catalogue.models.get(spec.name)
            if info is None:
                raise self.config.error(
                    spec.line,
                    f"models.{spec.name}",
                    "not in the catalogue, so it needs deployments",
                )
            deployments.append(self._default(spec.name, info, spec))
        for i, dep in enumerate(spec.deployments):
            where = f"models.{spec.name}.deployments[{i}]"
            base = self._catalogue.providers.get(dep.provider)
            if base is None:
                known = ", ".join(sorted(self._catalogue.providers))
                raise self.config.error(
                    dep.line, f"{where}.provider", f"unknown provider '{dep.provider}' ({known})"
                )
            priced_as = dep.model or spec.name
            try:
                info = self._catalogue.resolve(f"{dep.provider}/{priced_as}")
            except ModelNotFound:
                raise self.config.error(
                    dep.line,
                    f"{where}.model",
                    f"the catalogue has no model '{priced_as}' on provider '{dep.provider}'",
                ) from None
            config = base
            if dep.api_key_setting or dep.base_url:
                setting = dep.api_key_setting or base.api_key_setting
                config = ProviderConfig(
                    name=dep.name,
                    protocol=base.protocol,
                    base_url=dep.base_url or base.base_url,
                    api_key=self._settings.secret(setting),
                    api_key_setting=setting,
                    auth_header=base.auth_header,
                )
            target = info.target
            if dep.upstream_model:
                target = Target(
                    upstream_model=dep.upstream_model,
                    max_output_tokens=target.max_output_tokens,
                    context_window=target.context_window,
                    extra_body=target.extra_body,
                    reads_images=target.reads_images,
                )
            model = self._as_route(info, spec, target)
            deployments.append(
                Deployment(
                    name=dep.name,
                    route=spec.name,
                    model=model,
                    config=config,
                    state=self.state(dep.name),
                    weight=dep.weight,
                    rpm=dep.rpm,
                    tpm=dep.tpm,
                    clock=self._clock,
                )
            )
        return Route(spec.name, deployments, spec.fallbacks)

    @staticmethod
    def _as_route(info: ModelInfo, spec: RouteSpec | None, target: Target) -> ModelInfo:
        quality = spec.quality if spec and spec.quality is not None else info.quality
        capabilities = info.capabilities
        if spec and spec.capabilities is not None:
            capabilities = spec.capabilities
        name = spec.name if spec else info.name
        return replace(info, name=name, target=target, quality=quality, capabilities=capabilities)

    def _default(self, name: str, info: ModelInfo, spec: RouteSpec | None = None) -> Deployment:
        deployment = f"{info.provider}/{info.name}"
        return Deployment(
            name=deployment,
            route=name,
            model=self._as_route(info, spec, info.target),
            config=self._catalogue.providers[info.provider],
            state=self.state(deployment),
            clock=self._clock,
        )

    def get(self, name: str) -> Route:
        """The route of a model name; unknown names raise ModelNotFound.

        A name known neither to the file nor to the catalogue that ends in a
        date (`claude-haiku-4-5-20251001`, as Claude Code sends) is its undated
        name's route.
        """
        self._fresh()
        route = self._routes.get(name) or self._defaults.get(name)
        undated = _DATED.sub("", name) if route is None else name
        if undated != name and (undated in self._routes or undated in self._catalogue.models):
            return self.get(undated)
        if route is None:
            info = self._catalogue.resolve(name)
            route = Route(name, [self._default(name, info)])
            self._defaults[name] = route
        return route

    def all(self) -> list[Route]:
        """Every public model: the file's routes and the rest of the catalogue."""
        self._fresh()
        names = sorted(set(self._routes) | set(self._catalogue.models))
        return [self.get(name) for name in names]

    def deployments(self) -> list[Deployment]:
        seen: dict[str, Deployment] = {}
        for route in self.all():
            for d in route.deployments:
                seen.setdefault(d.name, d)
        return [seen[name] for name in sorted(seen)]

    @property
    def default_model(self) -> str:
        return self.config.default_model or self._settings.router_default_model
