"""What each deployment has done lately: error rate and latency percentiles,
for `GET /health/providers`, metrics, spreading traffic and `max_latency_ms`.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

WINDOW = 200  # the last calls kept per deployment
MIN_SAMPLES = 5  # fewer latencies than this say nothing about speed


@dataclass(frozen=True, slots=True)
class Outcome:
    ok: bool
    latency_ms: int
    at: float


class DeploymentStats:
    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._recent: deque[Outcome] = deque(maxlen=WINDOW)
        self.total = 0
        self.failures = 0
        self.last_error: str | None = None
        self.last_error_at: float | None = None
        self.panics = 0  # calls made on an open circuit (panic routing)
        self.last_panic_at: float | None = None

    def record(self, ok: bool, latency_ms: int, error: str | None = None) -> None:
        now = self._clock()
        self._recent.append(Outcome(ok, latency_ms, now))
        self.total += 1
        if not ok:
            self.failures += 1
            self.last_error, self.last_error_at = error, now

    def record_panic(self) -> None:
        self.panics += 1
        self.last_panic_at = self._clock()

    @property
    def samples(self) -> int:
        return len(self._recent)

    @property
    def error_rate(self) -> float | None:
        if not self._recent:
            return None
        return sum(not o.ok for o in self._recent) / len(self._recent)

    def latency(self, quantile: float) -> int | None:
        """A percentile of successful calls' latency (time to first content for streams)."""
        values = sorted(o.latency_ms for o in self._recent if o.ok)
        if not values:
            return None
        index = min(len(values) - 1, max(0, round(quantile * len(values) + 0.5) - 1))
        return values[index]

    @property
    def p50(self) -> int | None:
        return self.latency(0.5)

    @property
    def p95(self) -> int | None:
        return self.latency(0.95)

    @property
    def known_speed(self) -> bool:
        return sum(o.ok for o in self._recent) >= MIN_SAMPLES
