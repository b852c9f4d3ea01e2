"""Dependencies, as `Annotated` aliases: the app state and the caller's key."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from model_router.cache.service import ResponseCache
from model_router.costs.models import Catalogue
from model_router.domain.keys import KeyInfo
from model_router.errors import PermissionDenied
from model_router.governance.governor import Governor
from model_router.observability.operations import Operations
from model_router.routing.learned.runtime import LearnedRouting
from model_router.services.completions import CompletionService
from model_router.services.embeddings import EmbeddingService
from model_router.services.experiments import Experiments
from model_router.services.keys import KeyCache
from model_router.services.request_log import RequestLog
from model_router.services.responses_store import ResponseStore
from model_router.services.token_count import TokenCounting
from model_router.services.webhooks import Dispatcher
from model_router.settings import Settings


@dataclass(slots=True)
class AppState:
    """Everything the lifespan builds; reached by routes through `State`."""

    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    keys: KeyCache
    catalogue: Catalogue
    request_log: RequestLog
    completions: CompletionService
    embeddings: EmbeddingService
    ops: Operations
    cache: ResponseCache
    experiments: Experiments
    governor: Governor
    webhooks: Dispatcher
    learned: LearnedRouting
    responses: ResponseStore
    token_counting: TokenCounting


async def get_state(request: Request) -> AppState:
    # async on purpose: FastAPI runs a sync dependency in a thread pool.
    state: AppState = request.app.state.router
    return state


State = Annotated[AppState, Depends(get_state)]


def api_key_of(request: Request) -> str | None:
    return api_key_in(request.headers)


def api_key_in(headers: Mapping[str, str]) -> str | None:
    """The caller's key: `x-api-key`, or `authorization: Bearer <key>`."""
    if key := headers.get("x-api-key"):
        return key.strip()
    auth = headers.get("authorization")
    if auth and auth[:7].lower() == "bearer ":
        return auth[7:].strip()
    return None


async def current_key(request: Request, state: State) -> KeyInfo:
    return await state.keys.authenticate(api_key_of(request))


CurrentKey = Annotated[KeyInfo, Depends(current_key)]


async def admin_key(key: CurrentKey) -> KeyInfo:
    if not key.is_admin:
        raise PermissionDenied("This endpoint needs an admin key.", code="admin_required")
    return key


AdminKey = Annotated[KeyInfo, Depends(admin_key)]


async def caught_up_log(state: State) -> None:
    """Rows still pending in this process are written before an analytics read."""
    await state.request_log.catch_up()


FreshLog = Annotated[None, Depends(caught_up_log)]
