"""Prometheus metrics, derived from the request-log rows.

Every call through the router ends as exactly one request-log row, so the
per-request metrics are computed from that row by `Metrics.observe` (a
request-log listener), not sprinkled over the request path. Label children
are bound once per label tuple and cached, so a row costs a few dictionary
lookups and counter increments.

Under `serve --workers N` the CLI points PROMETHEUS_MULTIPROC_DIR at a fresh
directory before the workers start; prometheus-client then keeps every value
in a memory-mapped file per process and a scrape of any worker adds them up.
"""

from __future__ import annotations

import os
import uuid
from bisect import bisect_left
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

from model_router.db.records import Attempt, RequestRecord

Row = RequestRecord

LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300)
TTFT_BUCKETS = (0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 1, 2, 5, 10, 30)
UNKNOWN = "unknown"
CIRCUIT_STATES = {"closed": 0.0, "half_open": 1.0, "open": 2.0}


def status_class(status: int) -> str:
    """The class of a failed upstream call from its HTTP status."""
    if status == 429:
        return "rate_limit"
    if status == 504:
        return "timeout"
    if status >= 500:
        return "server_error"
    if status in (401, 403):
        return "auth"
    return "client_error"


def error_class(http_status: int | None, upstream_status: int | None) -> str | None:
    """The class of an upstream failure, from what the row recorded; None if none."""
    if upstream_status is not None:
        return status_class(upstream_status)
    if http_status == 504:
        return "timeout"
    if http_status == 502:
        return "unavailable"
    return None


class _Observe:
    """`Histogram.observe` of one label child, straight on its values: a finished
    call updates six series, and prometheus-client's checks cost more calls than
    the updates (the values are its own, in one process or in the mmap files)."""

    __slots__ = ("_bounds", "_buckets", "_sum")

    def __init__(self, child: Histogram) -> None:
        self._bounds: list[float] = child._upper_bounds
        self._buckets: list[Any] = child._buckets
        self._sum: Any = child._sum

    def __call__(self, amount: float) -> None:
        self._sum.inc(amount)
        # The first bucket whose bound is >= amount (the last is +Inf), as `observe`.
        self._buckets[bisect_left(self._bounds, amount)].inc(1)


class _Bound:
    """The label children one (model, provider, status, code, key) tuple updates:
    each counter child's value (its `inc` less the checks) and each histogram's `_Observe`."""

    __slots__ = ("cost", "input_tokens", "latency", "output_tokens", "requests", "ttft")

    def __init__(self, m: Metrics, model: str, provider: str, status: str, code: str, key: str):
        self.requests: Any = m.requests.labels(model, provider, status, code, key)._value
        self.latency = _Observe(m.latency.labels(model, provider))
        self.ttft = _Observe(m.ttft.labels(model, provider))
        self.input_tokens: Any = m.tokens.labels(model, provider, "input")._value
        self.output_tokens: Any = m.tokens.labels(model, provider, "output")._value
        self.cost: Any = m.cost.labels(model, provider, key)._value


