"""`GET /v1/analytics/routing/pools[/{name}]` and `model-router routing report`:
what a learned routing pool chose, at what quality, and what it saved."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from model_router.schemas.analytics import Usd


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True)


class QualityEstimate(_Out):
    """A mean quality in [0, 1] with its 95 % interval (null bounds: too few samples)."""

    estimate: float
    low: float | None
    high: float | None
    samples: int


class UsdEstimate(_Out):
    """A mean in USD with its 95 % interval (null bounds: too few samples)."""

    estimate: Usd
    low: Usd | None
    high: Usd | None
    samples: int


class ModelChoice(_Out):
    model: str
    requests: int
    share: float
    explored: int
    quality: QualityEstimate | None = Field(description="Rated or signalled decisions only.")
    cost_per_request_usd: UsdEstimate | None


class PolicyValue(_Out):
    """The policy against always sending to the default model, estimated
    off-policy from the logged probabilities: cost doubly robust (the default's
    pre-call estimate corrected where the default was chosen), quality by
    inverse propensity."""

    default_model: str
    policy_cost_per_request_usd: UsdEstimate | None
    default_cost_per_request_usd: UsdEstimate | None
    savings_per_request_usd: UsdEstimate | None
    savings_total_usd: UsdEstimate | None
    policy_quality: QualityEstimate | None
    default_quality: QualityEstimate | None
    quality_difference: QualityEstimate | None = Field(description="policy minus default")
    default_never_possible: int = Field(
        description="Decisions where the default had probability 0 (no exploration left): "
        "the estimates cannot speak for those."
    )


class ClassReport(_Out):
    task_class: str
    requests: int
    models: list[ModelChoice]
    value: PolicyValue


class PoolReport(_Out):
    pool: str
    days: int
    generated_at: datetime
    default_model: str
    requests: int
    explored: int
    explored_share: float
    exploration_spend_usd: Usd
    cost_unknown: int = Field(description="Decisions whose cost is unknown: left out of costs.")
    overall: PolicyValue
    classes: list[ClassReport]


class PoolSummary(_Out):
    """A configured pool: the name callers send as `model`, its candidates, and
    the model its savings are measured against."""

    name: str
    candidates: list[str]
    default_model: str
    objective: str


class PoolList(_Out):
    pools: list[PoolSummary] = Field(description="In the routing file's order; empty: none.")


class DecisionOut(_Out):
    """One request's routing decision: its features and class, the candidates
    with their probabilities, the chosen model and why, the quality once known."""

    request_id: uuid.UUID
    created_at: datetime
    pool: str
    task_class: str
    features: dict[str, Any]
    chosen_model: str
    answered_by: str | None
    probability: float
    explored: bool
    default_model: str
    default_probability: float
    candidates: list[dict[str, Any]]
    estimated_cost_usd: Usd
    default_cost_usd: Usd | None
    cost_usd: Usd | None
    quality: float | None
    quality_source: str
    reason: str
