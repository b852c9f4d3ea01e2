"""When to retry, how long to wait, and the per-request deadline.

Retried: 429, 408, 409, 5xx, timeouts, connection errors and answers that
break off or cannot be read. A deployment-specific refusal (401, 403, 404: a
bad key or a model that deployment lacks) moves on to the next deployment
without a retry. Any other 4xx is the request's own fault and is returned at
once: another try would get the same answer.

The wait before retrying the same deployment is its `retry-after` when it
sent one, else exponential backoff with equal jitter: attempt n (from 0)
waits between half and all of min(cap, base x 2^n). Trying a different
deployment needs no wait.

A 429 is retried like a failure but is no failure of the deployment: it is
at capacity, not broken, so it never counts towards opening its circuit
(`at_capacity`).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Literal

from model_router.errors import ProviderNotConfigured, RouterError, UpstreamError

Verdict = Literal["retry", "next", "stop"]
RETRY_4XX = frozenset({408, 409, 429})
DEPLOYMENT_4XX = frozenset({401, 403, 404})


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    max_retries: int = 2  # per model, after its first attempt
    backoff_base: float = 0.5
    backoff_max: float = 8.0
    retry_after_max: float = 30.0  # a longer retry-after sends the call elsewhere
    deadline: float = 300.0  # seconds, from the request's arrival to its answer (first content)
    attempt_timeout: float = 120.0  # one attempt, to its answer (first content): then the next

    def backoff(self, retry: int, rng: random.Random) -> float:
        """The wait before retry number `retry` (0-based) of the same deployment."""
        ceiling = min(self.backoff_max, self.backoff_base * float(2**retry))
        return ceiling / 2 + rng.random() * ceiling / 2


def verdict(exc: RouterError) -> Verdict:
    if isinstance(exc, ProviderNotConfigured):
        return "next"
    if not isinstance(exc, UpstreamError):
        return "stop"
    status = exc.upstream_status
    if status is None or status < 400:  # unreachable, timed out, cut off, unreadable
        return "retry"
    if status in RETRY_4XX or status >= 500 or exc.retryable:
        return "retry"
    if status in DEPLOYMENT_4XX:
        return "next"
    return "stop"


def retry_after(exc: RouterError) -> float | None:
    """The upstream's retry-after, in seconds, when it sent one."""
    value = exc.headers.get("retry-after") if exc.headers else None
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None  # an HTTP date: treated as no hint


def at_capacity(exc: RouterError) -> bool:
    """An upstream 429: the deployment is busy, not broken."""
    return isinstance(exc, UpstreamError) and exc.upstream_status == 429
