"""Deployments: where a public model name can be served, and which to try first.

A deployment is one (provider account, upstream model) pair with a weight and
optional RPM/TPM caps. Traffic is spread by weight, scaled down for
deployments that fail (by their recent error rate) or are slow (by their
median latency against the fastest sibling's); a deployment whose circuit is
due a probe goes first (one call tells whether it recovered), deployments
whose circuit is open or that are at a cap get none, and ones cooling down
after a retry-after go last (they are still tried: a retry-after never makes
the router refuse a call it could make).

When no deployment of a request's models is usable only because circuits
are open, `panic_order` gives the ones to call anyway, open longest first.
"""

from __future__ import annotations

import random
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from model_router.costs.models import ModelInfo
from model_router.providers.base import ProviderConfig
from model_router.routing.circuit import CircuitBreaker
from model_router.routing.health import DeploymentStats

MINUTE = 60.0
# A deployment failing every call keeps this share of its weight, so that it
# is tried now and then besides its circuit's probe.
MIN_WEIGHT_SHARE = 0.05


class UsageWindow:
    """Requests and tokens in the last minute, for RPM/TPM caps.

    Counted in one-second buckets (at most 61 of them, whatever the traffic: a
    list of every request's time held 150,000 entries, some 20 MB, per
    deployment at 2,500 requests/s). A bucket counts until the whole of it is
    more than a minute old, so a cap may close up to a second early, never
    late."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._buckets: deque[list[int]] = deque()  # [second, requests, tokens], oldest first
        self._requests = 0
        self._tokens = 0

    def _bucket(self) -> list[int]:
        now = int(self._clock())
        self._trim(now)
        if self._buckets and self._buckets[-1][0] == now:
            return self._buckets[-1]
        bucket = [now, 0, 0]
        self._buckets.append(bucket)
        return bucket

    def _trim(self, now: int) -> None:
        cutoff = now - int(MINUTE)
        while self._buckets and self._buckets[0][0] < cutoff:
            _, requests, tokens = self._buckets.popleft()
            self._requests -= requests
            self._tokens -= tokens

    def add_request(self) -> None:
        self._bucket()[1] += 1
        self._requests += 1

    def add_tokens(self, tokens: int) -> None:
        if tokens > 0:
            self._bucket()[2] += tokens
            self._tokens += tokens

    def requests(self) -> int:
        self._trim(int(self._clock()))
        return self._requests

    def tokens(self) -> int:
        self._trim(int(self._clock()))
        return self._tokens


@dataclass(slots=True)
class DeploymentState:
    """What outlives a catalogue reload: health, circuit, usage."""

    circuit: CircuitBreaker
    stats: DeploymentStats
    usage: UsageWindow
    cooling_until: float = 0.0


@dataclass(slots=True)
class Deployment:
    name: str
    route: str  # the public model name it serves
    model: ModelInfo  # named as the route, priced as its catalogue model
    config: ProviderConfig
    state: DeploymentState
    weight: float = 1.0
    rpm: int | None = None
    tpm: int | None = None
    clock: Callable[[], float] = field(default=time.monotonic)

    @property
    def provider(self) -> str:
        return self.model.provider

    def at_cap(self) -> bool:
        if self.rpm is not None and self.state.usage.requests() >= self.rpm:
            return True
        return self.tpm is not None and self.state.usage.tokens() >= self.tpm

    def cooling(self) -> bool:
        return self.state.cooling_until > self.clock()

    def usable(self) -> bool:
        return self.state.circuit.available() and not self.at_cap()


def effective_weight(deployment: Deployment, siblings: Sequence[Deployment]) -> float:
    stats = deployment.state.stats
    weight = deployment.weight
    if (rate := stats.error_rate) is not None:
        weight *= max(MIN_WEIGHT_SHARE, (1 - rate) ** 2)
    fastest = [s.state.stats.p50 for s in siblings if s.state.stats.known_speed]
    own = stats.p50
    if stats.known_speed and own and fastest:
        best = min(p for p in fastest if p is not None)
        weight *= max(MIN_WEIGHT_SHARE, min(1.0, max(best, 1) / own))
    return weight


def order(deployments: Sequence[Deployment], rng: random.Random) -> list[Deployment]:
    """The order to try deployments in: those due a circuit probe, then weighted
    random without replacement over the other usable ones, cooling ones after
    them; open or capped ones not at all."""
    if len(deployments) == 1:  # the common case: one deployment, in whichever group
        return [deployments[0]] if deployments[0].usable() else []
    usable = [d for d in deployments if d.usable()]
    probes = sorted(
        (d for d in usable if d.state.circuit.probe_due() and not d.cooling()),
        key=lambda d: d.state.circuit.opened_at,
    )
    ready = [d for d in usable if not d.cooling() and d not in probes]
    cooling = sorted((d for d in usable if d.cooling()), key=lambda d: d.state.cooling_until)
    if len(ready) <= 1:  # the common case: nothing to weigh
        return probes + ready + cooling
    weights = [effective_weight(d, ready) for d in ready]
    picked: list[Deployment] = []
    while ready:
        total = sum(weights)
        point = rng.random() * total
        index = len(ready) - 1
        for i, w in enumerate(weights):
            point -= w
            if point < 0:
                index = i
                break
        picked.append(ready.pop(index))
        weights.pop(index)
    return probes + picked + cooling


def panic_order(deployments: Sequence[Deployment]) -> list[Deployment]:
    """Panic routing: the deployments to call although their circuit is open (or
    half-open with its probe out), open longest first; each once, no duplicates.
    Capped deployments stay out: a cap is the operator's limit, not a failure."""
    seen: dict[str, Deployment] = {}
    for d in deployments:
        if not d.state.circuit.available() and not d.at_cap():
            seen.setdefault(d.name, d)
    return sorted(seen.values(), key=lambda d: d.state.circuit.opened_at)
