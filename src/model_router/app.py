"""create_app(settings): the lifespan builds everything; no module-level state.

Start-up: engine, key cache, catalogue (both in memory), request-log writer,
one pooled HTTP client per provider (on first use). Shut-down, in reverse:
stop taking work, flush the request log, close the pools.
"""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import async_sessionmaker
from starlette.datastructures import Headers
from starlette.types import Receive, Scope, Send

from model_router.api import errors
from model_router.api.deps import AppState
from model_router.api.routes import (
    admin_experiments,
    admin_keys,
    admin_webhooks,
    analytics,
    analytics_routing,
    chat,
    embeddings,
    feedback,
    health,
    messages,
    models,
    responses,
)
from model_router.api.routes import dashboard as dashboard_route
from model_router.api.routes import metrics as metrics_route
from model_router.api.routes.serving import install_body_schemas
from model_router.cache.service import ResponseCache
from model_router.costs.models import Catalogue
from model_router.db.engine import make_engine
from model_router.governance.governor import build_governor
from model_router.observability.lifecycle import install_drain, wait_for_database
from model_router.observability.operations import Operations
from model_router.providers.registry import ProviderPool
from model_router.routing.config import load_config
from model_router.routing.learned.runtime import LearnedRouting
from model_router.routing.router import Router
from model_router.services.completions import CompletionService
from model_router.services.embeddings import CacheEmbedder, EmbeddingService
from model_router.services.experiments import Experiments, ExperimentSet
from model_router.services.keys import KeyCache, ensure_key
from model_router.services.log_maintenance import LogMaintenance
from model_router.services.request_log import RequestLog
from model_router.services.responses_store import ResponseStore
from model_router.services.token_count import TokenCounting
from model_router.services.webhooks.dispatcher import Dispatcher, webhook_policy
from model_router.settings import Settings

log = logging.getLogger(__name__)


async def _refresh_catalogue(catalogue: Catalogue, every: float) -> None:
    while True:
        await asyncio.sleep(every)
        try:
            await catalogue.load()
        except Exception as exc:  # keep serving from the last good copy
            log.warning("catalogue refresh failed: %s", exc)


FAST_PATHS = {
    "/v1/chat/completions": chat.fast_chat_completions,
    "/v1/messages": messages.fast_messages,
    "/v1/responses": responses.fast_create_response,
    "/v1/embeddings": embeddings.fast_embeddings,
}
"""POST endpoints served as plain ASGI (the hot path), before FastAPI; each
call gets a request span when tracing is on."""


class Gateway:
    """The ASGI app: the model-call endpoints directly, everything else through FastAPI."""

    def __init__(self, api: FastAPI) -> None:
        self.api = api

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST":
            state: AppState | None = getattr(self.api.state, "router", None)
            endpoint = FAST_PATHS.get(scope["path"])
            if state is not None and endpoint is not None:
                if state.ops.tracing is None:
                    await endpoint(state, scope, receive, send)
                    return
                with state.ops.tracing.request_span(Headers(scope=scope), scope["path"]):
                    await endpoint(state, scope, receive, send)
                return
        await self.api(scope, receive, send)


