"""The counter store: one atomic admission and one atomic settlement per call.

`MemoryStore` keeps the counters in this process (each operation runs without
an await, so it is atomic on the event loop); `RedisStore` runs the same
operations as Lua scripts, so every instance sharing the Redis shares them.

Admission checks, in this order, and changes nothing unless all pass:
requests this minute + 1 <= rpm, tokens this minute + prompt bound <= tpm,
spent + reserved + worst case <= budget (nano-dollars). Then it counts the
request and the tokens and records the reservation (with a deadline, so a
reservation whose process died is dropped by a later admission).
Settlement drops the reservation (if still there), adds the actual cost and
corrects the minute's tokens; it reports a budget threshold newly crossed.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from typing import Literal, Protocol

from model_router.governance.budgets import crossed

Outcome = Literal["ok", "rpm", "tpm", "budget"]


@dataclass(frozen=True, slots=True)
class AdmitRequest:
    key_id: str
    window: int
    rpm_limit: int  # 0: none
    tpm_limit: int  # 0: none
    tokens: int
    budget_nano: int  # -1: no budget
    period: str
    period_ttl: int  # seconds, 0: forever
    reserve_nano: int
    reservation: str
    now: float
    deadline: float


@dataclass(frozen=True, slots=True)
class AdmitResult:
    outcome: Outcome
    requests: int
    tokens: int
    spent_nano: int
    reserved_nano: int
    crossed: int  # a threshold notified by this call (100: refused, the spend leaves no room)


@dataclass(frozen=True, slots=True)
class SettleRequest:
    key_id: str
    window: int
    tokens_delta: int
    budget_nano: int
    period: str
    period_ttl: int
    reservation: str
    actual_nano: int
    actual_pico: int


@dataclass(frozen=True, slots=True)
class SettleResult:
    spent_pico: int
    spent_nano: int
    crossed: int


class Store(Protocol):
    async def admit(self, request: AdmitRequest) -> AdmitResult: ...

    async def settle(self, request: SettleRequest) -> SettleResult: ...

    async def spend(self, key_id: str, period: str) -> tuple[int, int]:
        """(spent in pico-dollars, reserved in nano-dollars)."""
        ...

    async def seed(self, key_id: str, period: str, period_ttl: int, spent_pico: int) -> None:
        """Raise a period's spend to at least `spent_pico` (from the request log)."""
        ...

    async def ping(self) -> None: ...

    async def aclose(self) -> None: ...


@dataclass(slots=True)
class _Budget:
    spent_pico: int = 0
    spent_nano: int = 0
    reserved_nano: int = 0
    notified: int = 0
    reservations: dict[str, tuple[int, float]] = field(default_factory=dict)
    deadlines: list[tuple[float, str]] = field(default_factory=list)  # a heap

    def drop_expired(self, now: float) -> None:
        while self.deadlines and self.deadlines[0][0] <= now:
            _, name = heapq.heappop(self.deadlines)
            held = self.reservations.get(name)
            if held is not None and held[1] <= now:
                del self.reservations[name]
                self.reserved_nano -= held[0]


@dataclass(slots=True)
class _Window:
    window: int
    requests: int = 0
    tokens: int = 0


class MemoryStore:
    """Counters in this process: one limit per process (use Redis for many)."""

    def __init__(self) -> None:
        self._budgets: dict[tuple[str, str], _Budget] = {}
        self._windows: dict[str, _Window] = {}

    def _window(self, key_id: str, window: int) -> _Window:
        current = self._windows.get(key_id)
        if current is None or current.window != window:
            current = self._windows[key_id] = _Window(window)
        return current

    def _budget(self, key_id: str, period: str) -> _Budget:
        found = self._budgets.get((key_id, period))
        if found is None:
            # One period per key is live; older ones are dropped.
            for old in [k for k in self._budgets if k[0] == key_id]:
                del self._budgets[old]
            found = self._budgets[(key_id, period)] = _Budget()
        return found

    async def admit(self, request: AdmitRequest) -> AdmitResult:
        window = self._window(request.key_id, request.window)
        budget = self._budget(request.key_id, request.period) if request.budget_nano >= 0 else None
        if budget is not None:
            budget.drop_expired(request.now)
        spent = budget.spent_nano if budget else 0
        reserved = budget.reserved_nano if budget else 0

        def result(outcome: Outcome, note: int = 0) -> AdmitResult:
            return AdmitResult(outcome, window.requests, window.tokens, spent, reserved, note)

        if request.rpm_limit and window.requests + 1 > request.rpm_limit:
            return result("rpm")
        if request.tpm_limit and window.tokens + request.tokens > request.tpm_limit:
            return result("tpm")
        if budget is not None and spent + reserved + request.reserve_nano > request.budget_nano:
            # 100 % is notified when the spend itself leaves no room, not the calls in flight.
            exhausted = spent + request.reserve_nano > request.budget_nano
            note = 100 if exhausted and budget.notified < 100 else 0
            budget.notified = max(budget.notified, note)
            return result("budget", note)
        window.requests += 1
        window.tokens += request.tokens
        if budget is not None and request.reserve_nano > 0:
            budget.reservations[request.reservation] = (request.reserve_nano, request.deadline)
            heapq.heappush(budget.deadlines, (request.deadline, request.reservation))
            budget.reserved_nano += request.reserve_nano
            reserved = budget.reserved_nano
        return result("ok")

    async def settle(self, request: SettleRequest) -> SettleResult:
        window = self._windows.get(request.key_id)
        if window is not None and window.window == request.window:
            window.tokens = max(0, window.tokens + request.tokens_delta)
        if request.budget_nano < 0:
            return SettleResult(0, 0, 0)
        budget = self._budget(request.key_id, request.period)
        held = budget.reservations.pop(request.reservation, None)
        if held is not None:
            budget.reserved_nano -= held[0]
        if len(budget.deadlines) > 2 * len(budget.reservations) + 1000:
            # Settled reservations leave their deadline behind: rebuild now and then.
            budget.deadlines = [(d, name) for name, (_, d) in budget.reservations.items()]
            heapq.heapify(budget.deadlines)
        budget.spent_nano += request.actual_nano
        budget.spent_pico += request.actual_pico
        note = crossed(budget.spent_nano, request.budget_nano, budget.notified)
        budget.notified = max(budget.notified, note)
        return SettleResult(budget.spent_pico, budget.spent_nano, note)

    async def spend(self, key_id: str, period: str) -> tuple[int, int]:
        found = self._budgets.get((key_id, period))
        return (found.spent_pico, found.reserved_nano) if found else (0, 0)

    async def seed(self, key_id: str, period: str, period_ttl: int, spent_pico: int) -> None:
        budget = self._budget(key_id, period)
        if spent_pico > budget.spent_pico:
            budget.spent_nano += -(-(spent_pico - budget.spent_pico) // 1000)
            budget.spent_pico = spent_pico

    async def ping(self) -> None:
        return None

    async def aclose(self) -> None:
        return None
