"""complete and stream, for every front door: translate, route, govern, cache,
call, price, record, and render through the door.

Every call that passed authentication becomes exactly one request-log row,
whatever happens: invalid body, unknown model, upstream error, client gone.
The service knows no wire format: the `Door` translates the client's body into
the neutral `Request` (inside the error handling, so a 400 is recorded too) and
renders the answer, whole, streamed, or from the cache.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

from model_router.cache.entry import CachedAnswer, replay
from model_router.cache.service import FREE, ResponseCache
from model_router.calls import Call
from model_router.costs.models import Catalogue
from model_router.costs.pricing import Cost, cost
from model_router.db.records import RequestRecord
from model_router.domain.completion import (
    CONTENT_EVENTS,
    Accumulator,
    Completion,
    Flush,
    StreamEvent,
)
from model_router.domain.keys import KeyInfo
from model_router.domain.request import Request
from model_router.domain.usage import Usage
from model_router.errors import InvalidRequest, RouterError, UpstreamError
from model_router.frontdoors.base import Answered, Door
from model_router.governance.governor import Governor
from model_router.governance.store import MemoryStore
from model_router.providers.base import Provider
from model_router.providers.registry import ProviderPool
from model_router.routing import auto
from model_router.routing.config import RoutingConfig
from model_router.routing.deployments import Deployment
from model_router.routing.learned.plan import plan_pool
from model_router.routing.learned.runtime import LearnedRouting
from model_router.routing.learned.signals import Outcome
from model_router.routing.router import Plan, Router
from model_router.services.attempts import answered_by, attempting
from model_router.services.experiments import ExperimentSet
from model_router.services.request_log import RequestLog
from model_router.settings import Settings


class CompletionService:
    def __init__(
        self,
        catalogue: Catalogue,
        pool: ProviderPool,
        request_log: RequestLog,
        *,
        cache: ResponseCache | None = None,
        experiments: ExperimentSet | None = None,
        router: Router | None = None,
        governor: Governor | None = None,
        learned: LearnedRouting | None = None,
    ) -> None:
        self._catalogue = catalogue
        self._pool = pool
        self._log = request_log
        self.router = router or Router(catalogue, RoutingConfig(), Settings.model_construct())
        self._cache = cache or ResponseCache.disabled()
        self._experiments = experiments or ExperimentSet()
        self._governor = governor or Governor(MemoryStore())
        self._learned = learned

    def _prepare(self, call: Call, door: Door) -> Plan:
        """Translate the body and plan the route: the models to try, in order,
        before any upstream call. `call.model` is the first choice until an
        attempt answers."""
        self._experiments.apply(call)  # may set the model and parameters
        call.request = request = door.to_request(call.body, call.headers)
        try:
            call.plan = plan = self._plan(call, request)
        except InvalidRequest as exc:  # said in the error; the header says where
            call.response_headers["x-router-reason"] = f"no route: {exc.code}"
            raise
        call.model = plan.routes[0].info
        call.response_headers["x-router-reason"] = plan.reason
        return plan

    def _plan(self, call: Call, request: Request) -> Plan:
        """A pool's learned choice (docs/learned-routing.md), or the router's plan."""
        pool = self._learned.pool(request.model) if self._learned else None
        if pool is None or self._learned is None:
            return self.router.plan(request)
        limits = auto.parse_constraints(request.options.get("routing"))
        plan, call.decision = plan_pool(self.router, self._learned.learner, pool, request, limits)
        return plan

    def _provider(self, call: Call, deployment: Deployment) -> Provider:
        """The adapter for one attempt; `call.model` follows the deployment tried."""
        return self._pool.get(attempting(call, deployment))

    def _answered(self, call: Call, deployment: Deployment) -> None:
        """The routing reason, completed with who answered and after how many tries."""
        answered_by(call, deployment)

    def _savings(self, call: Call, usage: Usage) -> None:
        """For `auto` and pools: what the default model would have cost for the
        same usage."""
        if call.decision is not None:
            default = self.router.route_of(call.decision.default_model)
        elif call.plan is not None and call.plan.is_auto:
            default = self.router.default_route()
        else:
            return
        if default is not None:
            priced = cost(usage, default.info.price, call.created_at)
            call.default_cost_usd = priced.total_usd if priced else None

    def _record(self, call: Call, row: RequestRecord, completion: Completion | None = None) -> None:
        """The one place a finished call ends up: its request-log row."""
        self._governor.finish(call, row)  # tags, privacy, budget settlement: once per call
        self._log.add(row)
        if call.decision is not None and self._learned is not None and call.request is not None:
            outcome = Outcome(
                "success" if row.status == "success" else "error",
                row.finish_reason,
                completion.text if completion else None,
                row.total_cost_usd,
                call.model.name if call.model else None,
            )
            self._learned.learner.observe(
                call.id, call.decision, call.request, outcome, key_id=call.key.id
            )
        self._cache.remember(call, row, completion)

    def reject(self, key: KeyInfo, error: RouterError, door: Door) -> None:
        """Record a call whose body could not even be read."""
        self.refuse(Call(key=key, body={}, front_door=door.name), error)

    def refuse(self, call: Call, error: RouterError) -> None:
        """Record a call its route refused before asking the service (the
        Responses API's unknown `previous_response_id`)."""
        self._record(call, call.row(status="error", error=error))

    @staticmethod
    def _answer(call: Call, model: str, provider: str, price: Cost | None) -> Answered:
        return Answered(str(call.id), model, provider, call.created_at, call.elapsed_ms(), price)

    # --- whole answers -----------------------------------------------------------

    async def complete(self, call: Call, door: Door) -> tuple[bytes, Callable[[], None]]:
        """The rendered answer (the body of a 200) and what records it, for the
        caller to run once the answer is sent: the row's building is not in the
        client's wait (its latency then counts the send too). Errors raise,
        recorded."""

        async def attempt(deployment: Deployment, _timeout: float) -> Completion:
            assert call.request is not None
            provider = self._provider(call, deployment)
            return await provider.complete(call.request, deployment.model.target)

        try:
            plan = self._prepare(call, door)
            await self._governor.admit(call, plan.routes)  # limits, budget: may refuse
            if hit := await self._cache.lookup(call):
                answered = self._answer(call, hit.model, hit.provider or "", FREE)
                assert call.request is not None
                body = door.render(hit.completion(), answered, call.request)
                return body, lambda: self._record(call, self._cache.hit_row(call, hit))
            completion, deployment = await self.router.run(
                plan, attempt, call.attempts, call.started
            )
        except RouterError as exc:
            self._record(call, call.row(status="error", error=exc))
            raise
        assert call.model is not None and call.request is not None
        self._answered(call, deployment)  # the x-router-reason header
        self.router.report_tokens(deployment, completion.usage.total_tokens)
        price_cost = cost(completion.usage, call.model.price, call.created_at)
        answered = self._answer(call, call.model.name, call.model.provider, price_cost)
        body = door.render(completion, answered, call.request)

        def record() -> None:
            self._savings(call, completion.usage)
            row = call.row(status="success", result=completion, price_cost=price_cost)
            self._record(call, row, completion)

        return body, record

    # --- streams -------------------------------------------------------------------

    async def stream(self, call: Call, door: Door) -> AsyncIterator[bytes]:
        """Open the upstream stream; errors up to its first content raise here.

        Returns the iterator of frames for the response body.
        """

        async def attempt(deployment: Deployment, _timeout: float) -> _Opened:
            """Open the stream and hold it back until its first content."""
            assert call.request is not None
            provider = self._provider(call, deployment)
            events = provider.stream(call.request, deployment.model.target).__aiter__()
            held: list[StreamEvent] = []
            try:
                while (event := await anext(events, None)) is not None:
                    held.append(event)
                    if isinstance(event, CONTENT_EVENTS):
                        break
            except BaseException:
                await _close(events)
                raise
            return _Opened(events, held)

        try:
            plan = self._prepare(call, door)
            await self._governor.admit(call, plan.routes)  # limits, budget: may refuse
            if hit := await self._cache.lookup(call):
                return self._hit_frames(call, door, hit)
            opened, deployment = await self.router.run(plan, attempt, call.attempts, call.started)
        except RouterError as exc:
            self._record(call, call.row(status="error", error=exc))
            raise
        self._answered(call, deployment)
        return self._frames(call, door, opened, deployment)

    async def _frames(
        self, call: Call, door: Door, opened: _Opened, deployment: Deployment
    ) -> AsyncIterator[bytes]:
        request, model = call.request, call.model
        assert request is not None and model is not None
        events, held = opened.events, iter(opened.held)
        writer = door.stream_writer(request, self._answer(call, model.name, model.provider, None))
        acc = Accumulator()
        outcome: dict[str, Any] = {"status": "error", "error_message": "client disconnected"}
        # Frames wait here until the upstream read they came from is used up (a
        # `Flush`), then go out in one write: an upstream that sends several
        # events at once costs one send, not one per event. The first content
        # goes at once (time to first token).
        frames: list[bytes] = []
        try:
            event = next(held, None) or await anext(events, None)
            while event is not None:
                if isinstance(event, Flush):
                    if out := writer.event(event):
                        frames.append(out)
                    if frames:
                        yield b"".join(frames)
                        frames.clear()
                    event = next(held, None) or await anext(events, None)
                    continue
                acc.feed(event)
                if out := writer.event(event):
                    frames.append(out)
                if call.ttft_ms is None and isinstance(event, CONTENT_EVENTS):
                    call.ttft_ms = call.elapsed_ms()
                    yield b"".join(frames)
                    frames.clear()
                event = next(held, None) or await anext(events, None)
            completion = acc.completion()
            self.router.report_tokens(deployment, completion.usage.total_tokens)
            self._savings(call, completion.usage)
            price_cost = cost(completion.usage, model.price, call.created_at)
            answered = self._answer(call, model.name, model.provider, price_cost)
            frames.append(writer.close(completion, answered))
            yield b"".join(frames)
            outcome = {"status": "success", "result": completion, "price_cost": price_cost}
        except UpstreamError as exc:
            completion = acc.completion()
            self._failed_after_content(call, deployment, exc)
            outcome = {
                "status": "error",
                "result": completion,
                "price_cost": cost(completion.usage, model.price, call.created_at),
                "error": exc,
            }
            frames.append(writer.error(exc))
            yield b"".join(frames)
        finally:
            if "result" not in outcome:  # the client went away mid-stream
                completion = acc.completion()
                if acc.usage == Usage():
                    completion.usage = estimate_usage(request, completion)
                    outcome["error_message"] += "; usage estimated at 4 characters a token"
                outcome["result"] = completion
                outcome["price_cost"] = cost(completion.usage, model.price, call.created_at)
            self._record(call, call.row(**outcome), outcome["result"])
            await _close(events)

    async def _hit_frames(self, call: Call, door: Door, hit: CachedAnswer) -> AsyncIterator[bytes]:
        """A cached answer, replayed as the stream a live call would have sent."""
        assert call.request is not None
        provider = hit.provider or ""
        writer = door.stream_writer(call.request, self._answer(call, hit.model, provider, None))
        finished = False
        try:
            for event in replay(hit):
                if out := writer.event(event):
                    yield out
                    if call.ttft_ms is None:
                        call.ttft_ms = call.elapsed_ms()
            yield writer.close(hit.completion(), self._answer(call, hit.model, provider, FREE))
            finished = True
        finally:
            row = self._cache.hit_row(call, hit)
            if not finished:
                row.status = "error"
                row.error_message = "client disconnected"
            self._record(call, row)

    def _failed_after_content(self, call: Call, deployment: Deployment, exc: UpstreamError) -> None:
        """No failover once content reached the client: the attempt is marked failed."""
        if call.attempts:
            call.attempts[-1]["status"] = exc.upstream_status or exc.status_code
            call.attempts[-1]["error"] = exc.message
        self.router.report_failure(
            deployment, exc, call.attempts[-1]["latency_ms"] if call.attempts else 0
        )


@dataclass(slots=True)
class _Opened:
    """A stream opened by an attempt: the events held back, and the rest."""

    events: AsyncIterator[StreamEvent]
    held: list[StreamEvent]


CHARS_PER_TOKEN = 4


def estimate_usage(request: Request, completion: Completion) -> Usage:
    """Usage for a stream cut before the provider reported it: what was sent and
    what was generated so far, at about 4 characters a token (OpenAI's rule of
    thumb for English), so the row is charged something close, never $0."""
    generated = len(completion.text or "") + len(completion.reasoning_text or "")
    generated += sum(len(c.name) + len(c.arguments) for c in completion.tool_calls)
    prompt = len(request.prompt_text())
    return Usage(
        input_tokens=max(1, -(-prompt // CHARS_PER_TOKEN)),
        output_tokens=-(-generated // CHARS_PER_TOKEN),
    )


async def _close(events: AsyncIterator[StreamEvent]) -> None:
    aclose = getattr(events, "aclose", None)
    if aclose is not None:
        # Closing after a disconnect may itself be cancelled; the socket goes either way.
        with contextlib.suppress(BaseException):
            await aclose()
