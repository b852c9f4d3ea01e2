"""The learned router's tables (issue 19): per-arm counters and the decision log."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Boolean, Float, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from model_router.db.models import Base, utcnow
from model_router.db.types import Money, UTCDateTime


class RoutingArm(Base):
    """What a pool has learned of one model in one task class: summed quality
    (alpha), its complement (beta), observations. Only ever incremented."""

    __tablename__ = "routing_arms"

    pool: Mapped[str] = mapped_column(String(200), primary_key=True)
    task_class: Mapped[str] = mapped_column(String(300), primary_key=True)
    model: Mapped[str] = mapped_column(String(200), primary_key=True)
    alpha: Mapped[float] = mapped_column(Float, default=0.0)
    beta: Mapped[float] = mapped_column(Float, default=0.0)
    observations: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class RoutingDecision(Base):
    """One decision of a pool: the candidates, the probability of the chosen
    model, the default's, the costs, and the quality once known."""

    __tablename__ = "routing_decisions"
    __table_args__ = (Index("ix_routing_decisions_pool_created", "pool", "created_at"),)

    request_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    pool: Mapped[str] = mapped_column(String(200))
    task_class: Mapped[str] = mapped_column(String(300))
    features: Mapped[Any] = mapped_column(JSON(none_as_null=True), nullable=True)
    chosen_model: Mapped[str] = mapped_column(String(200))
    answered_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    probability: Mapped[float] = mapped_column(Float)
    default_model: Mapped[str] = mapped_column(String(200))
    default_probability: Mapped[float] = mapped_column(Float)
    explored: Mapped[bool] = mapped_column(Boolean, default=False)
    candidates: Mapped[Any] = mapped_column(JSON(none_as_null=True), nullable=True)
    estimated_cost_usd: Mapped[Decimal] = mapped_column(Money())
    default_cost_usd: Mapped[Decimal | None] = mapped_column(Money(), nullable=True)
    cost_usd: Mapped[Decimal | None] = mapped_column(Money(), nullable=True)
    extra_spend_usd: Mapped[Decimal] = mapped_column(Money())
    quality: Mapped[float | None] = mapped_column(Float, nullable=True)
    quality_source: Mapped[str] = mapped_column(String(20))
    key_id: Mapped[uuid.UUID | None] = mapped_column(nullable=True)
    reason: Mapped[str] = mapped_column(Text, default="")
