"""A circuit breaker per deployment.

closed: traffic flows. It opens after `failures` consecutive failures, or when
the last `window` calls failed at `error_rate` or more. open: no traffic while
a sibling can take it. After `cooldown` seconds one probe is let through
(half_open); its success closes the circuit, its failure opens it for another
cooldown. A probe that never reports (the caller went away, or the upstream
only said it is at capacity) is given up: the next call probes.

Only failures count: the router reports a 429 ("at capacity") as no outcome
(`release`), so rate limiting never opens a circuit. When every deployment a
request could use is open, the router calls one anyway ("panic", see
`deployments.panic_order`): its success closes the circuit, its failure
restarts the cooldown.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

CircuitState = Literal["closed", "open", "half_open"]
Listener = Callable[[str, CircuitState], None]


@dataclass(frozen=True, slots=True)
class CircuitPolicy:
    failures: int = 5
    error_rate: float = 0.5
    window: int = 20
    cooldown: float = 30.0


class CircuitBreaker:
    def __init__(
        self,
        name: str,
        policy: CircuitPolicy,
        notify: Listener,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name = name
        self._policy = policy
        self._notify = notify
        self._clock = clock
        self._state: CircuitState = "closed"
        self._consecutive = 0
        self._recent: deque[bool] = deque(maxlen=policy.window)
        self._opened_at = 0.0
        self._probe_at: float | None = None

    @property
    def state(self) -> CircuitState:
        return self._state

    @property
    def opened_at(self) -> float:
        """When the circuit last opened (by its clock); meaningful unless closed."""
        return self._opened_at

    def probe_due(self) -> bool:
        """Open or half-open, and a probe may go now."""
        return self._state != "closed" and self.available()

    def available(self) -> bool:
        """Whether a call could go through now (does not take the probe)."""
        if self._state == "closed":
            return True
        now = self._clock()
        if self._state == "open":
            return now - self._opened_at >= self._policy.cooldown
        return self._probe_at is None or now - self._probe_at >= self._policy.cooldown

    def allow(self) -> bool:
        """Take permission for one call; in half_open, only the probe gets it."""
        if self._state == "closed":
            return True
        if not self.available():
            return False
        if self._state == "open":
            self._set("half_open")
        self._probe_at = self._clock()
        return True

    def record(self, ok: bool) -> None:
        self._recent.append(ok)
        if ok:
            self._consecutive = 0
            if self._state != "closed":
                self._recent.clear()
                self._probe_at = None
                self._set("closed")
            return
        self._consecutive += 1
        if self._state != "closed":  # a failed probe, or a failed call in panic
            self._open()
            return
        failed = self._recent.count(False)
        window_full = len(self._recent) == self._policy.window
        if self._consecutive >= self._policy.failures or (
            window_full and failed / len(self._recent) >= self._policy.error_rate
        ):
            self._open()

    def release(self) -> None:
        """The call that took permission ended without an outcome (cancelled, or
        429: the deployment is at capacity, which says nothing of its health)."""
        if self._state == "half_open":
            self._probe_at = None

    def _open(self) -> None:
        self._opened_at = self._clock()
        self._probe_at = None
        self._set("open")

    def _set(self, state: CircuitState) -> None:
        if state != self._state:
            self._state = state
            self._notify(self.name, state)
