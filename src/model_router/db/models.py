"""The tables. The original design's four (users, providers, models, requests),
with what real cost tracking needs: hashed keys, cache and reasoning token
counts, the prices each request was charged at, exact money columns.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from model_router.db.types import Money, UTCDateTime


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    pass


class User(Base):
    """An API key and whoever holds it. The key itself is never stored."""

    __tablename__ = "users"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(200))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)  # sha256 hex
    key_prefix: Mapped[str] = mapped_column(String(16), index=True)
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class Provider(Base):
    __tablename__ = "providers"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    protocol: Mapped[str] = mapped_column(String(20))  # openai | anthropic | gemini
    base_url: Mapped[str | None] = mapped_column(String(500), nullable=True)
    base_url_setting: Mapped[str | None] = mapped_column(String(100), nullable=True)
    api_key_setting: Mapped[str] = mapped_column(String(100))
    auth_header: Mapped[str] = mapped_column(String(50), default="authorization")
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Model(Base):
    """A model callers may name, its upstream name and its prices per 1M tokens."""

    __tablename__ = "models"
    __table_args__ = (UniqueConstraint("provider_id", "model_id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    provider_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("providers.id"), index=True)
    model_id: Mapped[str] = mapped_column(String(200), index=True)
    upstream_model: Mapped[str | None] = mapped_column(String(200), nullable=True)
    display_name: Mapped[str] = mapped_column(String(200))
    input_price_per_1m_tokens: Mapped[Decimal | None] = mapped_column(Money(), nullable=True)
    output_price_per_1m_tokens: Mapped[Decimal | None] = mapped_column(Money(), nullable=True)
    cached_input_price_per_1m_tokens: Mapped[Decimal | None] = mapped_column(Money(), nullable=True)
    cache_write_price_per_1m_tokens: Mapped[Decimal | None] = mapped_column(Money(), nullable=True)
    # Long-context tier: above this many prompt tokens, the tier prices apply.
    tier_threshold_tokens: Mapped[int | None] = mapped_column(Integer, nullable=True)
    tier_input_price_per_1m_tokens: Mapped[Decimal | None] = mapped_column(Money(), nullable=True)
    tier_output_price_per_1m_tokens: Mapped[Decimal | None] = mapped_column(Money(), nullable=True)
    tier_cached_input_price_per_1m_tokens: Mapped[Decimal | None] = mapped_column(
        Money(), nullable=True
    )
    tier_cache_write_price_per_1m_tokens: Mapped[Decimal | None] = mapped_column(
        Money(), nullable=True
    )
    # Time-of-day rates: {"windows": [["01:00", "04:00"]], "input": "0.3", ...} (UTC).
    peak_pricing: Mapped[Any] = mapped_column(JSON(none_as_null=True), nullable=True)
    # Fields merged into every upstream request for this model (aliases).
    upstream_params: Mapped[Any] = mapped_column(JSON(none_as_null=True), nullable=True)
    context_window: Mapped[int | None] = mapped_column(Integer, nullable=True)
    max_output_tokens: Mapped[int | None] = mapped_column(Integer, nullable=True)
    price_source: Mapped[str] = mapped_column(String(50), default="genai-prices")
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class Request(Base):
    """One call through the router, successful or not."""

    __tablename__ = "requests"
    __table_args__ = (
        Index("ix_requests_user_created", "user_id", "created_at"),
        Index("ix_requests_created", "created_at"),
        Index("ix_requests_model_created", "model", "created_at"),
        Index("ix_requests_status_created", "status", "created_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    model_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("models.id"), nullable=True)
    provider_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("providers.id"), nullable=True)
    model: Mapped[str] = mapped_column(String(200))
    provider: Mapped[str | None] = mapped_column(String(100), nullable=True)
    prompt_text: Mapped[str] = mapped_column(Text, default="")
    request_messages: Mapped[Any] = mapped_column(JSON(none_as_null=True), nullable=True)
    response_text: Mapped[str | None] = mapped_column(Text, nullable=True)
    reasoning_text: Mapped[str | None] = mapped_column(Text, nullable=True)
    tool_calls: Mapped[Any] = mapped_column(JSON(none_as_null=True), nullable=True)
    finish_reason: Mapped[str | None] = mapped_column(String(20), nullable=True)
    input_tokens: Mapped[int] = mapped_column(Integer, default=0)
    output_tokens: Mapped[int] = mapped_column(Integer, default=0)
    total_tokens: Mapped[int] = mapped_column(Integer, default=0)
    cached_input_tokens: Mapped[int] = mapped_column(Integer, default=0)
    cache_write_tokens: Mapped[int] = mapped_column(Integer, default=0)
    reasoning_tokens: Mapped[int] = mapped_column(Integer, default=0)
    input_price_per_1m_tokens: Mapped[Decimal | None] = mapped_column(Money(), nullable=True)
    output_price_per_1m_tokens: Mapped[Decimal | None] = mapped_column(Money(), nullable=True)
    cached_input_price_per_1m_tokens: Mapped[Decimal | None] = mapped_column(Money(), nullable=True)
    cache_write_price_per_1m_tokens: Mapped[Decimal | None] = mapped_column(Money(), nullable=True)
    input_cost_usd: Mapped[Decimal | None] = mapped_column(Money(), nullable=True)
    output_cost_usd: Mapped[Decimal | None] = mapped_column(Money(), nullable=True)
    total_cost_usd: Mapped[Decimal | None] = mapped_column(Money(), nullable=True)
    cost_unknown: Mapped[bool] = mapped_column(Boolean, default=False)
    latency_ms: Mapped[int | None] = mapped_column(Integer, nullable=True)
    ttft_ms: Mapped[int | None] = mapped_column(Integer, nullable=True)
    is_stream: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(20))  # success | error
    error_message: Mapped[str | None] = mapped_column(Text, nullable=True)
    upstream_status: Mapped[int | None] = mapped_column(Integer, nullable=True)
    http_status: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
