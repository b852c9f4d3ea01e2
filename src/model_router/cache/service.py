"""The response cache on the request path: plan, look up, store.

The service calls `lookup` after translating a call and before the upstream
call, answers a hit through the call's front door (`entry.replay` gives the
events of a streamed one), and hands every finished call's answer to
`remember`. The hit's row records `cache_status` hit (or semantic_hit), zero
cost and `saved_cost_usd`, what the original answer cost; a looked-up miss
records `miss`.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from decimal import Decimal

from model_router.cache.entry import CachedAnswer
from model_router.cache.key import Scope, context_key, plan
from model_router.cache.semantic import TextEmbedder, Vector, VectorIndex, normalised
from model_router.cache.state import CacheState
from model_router.cache.store import CacheStore, MemoryStore
from model_router.calls import Call
from model_router.costs.pricing import Cost, Rates
from model_router.db.records import RequestRecord
from model_router.domain.completion import Completion
from model_router.settings import Settings

log = logging.getLogger(__name__)

ZERO = Decimal(0)
FREE = Cost(input_usd=ZERO, output_usd=ZERO, rates=Rates(None, None))


@dataclass(frozen=True, slots=True)
class SemanticConfig:
    embedder: TextEmbedder
    index: VectorIndex
    threshold: float


class ResponseCache:
    def __init__(
        self,
        store: CacheStore,
        *,
        enabled: bool = False,
        enabled_keys: frozenset[str] = frozenset(),
        ttl: float = 3600.0,
        scope: Scope = "per_key",
        semantic: SemanticConfig | None = None,
    ) -> None:
        self.store = store
        self._enabled = enabled
        self._enabled_keys = enabled_keys
        self._ttl = ttl
        self._scope: Scope = scope
        self._semantic = semantic
        self._tasks: set[asyncio.Task[None]] = set()

    @classmethod
    def disabled(cls) -> ResponseCache:
        """Off unless a request asks, in memory: what a bare CompletionService uses."""
        return cls(MemoryStore(1000))

    @classmethod
    def from_settings(cls, settings: Settings, embedder: TextEmbedder | None) -> ResponseCache:
        """`embedder` gives the semantic cache its vectors (when it is enabled)."""
        store: CacheStore
        if settings.redis_url:
            prefix = settings.redis_key_prefix + settings.cache_redis_prefix
            # Imported only when used: the redis package costs start-up time.
            from model_router.cache.redis_store import RedisStore

            store = RedisStore(settings.redis_url, prefix)
        else:
            store = MemoryStore(settings.cache_max_entries)
        semantic = None
        if settings.semantic_cache_enabled and embedder is not None:
            semantic = SemanticConfig(
                embedder=embedder,
                index=VectorIndex(settings.semantic_cache_max_entries),
                threshold=settings.semantic_cache_threshold,
            )
        return cls(
            store,
            enabled=settings.cache_enabled,
            enabled_keys=frozenset(
                part.strip().lower()
                for part in settings.cache_enabled_keys.split(",")
                if part.strip()
            ),
            ttl=settings.cache_ttl,
            scope=settings.cache_scope,
            semantic=semantic,
        )

    # --- the request path ------------------------------------------------------

    async def lookup(self, call: Call) -> CachedAnswer | None:
        """The cached answer, or None; `call.cache_status` says how it went
        (hit | semantic_hit | miss, or None when the cache stayed out of it).

        Raises InvalidRequest for a bad `cache` field or `x-router-cache` header."""
        key_id = str(call.key.id)
        found = plan(
            call.body,
            call.headers,
            key_id=key_id,
            enabled=self._enabled or key_id in self._enabled_keys,
            default_ttl=self._ttl,
            scope=self._scope,
        )
        if found is None:
            return None
        state = call.cache = CacheState(found)
        if self._semantic is not None:
            state.context = context_key(call.body, found.namespace)
        if not found.read:
            return None
        call.cache_status = "miss"
        call.response_headers["x-router-cache"] = "miss"
        raw = await self.store.get(found.key)
        answer = CachedAnswer.from_bytes(raw) if raw is not None else None
        how = "hit"
        if answer is None and self._semantic is not None:
            answer = await self._semantic_lookup(call, state, self._semantic)
            how = "semantic_hit"
        if answer is None:
            return None
        call.cache_status = how
        call.saved_cost_usd = answer.cost_usd
        call.response_headers["x-router-cache"] = "hit"
        if how == "semantic_hit":
            call.response_headers["x-router-cache-match"] = "semantic"
        return answer

    async def _semantic_lookup(
        self, call: Call, state: CacheState, semantic: SemanticConfig
    ) -> CachedAnswer | None:
        if state.context is None:
            return None
        state.vector = await _vector(semantic.embedder, state.context[1], call)
        if state.vector is None:
            return None
        match = semantic.index.search(state.context[0], state.vector, semantic.threshold)
        if match is None:
            return None
        raw = await self.store.get(match.entry_key)
        return CachedAnswer.from_bytes(raw) if raw is not None else None

    @staticmethod
    def hit_row(call: Call, answer: CachedAnswer) -> RequestRecord:
        """The record of a call answered from the cache: free, and saying what it saved."""
        row = call.row(status="success", result=answer.completion())
        row.input_cost_usd = row.output_cost_usd = row.total_cost_usd = ZERO
        row.cost_unknown = False
        if call.model is None:
            row.model, row.provider = answer.model, answer.provider
        return row

    def remember(self, call: Call, row: RequestRecord, completion: Completion | None) -> None:
        """Store a successful call's answer, if its plan says so (in the background)."""
        state = call.cache
        if state is None or not state.plan.write or row.status != "success":
            return
        if call.cache_status in ("hit", "semantic_hit") or completion is None:
            return
        answer = CachedAnswer.of(row.model, row.provider, completion, row.total_cost_usd)
        if answer is None:
            return
        task = asyncio.get_running_loop().create_task(self._store(call, state, answer))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _store(self, call: Call, state: CacheState, answer: CachedAnswer) -> None:
        try:
            await self.store.set(state.plan.key, answer.to_bytes(), state.plan.ttl)
            semantic = self._semantic
            if semantic is None:
                return
            if state.context is None:
                return
            vector = state.vector or await _vector(semantic.embedder, state.context[1], call)
            if vector is not None:
                semantic.index.add(state.context[0], state.plan.key, vector, state.plan.ttl)
        except Exception as exc:  # a background write: log it, never fail a request
            log.warning("response cache: storing an answer failed (%s)", exc)

    async def settle(self) -> None:
        """Wait for the writes in flight (shut-down, tests)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def aclose(self) -> None:
        await self.settle()
        await self.store.aclose()
        if self._semantic is not None:
            await self._semantic.embedder.aclose()


async def _vector(embedder: TextEmbedder, text: str, call: Call) -> Vector | None:
    """The unit vector of `text`, embedded as a call of `call`'s key."""
    values = await embedder.embed(text, call)
    return normalised(values) if values else None
