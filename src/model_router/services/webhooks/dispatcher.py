"""Events out: `emit()` on the request path only appends to memory; a writer
task stores one delivery row per matching subscription; a sender task posts
the due ones, signed, and retries failures with exponential backoff.

A delivery is a database row from the moment its event is written (within a
poll interval, and on shutdown before the process exits), so a restart loses
none: the next process sends whatever is still pending. Several processes can
share the table: a delivery is claimed with a conditional UPDATE before it is
sent, so only one of them sends it (at least once; receivers dedupe on the
event id). A slow receiver only holds a sender slot, never a request.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from model_router.db.models import WebhookDelivery, WebhookSubscription
from model_router.jsonutil import dumps
from model_router.providers.transport import HttpClient, TransportError
from model_router.services.webhooks import signing
from model_router.settings import Settings

log = logging.getLogger(__name__)

EVENT_TYPES = (
    "budget.threshold",
    "request.error",
    "deployment.circuit_opened",
    "deployment.circuit_closed",
    "key.created",
    "key.revoked",
)
MAX_CONCURRENT_SENDS = 16
BATCH = 100


@dataclass(frozen=True, slots=True)
class Subscription:
    id: uuid.UUID
    events: frozenset[str]
    owner: str | None

    def wants(self, event_type: str, owner: str | None) -> bool:
        if self.owner is not None and self.owner != owner:
            return False
        return "*" in self.events or event_type in self.events


@dataclass(frozen=True, slots=True)
class Policy:
    max_attempts: int = 8
    base_delay: float = 2.0
    max_delay: float = 600.0
    timeout: float = 10.0
    poll: float = 1.0
    refresh: float = 5.0

    def delay(self, attempts: int) -> float:
        """Seconds before attempt `attempts + 1`: base, 2x base, 4x base, ... capped."""
        return float(min(self.max_delay, self.base_delay * 2 ** (attempts - 1)))


def webhook_policy(settings: Settings) -> Policy:
    return Policy(
        max_attempts=settings.webhook_max_attempts,
        base_delay=settings.webhook_retry_base_seconds,
        max_delay=settings.webhook_retry_max_seconds,
        timeout=settings.webhook_timeout_seconds,
        poll=settings.webhook_poll_seconds,
        refresh=settings.key_cache_refresh_seconds,
    )


class Dispatcher:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], policy: Policy) -> None:
        self._sessions = sessions
        self.policy = policy
        self._subscriptions: list[Subscription] = []
        self._queue: deque[tuple[dict[str, Any], str | None]] = deque()
        self._wake_writer = asyncio.Event()
        self._wake_sender = asyncio.Event()
        self._slots = asyncio.Semaphore(MAX_CONCURRENT_SENDS)
        self._sending: set[asyncio.Task[None]] = set()
        self._tasks: list[asyncio.Task[None]] = []
        self._http: HttpClient | None = None
        self._closing = False

    # --- the request path ------------------------------------------------------------

    def emit(self, event_type: str, data: dict[str, Any], owner: str | None = None) -> None:
        """Queue an event for every subscription that wants it; no I/O here."""
        if not any(s.wants(event_type, owner) for s in self._subscriptions):
            return
        event = {
            "id": str(uuid.uuid4()),
            "type": event_type,
            "created_at": datetime.now(UTC).isoformat(),
            "data": data,
        }
        self._queue.append((event, owner))
        self._wake_writer.set()

    def circuit_changed(self, deployment: str, state: str) -> None:
        """A listener for the router's circuit breakers."""
        if state in ("open", "closed"):
            kind = "opened" if state == "open" else "closed"
            self.emit(f"deployment.circuit_{kind}", {"deployment": deployment, "state": state})

    # --- life cycle --------------------------------------------------------------------

    async def start(self) -> None:
        await self.load()
        self._http = HttpClient(
            connect_timeout=self.policy.timeout,
            read_timeout=self.policy.timeout,
            max_connections=MAX_CONCURRENT_SENDS,
        )
        loop = asyncio.get_running_loop()
        self._tasks = [
            loop.create_task(
                self._loop(self._wake_writer, self.write_pending), name="webhook-writer"
            ),
            loop.create_task(self._loop(self._wake_sender, self.send_due), name="webhook-sender"),
            loop.create_task(self._refresh_forever(), name="webhook-subscriptions"),
        ]

    async def stop(self) -> None:
        """Store every queued event, let sends in flight end, then stop."""
        self._closing = True
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        try:
            await self.write_pending()
        except Exception as exc:
            log.error("webhooks: %d events not stored at shutdown (%s)", len(self._queue), exc)
        if self._sending:
            await asyncio.wait(list(self._sending), timeout=self.policy.timeout)
        for task in list(self._sending):
            task.cancel()
        if self._http is not None:
            await self._http.aclose()

    async def load(self) -> None:
        query = select(WebhookSubscription).where(WebhookSubscription.is_active)
        async with self._sessions() as session:
            rows = list(await session.scalars(query))
        self._subscriptions = [
            Subscription(row.id, frozenset(row.events or ()), row.owner) for row in rows
        ]

    async def _refresh_forever(self) -> None:
        while True:
            await asyncio.sleep(self.policy.refresh)
            with contextlib.suppress(Exception):
                await self.load()

    async def _loop(self, wake: asyncio.Event, work: Any) -> None:
        backoff = self.policy.poll
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), timeout=backoff)
            wake.clear()
            try:
                await work()
                backoff = self.policy.poll
            except Exception as exc:  # the database may blip; try again later
                backoff = min(30.0, max(1.0, backoff * 2))
                log.warning("webhooks: %s failed (%s)", work.__name__, exc)

    # --- storing ------------------------------------------------------------------------

    async def write_pending(self) -> None:
        """One delivery row per (queued event, subscription that wants it)."""
        if not self._queue:
            return
        taken = list(self._queue)
        rows: list[dict[str, Any]] = []
        now = datetime.now(UTC)
        for event, owner in taken:
            body = dumps(event).decode()
            for sub in self._subscriptions:
                if sub.wants(event["type"], owner):
                    rows.append(
                        {
                            "id": uuid.uuid4(),
                            "subscription_id": sub.id,
                            "event_id": uuid.UUID(event["id"]),
                            "event_type": event["type"],
                            "body": body,
                            "status": "pending",
                            "attempts": 0,
                            "next_attempt_at": now,
                            "created_at": now,
                        }
                    )
        if rows:
            async with self._sessions.begin() as session:
                await session.execute(insert(WebhookDelivery), rows)
        for _ in taken:
            self._queue.popleft()
        self._wake_sender.set()

    # --- sending -------------------------------------------------------------------------

    async def send_due(self) -> None:
        now = datetime.now(UTC)
        query = (
            select(WebhookDelivery, WebhookSubscription.url, WebhookSubscription.secret)
            .join(WebhookSubscription, WebhookSubscription.id == WebhookDelivery.subscription_id)
            .where(WebhookDelivery.status == "pending", WebhookDelivery.next_attempt_at <= now)
            .order_by(WebhookDelivery.next_attempt_at)
            .limit(BATCH)
        )
        async with self._sessions() as session:
            due = (await session.execute(query)).all()
        for delivery, url, secret in due:
            if self._closing or not await self._claim(delivery, now):
                continue
            await self._slots.acquire()
            task = asyncio.get_running_loop().create_task(self._send(delivery, url, secret))
            self._sending.add(task)
            task.add_done_callback(self._sent)

    def _sent(self, task: asyncio.Task[None]) -> None:
        self._sending.discard(task)
        self._slots.release()
        if not task.cancelled() and task.exception() is not None:
            log.error("webhooks: delivery failed unexpectedly: %s", task.exception())

    async def _claim(self, delivery: WebhookDelivery, now: datetime) -> bool:
        lease = now + timedelta(seconds=self.policy.timeout + 30)
        statement = (
            update(WebhookDelivery)
            .where(
                WebhookDelivery.id == delivery.id,
                WebhookDelivery.status == "pending",
                WebhookDelivery.next_attempt_at == delivery.next_attempt_at,
            )
            .values(next_attempt_at=lease)
            .execution_options(synchronize_session=False)
        )
        async with self._sessions.begin() as session:
            result = await session.execute(statement)
        return bool(getattr(result, "rowcount", 0) == 1)

    async def _send(self, delivery: WebhookDelivery, url: str, secret: str) -> None:
        assert self._http is not None
        body = delivery.body.encode()
        headers = signing.headers(
            secret,
            int(time.time()),
            body,
            delivery.event_type,
            str(delivery.event_id),
            str(delivery.id),
        )
        started = time.perf_counter()
        status: int | None = None
        error: str | None = None
        try:
            async with asyncio.timeout(self.policy.timeout):  # redirects are not followed
                response = await self._http.request("POST", url, body, headers)
                status = response.status
                response.close()  # the body is not read: kept alive only if already whole
            if not 200 <= status < 300:
                error = f"HTTP {status}"
        except (TransportError, TimeoutError, OSError) as exc:
            error = f"{type(exc).__name__}: {exc}"[:500]
        await self._record(delivery, status, error, round((time.perf_counter() - started) * 1000))

    async def _record(
        self, delivery: WebhookDelivery, status: int | None, error: str | None, ms: int
    ) -> None:
        now = datetime.now(UTC)
        attempts = delivery.attempts + 1
        entry = {
            "attempt": attempts,
            "at": now.isoformat(),
            "status_code": status,
            "error": error,
            "duration_ms": ms,
        }
        values: dict[str, Any] = {
            "attempts": attempts,
            "last_status_code": status,
            "last_error": error,
            "attempt_log": [*(delivery.attempt_log or []), entry],
        }
        if error is None:
            values.update(status="delivered", delivered_at=now)
        elif attempts >= self.policy.max_attempts:
            values.update(status="failed")
        else:
            values["next_attempt_at"] = now + timedelta(seconds=self.policy.delay(attempts))
        statement = (
            update(WebhookDelivery)
            .where(WebhookDelivery.id == delivery.id)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        async with self._sessions.begin() as session:
            await session.execute(statement)
        if error is not None and values.get("next_attempt_at") is not None:
            self._schedule_wake(self.policy.delay(attempts))

    def _schedule_wake(self, seconds: float) -> None:
        """Look again when the retry is due, if that is before the next poll."""
        if seconds < self.policy.poll and not self._closing:
            asyncio.get_running_loop().call_later(seconds, self._wake_sender.set)

    def wake(self) -> None:
        """A delivery was made due outside the writer (a redelivery)."""
        self._wake_sender.set()


async def emit_stored(
    sessions: async_sessionmaker[AsyncSession],
    event_type: str,
    data: dict[str, Any],
    owner: str | None = None,
) -> None:
    """Store an event's deliveries from a process that sends none (the CLI);
    the running routers deliver them."""
    dispatcher = Dispatcher(sessions, Policy())
    await dispatcher.load()
    dispatcher.emit(event_type, data, owner)
    await dispatcher.write_pending()