def create_app(settings: Settings | None = None) -> Gateway:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = make_engine(settings.async_database_url)
        sessions = async_sessionmaker(engine, expire_on_commit=False)
        await wait_for_database(engine, wait_seconds=settings.startup_db_wait)
        ops = Operations(settings)
        if settings.admin_api_key:
            await ensure_key(sessions, settings.admin_api_key, "admin (ADMIN_API_KEY)", admin=True)
        keys = KeyCache(sessions, settings.key_cache_refresh_seconds)
        await keys.start()
        catalogue = Catalogue(sessions, settings)
        await catalogue.load()
        refresher = asyncio.create_task(
            _refresh_catalogue(catalogue, settings.key_cache_refresh_seconds)
        )
        request_log = RequestLog(
            sessions,
            batch_size=settings.request_log_batch_size,
            flush_interval=settings.request_log_flush_interval,
            max_pending=settings.request_log_max_pending,
            spill_dir=settings.request_log_spill_dir,
            spill_threshold=settings.request_log_spill_threshold,
            write_timeout=settings.request_log_write_timeout,
        )
        ops.attach(request_log)
        await request_log.start()
        upkeep = LogMaintenance(
            engine,
            retention_days=settings.request_log_retention_days,
            text_retention_days=settings.request_text_retention_days,
            interval=settings.request_log_maintenance_seconds,
        )
        await upkeep.start()
        pool = ProviderPool(
            connect_timeout=settings.upstream_connect_timeout,
            read_timeout=settings.upstream_read_timeout,
            max_connections=settings.upstream_max_connections,
            wrap=ops.provider_wrapper(),
        )
        # Routing: the file is checked against the catalogue now, errors name line and field.
        config = load_config(settings.router_config)
        router = Router(catalogue, config, settings)
        router.table.validate()
        # Learned routing pools (issue 19): the bandit's state, shared through the database.
        learned = LearnedRouting.build(
            config,
            engine,
            flush_seconds=settings.learned_routing_flush_seconds,
            refresh_seconds=settings.learned_routing_refresh_seconds,
        )
        learned.validate(config, router.table)
        await learned.start()
        router.on_circuit_change.append(ops.metrics.circuit_changed)
        experiments = Experiments(sessions, ExperimentSet())
        await experiments.start(settings.experiments_refresh_seconds)
        # Governance and webhooks (issue 6): limits, budgets, events.
        governor = build_governor(settings)
        await governor.start(sessions, keys.all)
        # Embeddings (issue 17): the API's, and the semantic cache's (charged to the key).
        embedder = EmbeddingService(pool, request_log, router, governor)
        cache = ResponseCache.from_settings(
            settings,
            CacheEmbedder(
                embedder, settings.semantic_cache_provider, settings.semantic_cache_model
            ),
        )
        webhooks = Dispatcher(sessions, webhook_policy(settings))
        await webhooks.start()
        governor.emit = webhooks.emit
        router.on_circuit_change.append(webhooks.circuit_changed)
        # The Responses API's stored responses (issue 17): written and purged in the background.
        stored_responses = ResponseStore(
            sessions,
            store_text=settings.store_text,
            retention_days=settings.responses_retention_days,
            purge_seconds=settings.responses_purge_seconds,
            flush_interval=settings.request_log_flush_interval,
        )
        await stored_responses.start(request_log)
        app.state.router = AppState(
            settings=settings,
            engine=engine,
            sessions=sessions,
            keys=keys,
            catalogue=catalogue,
            request_log=request_log,
            completions=CompletionService(
                catalogue,
                pool,
                request_log,
                cache=cache,
                experiments=experiments.live,
                router=router,
                governor=governor,
                learned=learned,
            ),
            embeddings=embedder,
            ops=ops,
            cache=cache,
            experiments=experiments,
            governor=governor,
            webhooks=webhooks,
            learned=learned,
            responses=stored_responses,
            token_counting=TokenCounting(router, pool),
        )
        install_drain(ops.begin_drain, settings.shutdown_drain_seconds)
        # Everything built so far lives for the whole process: keep it out of the
        # cyclic collector's work, and collect young objects less often.
        gc.collect()
        gc.freeze()
        gc.set_threshold(50_000, 20, 20)
        try:
            yield
        finally:
            refresher.cancel()
            with suppress(asyncio.CancelledError):
                await refresher
            await keys.stop()
            await experiments.stop()
            await governor.stop()
            await webhooks.stop()
            await learned.stop()
            await upkeep.stop()
            await stored_responses.stop()
            await request_log.stop()
            await cache.aclose()
            await pool.aclose()
            await ops.aclose()
            await engine.dispose()

    app = FastAPI(
        title="model-router",
        summary="An OpenAI-compatible LLM gateway with exact cost tracking",
        version="0.1.0",
        lifespan=lifespan,
    )
    errors.install(app)
    install_body_schemas(app, [*chat.BODIES, *messages.BODIES])
    for module in (
        health,
        chat,
        messages,
        responses,
        embeddings,
        models,
        analytics,
        analytics_routing,
    ):
        app.include_router(module.router)
    for module in (admin_experiments, feedback):
        app.include_router(module.router)
    for module in (admin_keys, admin_webhooks):
        app.include_router(module.router)
    app.include_router(metrics_route.router)
    app.include_router(dashboard_route.router)
    return Gateway(app)
