"""The cache's notes on one call (`Call.cache`)."""

from __future__ import annotations

from dataclasses import dataclass

from model_router.cache.key import CachePlan
from model_router.cache.semantic import Vector


@dataclass(slots=True)
class CacheState:
    plan: CachePlan
    context: tuple[str, str] | None = None  # semantic: (context hash, prompt)
    vector: Vector | None = None