class Metrics:
    """The router's metrics. `multiproc_dir` set: values shared by every worker."""

    def __init__(self, multiproc_dir: str | None = None) -> None:
        self.multiproc_dir = multiproc_dir
        # Single process: our own registry (one per app, so tests can build many).
        # Multi-process: values live in the mmap files; a registry is built per scrape.
        self.registry = CollectorRegistry() if multiproc_dir is None else None
        reg = self.registry
        self.requests = Counter(
            "model_router_requests",
            "Calls through the router, by model, provider, outcome, HTTP status and key prefix.",
            ["model", "provider", "status", "code", "key"],
            registry=reg,
        )
        self.latency = Histogram(
            "model_router_request_duration_seconds",
            "Time from request to last byte (streams: to the end of the stream).",
            ["model", "provider"],
            buckets=LATENCY_BUCKETS,
            registry=reg,
        )
        self.ttft = Histogram(
            "model_router_time_to_first_token_seconds",
            "Streams: time from request to the first content chunk.",
            ["model", "provider"],
            buckets=TTFT_BUCKETS,
            registry=reg,
        )
        self.tokens = Counter(
            "model_router_tokens",
            "Tokens, by direction (input includes cached, output includes reasoning).",
            ["model", "provider", "direction"],
            registry=reg,
        )
        self.cost = Counter(
            "model_router_cost_usd",
            "Cost in USD of priced calls (calls with an unknown price add nothing).",
            ["model", "provider", "key"],
            registry=reg,
        )
        self.upstream_errors = Counter(
            "model_router_upstream_errors",
            "Failed upstream attempts, by provider and class.",
            ["provider", "error_class"],
            registry=reg,
        )
        self.retries = Counter(
            "model_router_retries",
            "Upstream attempts after the first one on the same model.",
            ["model"],
            registry=reg,
        )
        self.fallbacks = Counter(
            "model_router_fallbacks",
            "Upstream attempts that moved on to another model.",
            ["model"],
            registry=reg,
        )
        self.panic = Counter(
            "model_router_panic_attempts",
            "Upstream attempts made on an open circuit because every deployment of the "
            "model and its fallbacks was open (panic routing), by deployment and outcome.",
            ["deployment", "outcome"],
            registry=reg,
        )
        self.cache = Counter(
            "model_router_cache_lookups",
            "Response-cache lookups, by result (hit, semantic_hit, miss).",
            ["result"],
            registry=reg,
        )
        self.rate_limited = Counter(
            "model_router_rate_limited",
            "Calls answered 429: source=router (the key's limits) or upstream.",
            ["key", "source"],
            registry=reg,
        )
        self.circuit = Gauge(
            "model_router_circuit_state",
            "Circuit breaker of each deployment: 0 closed, 1 half-open, 2 open.",
            ["deployment"],
            multiprocess_mode="livemax",
            registry=reg,
        )
        self.queue_depth = Gauge(
            "model_router_request_log_pending",
            "Request-log rows waiting to be written to the database.",
            multiprocess_mode="livesum",
            registry=reg,
        )
        self.key_prefixes: dict[uuid.UUID, str] = {}
        self._bound: dict[tuple[str, str, str, int, str], _Bound] = {}
        self._depth: Callable[[], int] | None = None

    def watch_queue(self, depth: Callable[[], int]) -> None:
        """Read the request-log depth at each scrape (and, across workers, each second)."""
        self._depth = depth

    def update_queue_depth(self) -> None:
        if self._depth is not None:
            self.queue_depth.set(self._depth())

    def circuit_changed(self, deployment: str, state: str) -> None:
        """For the router's circuit breakers: `closed`, `half_open` or `open`."""
        self.circuit.labels(deployment).set(CIRCUIT_STATES.get(state, 2.0))

    def _children(self, row: Row) -> tuple[_Bound, str]:
        # A model the catalogue does not know is a client's typo: one label for all
        # of them, so bad requests cannot create series without bound.
        model = row.model if row.model_id is not None else UNKNOWN
        provider = row.provider or UNKNOWN
        key = self.key_prefixes.get(row.user_id, UNKNOWN) if row.user_id else UNKNOWN
        label = (model, provider, row.status, row.http_status or 0, key)
        bound = self._bound.get(label)
        if bound is None:
            bound = _Bound(self, model, provider, label[2], str(label[3]), key)
            self._bound[label] = bound
        return bound, key

    def observe(self, row: Row) -> None:
        """The request-log listener: one finished call."""
        bound, key = self._children(row)
        bound.requests.inc(1)
        bound.latency((row.latency_ms or 0) / 1000)
        ttft = row.ttft_ms
        if ttft is not None:
            bound.ttft(ttft / 1000)
        if row.input_tokens:
            bound.input_tokens.inc(row.input_tokens)
        if row.output_tokens:
            bound.output_tokens.inc(row.output_tokens)
        cost: Decimal | None = row.total_cost_usd
        if cost:
            bound.cost.inc(float(cost))
        attempts = row.attempts
        if attempts:
            self._attempts(attempts)
        elif row.status != "success":
            kind = error_class(row.http_status, row.upstream_status)
            if kind is not None and row.provider:
                self.upstream_errors.labels(row.provider, kind).inc()
        cache = row.cache_status
        if cache:
            self.cache.labels(cache).inc()
        if row.http_status == 429:
            source = "upstream" if row.upstream_status == 429 else "router"
            self.rate_limited.labels(key, source).inc()

    def _attempts(self, attempts: list[Attempt]) -> None:
        """Retries, fallbacks, panic calls and upstream errors from the routing
        attempts ({deployment, provider, model, status, latency_ms, error, and
        panic: true on a call made on an open circuit}; status is the upstream's
        HTTP status, or the router's for a timeout or no answer)."""
        previous: str | None = None
        for attempt in attempts:
            model = str(attempt.get("model") or UNKNOWN)
            if previous is not None:
                (self.retries if model == previous else self.fallbacks).labels(model).inc()
            previous = model
            status = attempt["status"]
            ok = status == 200
            if attempt.get("panic"):
                deployment = str(attempt.get("deployment") or UNKNOWN)
                self.panic.labels(deployment, "success" if ok else "error").inc()
            if ok:
                continue
            kind = status_class(status)
            self.upstream_errors.labels(str(attempt.get("provider") or UNKNOWN), kind).inc()

    def render(self) -> tuple[bytes, str]:
        """The exposition text for a scrape, and its content type."""
        self.update_queue_depth()
        if self.registry is not None:
            return generate_latest(self.registry), CONTENT_TYPE_LATEST
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry, path=self.multiproc_dir)  # type: ignore[no-untyped-call]
        return generate_latest(registry), CONTENT_TYPE_LATEST

    def close(self) -> None:
        """Worker exit: its live gauges stop counting in the other workers' scrapes."""
        if self.multiproc_dir is not None:
            multiprocess.mark_process_dead(os.getpid(), self.multiproc_dir)  # type: ignore[no-untyped-call]
