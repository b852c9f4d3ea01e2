"""Embeddings, for `POST /v1/embeddings` and for the router's own use (the
semantic cache): translate, route, govern, call, price, record.

The same routing (deployments, retries, fallbacks, circuit breakers:
`Router.run` over `routing.embedding_plan`), governance (allowed models, rate
limits, budgets: `Governor.admit` and `finish`) and request log as chat; every
call that passed authentication is one row with front_door "embeddings", its
tokens, exact cost and latency. When the provider reports no token count
(Gemini) the usage is estimated (`domain.embeddings.estimated_usage`), the
answer says `usage.tokens_estimated: true` and the row's `route_reason` says
"usage estimated".

The semantic cache's embedding calls (`CacheEmbedder`) are calls of the key
whose chat call needed them: each is a row of its own, charged to that key
(its budget and rate limits count it), tagged `router=semantic-cache` beside
the chat call's own tags, and its routing reason names the chat call.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from model_router.calls import Call
from model_router.costs.pricing import Cost, cost
from model_router.db.records import RequestRecord
from model_router.domain.embeddings import (
    EmbeddingRequest,
    Embeddings,
    estimated_usage,
    floats_of,
)
from model_router.domain.keys import KeyInfo
from model_router.errors import RouterError
from model_router.frontdoors.base import Answered
from model_router.frontdoors.openai_embeddings import OpenAIEmbeddingsDoor
from model_router.governance.governor import Governor
from model_router.governance.tags import tags_of
from model_router.providers.registry import ProviderPool
from model_router.routing.deployments import Deployment
from model_router.routing.embedding_plan import plan_embeddings
from model_router.routing.router import Router
from model_router.services.attempts import answered_by, attempting
from model_router.services.request_log import RequestLog

log = logging.getLogger(__name__)

ESTIMATED = "usage estimated at 4 characters a token (the provider reports none)"
CACHE_TAG = ("router", "semantic-cache")


class EmbeddingService:
    def __init__(
        self, pool: ProviderPool, request_log: RequestLog, router: Router, governor: Governor
    ) -> None:
        self._pool = pool
        self._log = request_log
        self._router = router
        self._governor = governor

    async def create(
        self, call: Call, door: OpenAIEmbeddingsDoor
    ) -> tuple[bytes, Callable[[], None]]:
        """The rendered answer (the body of a 200) and what records it, for the
        caller to run once the answer is sent (as chat's). Errors raise, recorded."""
        try:
            request = door.to_request(call.body)
        except RouterError as exc:
            self._record(call, call.row(status="error", error=exc))
            raise
        result, price, record = await self._run(call, request)
        assert call.model is not None
        answered = Answered(
            str(call.id),
            call.model.name,
            call.model.provider,
            call.created_at,
            call.elapsed_ms(),
            price,
        )
        return door.render(result, request, answered), record

    def reject(self, key: KeyInfo, error: RouterError) -> None:
        """Record a call whose body could not even be read."""
        call = Call(key=key, body={}, front_door="embeddings")
        self._record(call, call.row(status="error", error=error))

    async def embed_for_cache(self, trigger: Call, model: str, text: str) -> list[float] | None:
        """One text's vector for the semantic cache, as a call of `trigger`'s key
        (recorded and charged); None, logged, when it cannot be had."""
        try:  # a model the catalogue lacks is the router's configuration: no row
            plan_embeddings(self._router.table, model, {}, 1)
        except RouterError as exc:
            log.warning("semantic cache: no embeddings (%s)", exc.message)
            return None
        tags = {**tags_of(trigger.body, trigger.headers), CACHE_TAG[0]: CACHE_TAG[1]}
        body = {"model": model, "input": text, "metadata": tags}
        call = Call(key=trigger.key, body=body, front_door="embeddings")
        request = EmbeddingRequest(model=model, inputs=[text])
        try:
            result, _, record = await self._run(
                call, request, f"for the semantic cache of {trigger.id}"
            )
        except RouterError as exc:
            log.warning("semantic cache: embeddings failed (%s)", exc.message)
            return None
        record()
        return floats_of(result.vectors[0])

    async def _run(
        self, call: Call, request: EmbeddingRequest, note: str | None = None
    ) -> tuple[Embeddings, Cost | None, Callable[[], None]]:
        """The answer, its price, and what records its row; errors raise, recorded."""

        async def attempt(deployment: Deployment, _timeout: float) -> Embeddings:
            provider = self._pool.embedder(attempting(call, deployment))
            return await provider.embed(request, deployment.model.target)

        try:
            prompt = estimated_usage(request).input_tokens
            call.plan = plan = plan_embeddings(
                self._router.table, request.model, request.options, prompt
            )
            if note:
                plan.notes.append(note)
            call.model = plan.routes[0].info
            call.response_headers["x-router-reason"] = plan.reason
            await self._governor.admit(call, plan.routes)  # limits, budget: may refuse
            result, deployment = await self._router.run(plan, attempt, call.attempts, call.started)
        except RouterError as exc:
            self._record(call, call.row(status="error", error=exc), request)
            raise
        assert call.model is not None
        if result.usage_estimated:
            plan.notes.append(ESTIMATED)
        answered_by(call, deployment)
        self._router.report_tokens(deployment, result.usage.total_tokens)
        price = cost(result.usage, call.model.price, call.created_at)

        def record() -> None:
            row = call.row(status="success", price_cost=price)
            row.input_tokens = row.total_tokens = result.usage.input_tokens
            self._record(call, row, request)

        return result, price, record

    def _record(
        self, call: Call, row: RequestRecord, request: EmbeddingRequest | None = None
    ) -> None:
        """The one place a finished embeddings call ends up: its request-log row."""
        if request is not None:
            row.prompt_text = request.prompt_text()
        self._governor.finish(call, row)  # tags, privacy, budget settlement
        self._log.add(row)


class CacheEmbedder:
    """The semantic cache's embedder: `EmbeddingService.embed_for_cache` with
    the catalogue model `SEMANTIC_CACHE_PROVIDER/SEMANTIC_CACHE_MODEL`."""

    def __init__(self, service: EmbeddingService, provider: str, model: str) -> None:
        self._service = service
        self._model = f"{provider}/{model}"

    async def embed(self, text: str, trigger: Call) -> list[float] | None:
        return await self._service.embed_for_cache(trigger, self._model, text)

    async def aclose(self) -> None:
        return None
