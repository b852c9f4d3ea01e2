"""The routing table's health, as `GET /health/providers` and metrics show it:
each deployment's state, and the models now served in panic (docs/routing.md)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from model_router.errors import RouterError
from model_router.routing.deployments import panic_order
from model_router.routing.table import RoutingTable


def deployment_health(table: RoutingTable) -> list[dict[str, Any]]:
    """Every deployment's state: circuit, error rate, latency, caps, panic calls."""
    out = []
    for d in table.deployments():
        stats = d.state.stats
        rate = stats.error_rate
        out.append(
            {
                "deployment": d.name,
                "model": d.route,
                "provider": d.provider,
                "upstream_model": d.model.target.upstream_model,
                "weight": d.weight,
                "state": d.state.circuit.state,
                "error_rate": None if rate is None else round(rate, 4),
                "p50_latency_ms": stats.p50,
                "p95_latency_ms": stats.p95,
                "requests": stats.total,
                "failures": stats.failures,
                "recent_calls": stats.samples,
                "last_error": stats.last_error,
                "at_capacity": d.at_cap(),
                "cooling_down": d.cooling(),
                "panic_calls": stats.panics,
                "last_panic_at": _iso(stats.last_panic_at),
            }
        )
    return out


def models_in_panic(table: RoutingTable) -> list[str]:
    """The models whose requests now go through on open circuits (panic
    routing): no deployment of the model or of its fallbacks is usable, and
    some of them are open rather than capped."""
    out = []
    for route in table.all():
        chain = [route]
        for name in route.fallbacks:
            try:
                chain.append(table.get(name))
            except RouterError:
                continue
        deployments = [d for r in chain for d in r.deployments]
        if not any(d.usable() for d in deployments) and panic_order(deployments):
            out.append(route.name)
    return out


def _iso(at: float | None) -> str | None:
    return None if at is None else datetime.fromtimestamp(at, UTC).isoformat()
