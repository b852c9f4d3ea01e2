"""Liveness and readiness; no key needed."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import text
from starlette.responses import JSONResponse

from model_router.api.deps import State

router = APIRouter(tags=["health"])


@router.get("/health", summary="Liveness")
async def health() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/ready", summary="Readiness: the database answers")
async def ready(state: State) -> JSONResponse:
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
