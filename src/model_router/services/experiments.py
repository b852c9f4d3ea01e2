"""A/B experiments: which variant a call is in, and the experiments' storage.

Assignment is a pure function of the experiment, the caller's key and the
request's `user`: sha256 of them, read as a number in [0, 1). One draw decides
enrolment (below `traffic_percent`), another, independent one the variant by
its share of the weights. So a user stays in one variant for as long as the
weights do not change, on every instance, with no state kept anywhere.

`ExperimentSet` is what the request path reads, in memory; `Experiments`
keeps it in step with the database (loaded at start, refreshed periodically,
and updated at once by the admin API in this process).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from model_router.calls import Call
from model_router.db.models import Experiment, Feedback, Request
from model_router.errors import InvalidRequest, NotFound
from model_router.schemas.experiments import (
    ExperimentCreate,
    ExperimentOut,
    ExperimentPatch,
    FeedbackIn,
    FeedbackOut,
    VariantSpec,
)

log = logging.getLogger(__name__)

SCALE = 2.0**64
REQUIRED = frozenset({"name", "target", "variants", "status", "traffic_percent"})


def draw(*parts: str) -> float:
    """A deterministic, uniform number in [0, 1) from `parts`."""
    raw = hashlib.sha256("\x1f".join(parts).encode()).digest()
    return int.from_bytes(raw[:8], "big") / SCALE


@dataclass(frozen=True, slots=True)
class ExperimentInfo:
    id: uuid.UUID
    name: str
    target: str
    variants: tuple[VariantSpec, ...]
    traffic_percent: float
    status: str
    start_at: datetime | None
    stop_at: datetime | None
    created_at: datetime
    updated_at: datetime

    def active(self, now: datetime) -> bool:
        return (
            self.status == "running"
            and (self.start_at is None or self.start_at <= now)
            and (self.stop_at is None or now < self.stop_at)
        )

    def assign(self, key_id: str, user: str) -> VariantSpec | None:
        """The caller's variant, or None when it is not enrolled."""
        me = str(self.id)
        if draw(me, "enrol", key_id, user) * 100 >= self.traffic_percent:
            return None
        point = draw(me, "variant", key_id, user) * sum(v.weight for v in self.variants)
        for variant in self.variants:
            point -= variant.weight
            if point < 0:
                return variant
        return self.variants[-1]

    def out(self, now: datetime | None = None) -> ExperimentOut:
        return ExperimentOut(
            id=self.id,
            name=self.name,
            target=self.target,
            variants=list(self.variants),
            traffic_percent=self.traffic_percent,
            status="stopped" if self.status == "stopped" else "running",
            active=self.active(now or datetime.now(UTC)),
            start_at=self.start_at,
            stop_at=self.stop_at,
            created_at=self.created_at,
            updated_at=self.updated_at,
        )


