"""The semantic cache: reuse an answer for a prompt that means the same.

Embeddings come from the `/embeddings` endpoint of an OpenAI-compatible
provider in the catalogue (`SEMANTIC_CACHE_PROVIDER`, `SEMANTIC_CACHE_MODEL`);
nothing is downloaded at run time. Vectors live in this process's memory,
grouped by context (`key.context_key`: same key scope, model, parameters and
earlier messages), and point at an exact-cache entry, so each answer is stored
once. A prompt whose cosine similarity with a cached one in its context is at
least the threshold is a hit.
"""

from __future__ import annotations

import logging
import math
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import orjson

from model_router.providers.base import ProviderConfig
from model_router.providers.transport import HttpClient, TransportError

log = logging.getLogger(__name__)

Vector = tuple[float, ...]
ConfigLookup = Callable[[], ProviderConfig | None]


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


class Embedder:
    """Calls `POST {base_url}/embeddings` of the configured provider."""

    def __init__(self, config: ConfigLookup, model: str, *, timeout: float) -> None:
        self._config = config
        self._model = model
        self._timeout = timeout
        self._client: HttpClient | None = None

    async def embed(self, text: str) -> Vector | None:
        """The unit vector of `text`; None (and a warning) when it cannot be had."""
        config = self._config()
        if config is None or config.protocol != "openai" or not config.base_url:
            log.warning("semantic cache: no OpenAI-compatible provider for embeddings")
            return None
        headers = {"content-type": "application/json"}
        if config.api_key:
            if config.auth_header == "authorization":
                headers["authorization"] = f"Bearer {config.api_key}"
            else:
                headers[config.auth_header] = config.api_key
        if self._client is None:
            self._client = HttpClient(
                connect_timeout=self._timeout, read_timeout=self._timeout, max_connections=64
            )
        url = config.base_url.rstrip("/") + "/embeddings"
        body = orjson.dumps({"model": self._model, "input": text})
        try:
            response = await self._client.request(
                "POST", url, body, headers, whole_within=self._timeout
            )
            raw = await response.read()
            if response.status != 200:
                log.warning("semantic cache: embeddings answered HTTP %d", response.status)
                return None
            values = orjson.loads(raw)["data"][0]["embedding"]
            return normalised([float(v) for v in values])
        except (TransportError, TimeoutError, orjson.JSONDecodeError) as exc:
            log.warning("semantic cache: embeddings failed (%s)", exc)
        except (KeyError, IndexError, TypeError, ValueError) as exc:
            log.warning("semantic cache: unreadable embeddings answer (%s)", exc)
        return None

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None
