"""The semantic cache: reuse an answer for a prompt that means the same.

Embeddings come from an embedding model of the catalogue
(`SEMANTIC_CACHE_PROVIDER`/`SEMANTIC_CACHE_MODEL`), called through the
embeddings service (`services/embeddings.py`): each is recorded and charged to
the key of the call that needed it. Nothing is downloaded at run time.
Vectors live in this process's memory, grouped by context (`key.context_key`:
same key scope, model, parameters and earlier messages), and point at an
exact-cache entry, so each answer is stored once. A prompt whose cosine
similarity with a cached one in its context is at least the threshold is a hit.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:  # calls.py imports this package's state
    from model_router.calls import Call

Vector = tuple[float, ...]


def normalised(values: Sequence[float]) -> Vector | None:
    norm = math.sqrt(math.fsum(v * v for v in values))
    return None if norm == 0 or not math.isfinite(norm) else tuple(v / norm for v in values)


def cosine(a: Vector, b: Vector) -> float:
    """Of two unit vectors."""
    return math.fsum(x * y for x, y in zip(a, b, strict=False)) if len(a) == len(b) else -1.0


@dataclass(frozen=True, slots=True)
class Match:
    entry_key: str
    similarity: float


class VectorIndex:
    """At most `max_entries` vectors, oldest out first, each with an expiry."""

    def __init__(self, max_entries: int, clock: Callable[[], float] = time.monotonic) -> None:
        self._max = max_entries
        self._clock = clock
        # (context, entry key) -> (vector, expires)
        self._items: OrderedDict[tuple[str, str], tuple[Vector, float]] = OrderedDict()
        self._by_context: dict[str, set[str]] = {}

    def __len__(self) -> int:
        return len(self._items)

    def add(self, context: str, entry_key: str, vector: Vector, ttl: float) -> None:
        item = (context, entry_key)
        self._items[item] = (vector, self._clock() + ttl)
        self._items.move_to_end(item)
        self._by_context.setdefault(context, set()).add(entry_key)
        while len(self._items) > self._max:
            self._drop(*next(iter(self._items)))

    def _drop(self, context: str, entry_key: str) -> None:
        self._items.pop((context, entry_key), None)
        keys = self._by_context.get(context)
        if keys is not None:
            keys.discard(entry_key)
            if not keys:
                del self._by_context[context]

    def search(self, context: str, vector: Vector, threshold: float) -> Match | None:
        """The most similar live vector in `context`, if it reaches `threshold`."""
        now = self._clock()
        best: Match | None = None
        for entry_key in list(self._by_context.get(context, ())):
            stored, expires = self._items[(context, entry_key)]
            if expires <= now:
                self._drop(context, entry_key)
                continue
            similarity = cosine(stored, vector)
            if similarity >= threshold and (best is None or similarity > best.similarity):
                best = Match(entry_key, similarity)
        return best


class TextEmbedder(Protocol):
    """Embeds one text for the cache, as a call of the key of `trigger`, the call
    being looked up or stored (the service records and charges it)."""

    async def embed(self, text: str, trigger: Call) -> Sequence[float] | None: ...

    async def aclose(self) -> None: ...
