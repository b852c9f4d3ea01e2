"""The governor: admission before the upstream call, settlement after it.

`admit(call, candidates)` runs once the model (and any fallbacks) is known and
before the first upstream call: allowed models (403), then one atomic store
operation for RPM, TPM and the budget reservation (429s). `finish(call, row)`
runs in `CompletionService._record`, which every finished call passes exactly once:
it tags the row, drops its text when the key or the router says so, and
settles the reservation with the row's actual cost and tokens (a failed or
abandoned call costs what its row says, usually nothing).

Redis unreachable: the governor logs it once, and until a background probe
sees Redis answer again (every `redis_retry_seconds`), either admits calls
without limits (`redis_failure_mode=open`, the default) or refuses them with
503 (`closed`). On recovery it logs, and raises each budget's spend to what
the request log holds, so spend made meanwhile is counted.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from functools import partial
from typing import Any, TypeVar

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from model_router.calls import Call
from model_router.db.models import Request
from model_router.db.records import RequestRecord
from model_router.domain.keys import KeyInfo
from model_router.errors import BudgetExceeded, GovernanceUnavailable, RateLimited
from model_router.governance import limits
from model_router.governance.budgets import (
    from_pico,
    pico_to_nano,
    to_nano_ceil,
    to_nano_floor,
    to_pico,
)
from model_router.governance.policy import (
    Period,
    output_tokens_bound,
    period_of,
    prompt_tokens_bound,
    restrict_routes,
    worst_case_usd,
)
from model_router.governance.store import (
    AdmitRequest,
    AdmitResult,
    MemoryStore,
    SettleRequest,
    Store,
)
from model_router.governance.tags import apply_tags, scrub_text
from model_router.routing.route import Route
from model_router.settings import Settings

log = logging.getLogger(__name__)
T = TypeVar("T")
Emit = Callable[[str, dict[str, Any], str | None], None]


def _no_emit(_type: str, _data: dict[str, Any], _owner: str | None) -> None:
    return None


@dataclass(frozen=True, slots=True)
class Admission:
    key: KeyInfo
    window: int
    tokens: int
    budget_nano: int
    period: Period | None
    period_ttl: int
    reservation: str
    opened: float = 0.0


class Governor:
    def __init__(
        self,
        store: Store,
        *,
        failure_mode: str = "open",
        retry_seconds: float = 2.0,
        reservation_ttl: float = 3600.0,
        store_text: bool = True,
        shared: bool = False,
    ) -> None:
        self._store = store
        self._failure_mode = failure_mode
        self._retry_seconds = retry_seconds
        self._reservation_ttl = reservation_ttl
        self._store_text = store_text
        self.shared = shared
        self.healthy = True
        self.emit: Emit = _no_emit
        self._open: dict[uuid.UUID, Admission] = {}
        self._purge_at = 10_000
        self._tasks: set[asyncio.Task[Any]] = set()
        self._probe: asyncio.Task[None] | None = None
        self._reseed: Callable[[], Awaitable[None]] | None = None

    # --- admission -------------------------------------------------------------

    async def admit(self, call: Call, routes: list[Route]) -> Admission | None:
        """Check the call against its key, before any upstream call.

        `routes` (the plan's, in order) lose the models the key may not use.
        """
        key = call.key
        requested = call.body.get("model")
        if restrict_routes(key.allowed_models, routes, str(requested)):
            call.model = routes[0].info
        if not (key.rpm_limit or key.tpm_limit or key.budget_usd is not None):
            return None
        candidates = [d.model for r in routes for d in r.deployments]
        now = time.time()
        counted = bool(key.tpm_limit) or key.budget_usd is not None
        tokens = prompt_tokens_bound(call.body) if counted else 0
        period, budget_nano, reserve_nano = None, -1, 0
        if key.budget_usd is not None:
            period = period_of(key.budget_period, call.created_at, key.created_at)
            output = output_tokens_bound(call.body, candidates)
            worst = worst_case_usd(candidates, tokens, output, call.created_at)
            budget_nano, reserve_nano = to_nano_floor(key.budget_usd), to_nano_ceil(worst)
        admission = Admission(
            key=key,
            window=limits.window_of(now),
            tokens=tokens if key.tpm_limit else 0,
            budget_nano=budget_nano,
            period=period,
            period_ttl=period.ttl(call.created_at) if period else 0,
            reservation=str(call.id),
            opened=now,
        )
        request = AdmitRequest(
            key_id=str(key.id),
            window=admission.window,
            rpm_limit=key.rpm_limit or 0,
            tpm_limit=key.tpm_limit or 0,
            tokens=admission.tokens,
            budget_nano=budget_nano,
            period=period.id if period else "",
            period_ttl=admission.period_ttl,
            reserve_nano=reserve_nano,
            reservation=admission.reservation,
            now=now,
            deadline=now + self._reservation_ttl,
        )
        result = await self._guarded(lambda: self._store.admit(request))
        if result is None:
            return None  # failing open
        usage = limits.Usage(key.rpm_limit, key.tpm_limit, result.requests, result.tokens)
        call.response_headers.update(usage.headers(now))
        if result.crossed:
            self._threshold(admission, result.crossed, result.spent_nano * 1000, refused=True)
        self._refuse(admission, result, now, reserve_nano)
        self._open[call.id] = admission
        if len(self._open) > self._purge_at:
            self._forget_stale(now)
        return admission

    def _forget_stale(self, now: float) -> None:
        """Calls that never finished (a stream never started): their reservation
        expires in the store; here they are forgotten after the same time."""
        limit = now - self._reservation_ttl
        for call_id in [i for i, a in self._open.items() if a.opened < limit]:
            del self._open[call_id]
        self._purge_at = max(10_000, 2 * len(self._open))

    def _refuse(self, admission: Admission, result: AdmitResult, now: float, worst: int) -> None:
        key = admission.key
        wait = str(limits.seconds_to_next_window(now))
        if result.outcome == "rpm":
            raise RateLimited(
                f"Rate limit reached: {key.rpm_limit} requests per minute for this key. "
                f"Try again in {wait} s.",
                code="rate_limit_exceeded",
                headers={"retry-after": wait},
            )
        if result.outcome == "tpm":
            alone = admission.tokens > (key.tpm_limit or 0)
            raise RateLimited(
                f"Rate limit reached: {key.tpm_limit} tokens per minute for this key"
                + (
                    f"; this request alone may use {admission.tokens}."
                    if alone
                    else f". Try again in {wait} s."
                ),
                code="tokens_limit_exceeded",
                headers={"retry-after": wait},
            )
        if result.outcome == "budget":
            period = admission.period
            assert period is not None and key.budget_usd is not None
            spent = Decimal(result.spent_nano).scaleb(-9).normalize()
            need = Decimal(worst).scaleb(-9).normalize()
            resets = period.resets_at.isoformat() if period.resets_at else None
            headers = {"x-budget-reset": resets} if resets else {}
            if period.resets_at is not None:
                seconds = max(1, int((period.resets_at - datetime.now(UTC)).total_seconds()))
                headers["retry-after"] = str(seconds)
            raise BudgetExceeded(
                f"Budget exceeded: this key's {key.budget_period} budget is "
                f"${key.budget_usd:f}; ${spent:f} is spent or reserved by calls in flight, and "
                f"this call may cost up to ${need:f}. "
                + (f"The budget resets at {resets}." if resets else "The budget does not reset."),
                code="budget_exceeded",
                headers=headers,
            )

    # --- settlement --------------------------------------------------------------

    def finish(self, call: Call, row: RequestRecord) -> None:
        """Every finished call, once: tags, privacy, the request.error event, settle."""
        apply_tags(row, call.body, call.headers)
        if not (self._store_text and call.key.store_text):
            scrub_text(row)
        if _upstream_failure(row):
            self.emit("request.error", _error_event(call.key, row), call.key.owner)
        admission = self._open.pop(call.id, None)
        if admission is None:
            return
        actual = row.total_cost_usd
        pico = to_pico(actual) if isinstance(actual, Decimal) and actual > 0 else 0
        total = int(row.total_tokens or 0)
        request = SettleRequest(
            key_id=str(admission.key.id),
            window=admission.window,
            tokens_delta=total - admission.tokens if admission.key.tpm_limit else 0,
            budget_nano=admission.budget_nano,
            period=admission.period.id if admission.period else "",
            period_ttl=admission.period_ttl,
            reservation=admission.reservation,
            actual_nano=pico_to_nano(pico),
            actual_pico=pico,
        )
        task = asyncio.get_running_loop().create_task(self._settle(admission, request))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _settle(self, admission: Admission, request: SettleRequest) -> None:
        result = await self._guarded(lambda: self._store.settle(request), quiet=True)
        if result is None:
            log.warning(
                "governance: spend of key %s not counted (store unreachable); "
                "it is restored from the request log on recovery",
                admission.key.id,
            )
        elif result.crossed:
            self._threshold(admission, result.crossed, result.spent_pico, refused=False)

    def _threshold(
        self, admission: Admission, percent: int, spent_pico: int, refused: bool
    ) -> None:
        key, period = admission.key, admission.period
        self.emit(
            "budget.threshold",
            {
                "key_id": str(key.id),
                "key_name": key.name,
                "owner": key.owner,
                "threshold_percent": percent,
                "budget_usd": str(key.budget_usd),
                "spent_usd": str(from_pico(spent_pico)),
                "budget_period": key.budget_period,
                "period_resets_at": period.resets_at.isoformat()
                if period and period.resets_at
                else None,
                "refused": refused,
            },
            key.owner,
        )

    # --- reads and seeding -----------------------------------------------------------

    async def spend(
        self, sessions: async_sessionmaker[AsyncSession], keys: list[KeyInfo]
    ) -> dict[uuid.UUID, dict[str, Any]]:
        """Each key's current period: spend (decimal string), its start and reset.

        A key with a budget reports its live counter; one without (whose calls
        are not counted live) what the request log holds for this month.
        """
        now = datetime.now(UTC)
        unbudgeted = [k.id for k in keys if k.budget_usd is None]
        logged = await _logged_spend(sessions, now, unbudgeted) if unbudgeted else {}
        out = {}
        for key in keys:
            out[key.id] = await self._spend_of(key)
            if key.budget_usd is None:
                amount = logged.get(key.id, {}).get("month", Decimal(0))
                out[key.id]["spend_usd"] = format(amount.normalize(), "f") if amount else "0"
        return out

    async def _spend_of(self, key: KeyInfo) -> dict[str, Any]:
        period = period_of(key.budget_period, datetime.now(UTC), key.created_at)
        spent: str | None = "0"
        reserved: str | None = "0"
        if key.budget_usd is not None:
            found = await self._guarded(
                lambda: self._store.spend(str(key.id), period.id), quiet=True
            )
            spent = None if found is None else format(from_pico(found[0]), "f")
            reserved = None if found is None else format(from_pico(found[1] * 1000), "f")
        return {
            "spend_usd": spent,
            "reserved_usd": reserved,
            "period_start": period.start.isoformat() if period.start else None,
            "period_resets_at": period.resets_at.isoformat() if period.resets_at else None,
        }

    async def seed(self, sessions: async_sessionmaker[AsyncSession], keys: list[KeyInfo]) -> None:
        """Raise each budget's spend to what the request log holds for its period."""
        budgeted = [k for k in keys if k.budget_usd is not None]
        if not budgeted:
            return
        now = datetime.now(UTC)
        periods = {k.id: period_of(k.budget_period, now, k.created_at) for k in budgeted}
        sums = await _logged_spend(sessions, now, [k.id for k in budgeted])
        for key in budgeted:
            period = periods[key.id]
            pico = to_pico(sums.get(key.id, {}).get(key.budget_period or "month", Decimal(0)))
            if pico:
                seed = partial(self._store.seed, str(key.id), period.id, period.ttl(now), pico)
                await self._guarded(seed, quiet=True)

    async def start(
        self, sessions: async_sessionmaker[AsyncSession], keys: Callable[[], list[KeyInfo]]
    ) -> None:
        """Seed budgets from the request log now, and again whenever Redis recovers."""

        async def reseed() -> None:
            await self.seed(sessions, keys())

        self._reseed = reseed
        await reseed()

    # --- failure handling --------------------------------------------------------------

    async def _guarded(
        self, operation: Callable[[], Awaitable[T]], *, quiet: bool = False
    ) -> T | None:
        """Run a store operation; None when the store is unreachable (and
        GovernanceUnavailable instead, failing closed, unless `quiet`)."""
        if self.healthy:
            try:
                return await operation()
            except (OSError, TimeoutError, ConnectionError) as exc:
                self._down(exc)
            except Exception as exc:  # redis.exceptions.RedisError and friends
                if not _is_redis_error(exc):
                    raise
                self._down(exc)
        if self._failure_mode == "closed" and not quiet:
            raise GovernanceUnavailable(
                "Rate limits and budgets cannot be checked right now (Redis unreachable); "
                "try again shortly.",
                code="governance_unavailable",
                headers={"retry-after": str(max(1, round(self._retry_seconds)))},
            )
        return None

    def _down(self, exc: BaseException) -> None:
        if self.healthy:
            self.healthy = False
            log.error(
                "governance: Redis unreachable (%s); failing %s until it answers again",
                exc,
                self._failure_mode,
            )
        if self._probe is None or self._probe.done():
            self._probe = asyncio.get_running_loop().create_task(self._wait_for_recovery())

    async def _wait_for_recovery(self) -> None:
        while not self.healthy:
            await asyncio.sleep(self._retry_seconds)
            try:
                await self._store.ping()
            except Exception as exc:
                log.debug("governance: still unreachable (%s)", exc)
                continue
            self.healthy = True
            log.warning("governance: Redis answers again; limits and budgets enforced")
            if self._reseed is not None:
                try:  # a failing store marks itself down again, and this loop goes on
                    await self._reseed()
                except Exception as exc:
                    log.error("governance: spend not restored from the request log (%s)", exc)

    async def stop(self) -> None:
        if self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
        if self._probe is not None:
            self._probe.cancel()
            await asyncio.gather(self._probe, return_exceptions=True)
        await self._store.aclose()


def _is_redis_error(exc: Exception) -> bool:
    return any(t.__module__.startswith("redis") for t in type(exc).__mro__)


def _upstream_failure(row: RequestRecord) -> bool:
    """An error the caller did not cause: the provider failed, or the router."""
    if row.status != "error":
        return False
    status = int(row.http_status or 0)
    return row.upstream_status is not None or status >= 500


def _error_event(key: KeyInfo, row: RequestRecord) -> dict[str, Any]:
    return {
        "request_id": str(row.id),
        "key_id": str(key.id),
        "key_name": key.name,
        "model": row.model,
        "provider": row.provider,
        "http_status": row.http_status,
        "upstream_status": row.upstream_status,
        "error_message": row.error_message,
    }


async def _logged_spend(
    sessions: async_sessionmaker[AsyncSession], now: datetime, user_ids: list[uuid.UUID]
) -> dict[uuid.UUID, dict[str, Decimal]]:
    day = period_of("day", now).start
    month = period_of("month", now).start
    cost = Request.total_cost_usd
    query = (
        select(
            Request.user_id,
            func.sum(case((Request.created_at >= day, cost), else_=None)),
            func.sum(case((Request.created_at >= month, cost), else_=None)),
            func.sum(cost),
        )
        .where(Request.user_id.in_(user_ids))
        .group_by(Request.user_id)
    )
    async with sessions() as session:
        rows = (await session.execute(query)).all()
    zero = Decimal(0)
    return {
        uid: {"day": d or zero, "month": m or zero, "total": t or zero}
        for uid, d, m, t in rows
        if uid is not None
    }


def build_governor(settings: Settings) -> Governor:
    """Counters in Redis when REDIS_URL is set (shared by instances), else here."""
    store: Store = MemoryStore()
    if settings.redis_url:
        # Imported only when used: the redis package costs start-up time.
        from model_router.governance.redis_store import RedisStore

        store = RedisStore(settings.redis_url, settings.redis_key_prefix)
    return Governor(
        store,
        failure_mode=settings.redis_failure_mode,
        retry_seconds=settings.redis_retry_seconds,
        reservation_ttl=settings.budget_reservation_ttl,
        store_text=settings.store_text,
        shared=settings.redis_url is not None,
    )