def info_of(row: Experiment) -> ExperimentInfo:
    return ExperimentInfo(
        id=row.id,
        name=row.name,
        target=row.target,
        variants=tuple(VariantSpec.model_validate(v) for v in row.variants or []),
        traffic_percent=row.traffic_percent,
        status=row.status,
        start_at=row.start_at,
        stop_at=row.stop_at,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


class ExperimentSet:
    """The experiments in memory; `apply` runs on every chat call."""

    def __init__(self, experiments: list[ExperimentInfo] | None = None) -> None:
        self.replace(experiments or [])

    def replace(self, experiments: list[ExperimentInfo]) -> None:
        by_target: dict[str, list[ExperimentInfo]] = {}
        for experiment in sorted(experiments, key=lambda e: e.created_at):
            by_target.setdefault(experiment.target, []).append(experiment)
        self.by_id = {e.id: e for e in experiments}
        self._by_target = by_target

    def apply(self, call: Call) -> None:
        """Put the call in its variant of the (oldest) active experiment on the
        model it names: the variant's model and parameters replace the caller's."""
        if not self._by_target:
            return
        model = call.body.get("model")
        candidates = self._by_target.get(model) if isinstance(model, str) else None
        if not candidates:
            return
        now = datetime.now(UTC)
        experiment = next((e for e in candidates if e.active(now)), None)
        if experiment is None:
            return
        user = call.body.get("user")
        variant = experiment.assign(str(call.key.id), user if isinstance(user, str) else "")
        if variant is None:
            return
        call.body.update(variant.params)
        if variant.model is not None:
            call.body["model"] = variant.model
        call.experiment_id = experiment.id
        call.variant = variant.name
        call.response_headers["x-router-experiment"] = str(experiment.id)
        call.response_headers["x-router-variant"] = variant.name


class Experiments:
    """The experiments' storage, and the `ExperimentSet` kept in step with it."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], live: ExperimentSet) -> None:
        self._sessions = sessions
        self.live = live
        self._task: asyncio.Task[None] | None = None

    async def load(self) -> None:
        async with self._sessions() as session:
            rows = await session.scalars(select(Experiment))
            self.live.replace([info_of(row) for row in rows])

    async def start(self, every: float) -> None:
        await self.load()
        self._task = asyncio.create_task(self._refresh(every), name="experiments-refresh")

    async def _refresh(self, every: float) -> None:
        while True:
            await asyncio.sleep(every)
            try:
                await self.load()
            except Exception as exc:  # keep serving the last good copy
                log.warning("experiments refresh failed: %s", exc)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def get(self, experiment_id: uuid.UUID) -> ExperimentInfo:
        found = self.live.by_id.get(experiment_id)
        if found is None:
            raise NotFound(
                f"No experiment with id '{experiment_id}'.",
                param="experiment_id",
                code="experiment_not_found",
            )
        return found

    def all(self) -> list[ExperimentInfo]:
        return sorted(self.live.by_id.values(), key=lambda e: e.created_at)

    async def create(self, spec: ExperimentCreate) -> ExperimentInfo:
        row = Experiment(
            name=spec.name,
            target=spec.target,
            variants=[v.model_dump() for v in spec.variants],
            traffic_percent=spec.traffic_percent,
            status=spec.status,
            start_at=spec.start_at,
            stop_at=spec.stop_at,
        )
        await self._save(row, add=True)
        return info_of(row)

    async def update(self, experiment_id: uuid.UUID, patch: ExperimentPatch) -> ExperimentInfo:
        self.get(experiment_id)
        async with self._sessions() as session:
            row = await session.get(Experiment, experiment_id)
        if row is None:
            raise NotFound(f"No experiment with id '{experiment_id}'.", param="experiment_id")
        changes = patch.model_dump(exclude_unset=True)
        for name, value in changes.items():
            if value is None and name in REQUIRED:
                raise InvalidRequest(f"Invalid value for '{name}': it cannot be null.", param=name)
            if name == "variants":
                value = [VariantSpec.model_validate(v).model_dump() for v in value]
            setattr(row, name, value)
        if row.start_at and row.stop_at and row.stop_at <= row.start_at:
            raise InvalidRequest("stop_at must be after start_at.", param="stop_at")
        row.updated_at = datetime.now(UTC)
        await self._save(row, add=False)
        return info_of(row)

    async def _save(self, row: Experiment, *, add: bool) -> None:
        try:
            async with self._sessions.begin() as session:
                if add:
                    session.add(row)
                else:
                    await session.merge(row)
        except IntegrityError:
            raise InvalidRequest(
                f"An experiment named '{row.name}' already exists.",
                param="name",
                code="experiment_exists",
            ) from None
        info = info_of(row)
        self.live.replace([*(e for e in self.live.by_id.values() if e.id != info.id), info])


# --- feedback and the report's raw numbers --------------------------------------


async def save_feedback(
    sessions: async_sessionmaker[AsyncSession], key_id: uuid.UUID, feedback: FeedbackIn
) -> FeedbackOut | None:
    """Store (or replace) the caller's score for one of its own requests; None
    when the request does not exist or is not the caller's."""
    async with sessions.begin() as session:
        request = (
            await session.execute(
                select(Request.experiment_id, Request.variant).where(
                    Request.id == feedback.request_id, Request.user_id == key_id
                )
            )
        ).first()
        if request is None:
            return None
        row = await session.scalar(
            select(Feedback).where(Feedback.request_id == feedback.request_id)
        )
        if row is None:
            row = Feedback(request_id=feedback.request_id, user_id=key_id)
            session.add(row)
        row.score = feedback.score
        row.comment = feedback.comment
        row.experiment_id = request.experiment_id
        row.variant = request.variant
        row.created_at = datetime.now(UTC)
    return FeedbackOut(
        id=row.id,
        request_id=row.request_id,
        score=row.score,
        comment=row.comment,
        experiment_id=row.experiment_id,
        variant=row.variant,
        created_at=row.created_at,
    )


@dataclass(slots=True)
class VariantSamples:
    requests: int = 0
    errors: int = 0
    costs: list[Decimal] = field(default_factory=list)  # each request with a known cost
    latencies: list[float] = field(default_factory=list)  # successful requests
    scores: list[float] = field(default_factory=list)


async def variant_samples(
    session: AsyncSession, experiment_id: uuid.UUID
) -> dict[str, VariantSamples]:
    """Per variant: counts, and the values the percentiles and tests need."""
    out: dict[str, VariantSamples] = {}

    def of(variant: str | None) -> VariantSamples:
        return out.setdefault(variant or "", VariantSamples())

    rows = await session.execute(
        select(Request.variant, Request.status, Request.total_cost_usd, Request.latency_ms).where(
            Request.experiment_id == experiment_id
        )
    )
    for variant, status, cost, latency in rows:
        samples = of(variant)
        samples.requests += 1
        if status != "success":
            samples.errors += 1
        elif latency is not None:
            samples.latencies.append(float(latency))
        if cost is not None:
            samples.costs.append(cost)
    scores = await session.execute(
        select(Feedback.variant, Feedback.score).where(Feedback.experiment_id == experiment_id)
    )
    for variant, score in scores:
        of(variant).scores.append(float(score))
    return out
