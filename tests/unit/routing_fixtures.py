"""Builders for routing unit tests: models, deployments and routes in memory."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal

from model_router.costs.catalogue import ALL_CAPABILITIES, Capability
from model_router.costs.models import ModelInfo
from model_router.costs.pricing import Price, Rates
from model_router.providers.base import ProviderConfig, Target
from model_router.routing.circuit import CircuitBreaker, CircuitPolicy, CircuitState
from model_router.routing.deployments import Deployment, DeploymentState, UsageWindow
from model_router.routing.health import DeploymentStats
from model_router.routing.route import Route


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def model(
    name: str,
    price_in: str | None = "1",
    price_out: str | None = "2",
    *,
    provider: str = "openai",
    window: int | None = 128_000,
    quality: int | None = 3,
    capabilities: frozenset[Capability] = ALL_CAPABILITIES,
    price: Price | None = None,
    max_output: int | None = None,
) -> ModelInfo:
    """A catalogue model; `price` (whole) wins over `price_in`/`price_out`."""
    if price is None and price_in is not None and price_out is not None:
        price = Price(Rates(Decimal(price_in), Decimal(price_out)))
    return ModelInfo(
        id=uuid.uuid4(),
        name=name,
        display_name=name,
        provider=provider,
        provider_id=uuid.uuid4(),
        target=Target(upstream_model=name, context_window=window, max_output_tokens=max_output),
        price=price,
        price_source="test",
        updated_at=datetime.now(UTC),
        quality=quality,
        capabilities=capabilities,
    )


def deployment(
    name: str,
    info: ModelInfo,
    *,
    weight: float = 1.0,
    rpm: int | None = None,
    tpm: int | None = None,
    clock: Clock | None = None,
    api_key: str | None = "key",
    events: list[tuple[str, CircuitState]] | None = None,
) -> Deployment:
    clock = clock or Clock()
    seen = events if events is not None else []
    state = DeploymentState(
        circuit=CircuitBreaker(
            name, CircuitPolicy(failures=3, cooldown=10), lambda n, s: seen.append((n, s)), clock
        ),
        stats=DeploymentStats(),
        usage=UsageWindow(clock),
    )
    config = ProviderConfig(
        name=info.provider,
        protocol="openai",
        base_url="http://upstream.invalid/v1",
        api_key=api_key,
        api_key_setting="TEST_API_KEY",
    )
    return Deployment(name, info.name, info, config, state, weight, rpm, tpm, clock)


def route(info: ModelInfo, **kwargs: object) -> Route:
    return Route(info.name, [deployment(f"{info.provider}/{info.name}", info, **kwargs)])  # type: ignore[arg-type]
