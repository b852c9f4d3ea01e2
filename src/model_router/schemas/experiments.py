"""Wire models of experiments (A/B tests), feedback and the experiment report."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from model_router.schemas.analytics import Usd

# Fields a variant may not override: they are the conversation, not parameters.
FIXED_FIELDS = frozenset({"messages", "model", "stream", "stream_options", "user", "cache"})
Status = Literal["running", "stopped"]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="after")
    @classmethod
    def _clean(cls, value: Any) -> Any:
        """No NUL in text (PostgreSQL cannot store it); datetimes in UTC (naive: UTC)."""
        if isinstance(value, str) and "\x00" in value:
            raise ValueError("text cannot contain NUL characters")
        if isinstance(value, datetime):
            return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        return value


class VariantSpec(_In):
    name: str = Field(pattern=r"^[A-Za-z0-9_.:-]{1,100}$")
    model: str | None = Field(
        default=None, min_length=1, max_length=200, description="Null keeps the caller's model."
    )
    params: dict[str, Any] = Field(
        default_factory=dict, description='Request fields to set, e.g. {"temperature": 0.2}.'
    )
    weight: float = Field(default=1.0, gt=0, le=1_000_000, allow_inf_nan=False)

    @field_validator("params")
    @classmethod
    def _no_fixed(cls, value: dict[str, Any]) -> dict[str, Any]:
        fixed = sorted(FIXED_FIELDS & set(value))
        if fixed:
            raise ValueError(f"a variant cannot set '{fixed[0]}'")
        try:  # stored and served as JSON: no integer past 64 bits, no absurd nesting
            orjson.dumps(value)
        except TypeError as exc:
            raise ValueError(f"params cannot be written as JSON ({exc})") from None
        return value


def _check_variants(variants: list[VariantSpec] | None) -> None:
    if variants is None:
        return
    names = [v.name for v in variants]
    if len(set(names)) != len(names):
        raise ValueError("variant names must be unique")


class ExperimentCreate(_In):
    name: str = Field(min_length=1, max_length=200)
    target: str = Field(
        min_length=1, max_length=200, description="The model name (or alias) callers send."
    )
    variants: list[VariantSpec] = Field(min_length=2, max_length=20)
    traffic_percent: float = Field(
        default=100.0, gt=0, le=100, allow_inf_nan=False, description="Share of callers enrolled."
    )
    status: Status = "running"
    start_at: datetime | None = None
    stop_at: datetime | None = None

    @model_validator(mode="after")
    def _check(self) -> ExperimentCreate:
        _check_variants(self.variants)
        if self.start_at and self.stop_at and self.stop_at <= self.start_at:
            raise ValueError("stop_at must be after start_at")
        return self


class ExperimentPatch(_In):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    target: str | None = Field(default=None, min_length=1, max_length=200)
    variants: list[VariantSpec] | None = Field(default=None, min_length=2, max_length=20)
    traffic_percent: float | None = Field(default=None, gt=0, le=100, allow_inf_nan=False)
    status: Status | None = None
    start_at: datetime | None = None
    stop_at: datetime | None = None

    @model_validator(mode="after")
    def _check(self) -> ExperimentPatch:
        _check_variants(self.variants)
        return self


class ExperimentOut(BaseModel):
    id: uuid.UUID
    name: str
    target: str
    variants: list[VariantSpec]
    traffic_percent: float
    status: Status
    active: bool = Field(description="Running, and now is within start_at/stop_at.")
    start_at: datetime | None
    stop_at: datetime | None
    created_at: datetime
    updated_at: datetime


class ExperimentList(BaseModel):
    experiments: list[ExperimentOut]


class FeedbackIn(_In):
    request_id: uuid.UUID
    score: float = Field(
        ge=0, le=10, allow_inf_nan=False, description="0-10 on a scale you keep (thumbs: 0/1)."
    )
    comment: str | None = Field(default=None, max_length=10_000)


class FeedbackOut(BaseModel):
    id: uuid.UUID
    request_id: uuid.UUID
    score: float
    comment: str | None
    experiment_id: uuid.UUID | None
    variant: str | None
    created_at: datetime


class VariantReport(BaseModel):
    variant: str
    model: str | None
    requests: int
    errors: int
    error_rate: float | None = Field(description="errors / requests (0-1).")
    total_cost_usd: Usd
    cost_per_request_usd: Usd | None = Field(description="Mean over requests with a known cost.")
    latency_p50_ms: float | None = Field(description="Successful requests; linear interpolation.")
    latency_p95_ms: float | None
    feedback_count: int
    feedback_mean: float | None
    feedback_ci95: tuple[float, float] | None = Field(description="Student's t interval.")


class SignificanceOut(BaseModel):
    test: str = Field(description="welch_t or two_proportion_z")
    statistic: float
    df: float | None
    p_value: float
    significant: bool


class Comparison(BaseModel):
    variant: str
    baseline: str
    feedback: SignificanceOut | None = Field(
        description="Welch's t-test; null below 2 scores a side."
    )
    error_rate: SignificanceOut | None = Field(description="Two-proportion z-test.")


class ExperimentReport(BaseModel):
    experiment: ExperimentOut
    alpha: float
    variants: list[VariantReport]
    comparisons: list[Comparison] = Field(description="Each variant against the first one.")
