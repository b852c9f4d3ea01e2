"""Liveness and readiness (no key needed); each deployment's health (any key)."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import text
from starlette.responses import JSONResponse

from model_router.api.deps import CurrentKey, State

router = APIRouter(tags=["health"])


@router.get("/health", summary="Liveness")
async def health() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/ready", summary="Readiness: the database answers")
async def ready(state: State) -> JSONResponse:
    if state.ops.draining:  # shutting down: the load balancer should stop sending
        return JSONResponse({"status": "draining"}, status_code=503)
    try:
        async with state.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    except Exception as exc:
        return JSONResponse(
            {"status": "unavailable", "database": f"unreachable ({type(exc).__name__})"},
            status_code=503,
        )
    return JSONResponse(
        {"status": "ready", "database": "ok", "request_log_pending": state.request_log.depth}
    )


@router.get("/health/providers", summary="Each deployment's circuit, error rate and latency")
async def providers(state: State, _key: CurrentKey) -> JSONResponse:
    """Per deployment: circuit state (closed, open, half_open), recent error rate,
    p50/p95 latency of successful calls (time to first content for streams), and
    the calls made on its open circuit (panic routing). `panic`: the models whose
    requests now go through on open circuits, none of their deployments healthy."""
    router = state.completions.router
    deployments = router.health()
    unhealthy = sum(d["state"] != "closed" for d in deployments)
    return JSONResponse(
        {
            "status": "degraded" if unhealthy else "ok",
            "unhealthy": unhealthy,
            "panic": router.in_panic(),
            "deployments": deployments,
        }
    )
