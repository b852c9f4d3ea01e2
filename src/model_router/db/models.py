"""The tables. The original design's four (users, providers, models, requests),
with what real cost tracking needs: hashed keys, cache and reasoning token
counts, the prices each request was charged at, exact money columns.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    true,
)
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
    # Governance (issue 6): who holds it, what it may call, how much, until when.
    owner: Mapped[str | None] = mapped_column(String(200), nullable=True, index=True)
    allowed_models: Mapped[Any] = mapped_column(JSON(none_as_null=True), nullable=True)
    rpm_limit: Mapped[int | None] = mapped_column(Integer, nullable=True)
    tpm_limit: Mapped[int | None] = mapped_column(Integer, nullable=True)
    budget_usd: Mapped[Decimal | None] = mapped_column(Money(), nullable=True)
    budget_period: Mapped[str | None] = mapped_column(String(10), nullable=True)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    key_metadata: Mapped[Any] = mapped_column("metadata", JSON(none_as_null=True), nullable=True)
    store_text: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())


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
    # One-hour cache writes (Anthropic's `ttl: "1h"`), when priced apart.
    cache_write_1h_price_per_1m_tokens: Mapped[Decimal | None] = mapped_column(
        Money(), nullable=True
    )
    tier_cache_write_1h_price_per_1m_tokens: Mapped[Decimal | None] = mapped_column(
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
    # Routing (issue 5): what was asked for, why this model, every upstream attempt
    # ({deployment, provider, model, status, latency_ms, error}), and the pre-call
    # cost estimate beside the default model's cost (savings = default - actual).
    requested_model: Mapped[str | None] = mapped_column(String(200), nullable=True)
    route_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    attempts: Mapped[Any] = mapped_column(JSON(none_as_null=True), nullable=True)
    estimated_cost_usd: Mapped[Decimal | None] = mapped_column(Money(), nullable=True)
    default_cost_usd: Mapped[Decimal | None] = mapped_column(Money(), nullable=True)
    # Caller's tags (issue 6): `metadata` and `x-router-tags`, and the body's `user`.
    tags: Mapped[Any] = mapped_column(JSON(none_as_null=True), nullable=True)
    end_user: Mapped[str | None] = mapped_column(String(200), nullable=True)
    # Response cache and experiments (issue 10). cache_status: hit | semantic_hit |
    # miss, null when the cache was not consulted; saved_cost_usd: what a hit avoided.
    cache_status: Mapped[str | None] = mapped_column(String(20), nullable=True)
    saved_cost_usd: Mapped[Decimal | None] = mapped_column(Money(), nullable=True)
    experiment_id: Mapped[uuid.UUID | None] = mapped_column(nullable=True, index=True)
    variant: Mapped[str | None] = mapped_column(String(100), nullable=True)
    # Which API the call came through (issue 16): chat_completions, messages, ...
    front_door: Mapped[str] = mapped_column(
        String(30), default="chat_completions", server_default="chat_completions"
    )
    # Hints a translation dropped or clamped (`Request.dropped`), and one-hour
    # cache writes (part of cache_write_tokens) with the rate they were charged at.
    dropped_hints: Mapped[Any] = mapped_column(JSON(none_as_null=True), nullable=True)
    cache_write_1h_tokens: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    cache_write_1h_price_per_1m_tokens: Mapped[Decimal | None] = mapped_column(
        Money(), nullable=True
    )


class WebhookSubscription(Base):
    """Where events are pushed (issue 6); the secret signs every delivery."""

    __tablename__ = "webhook_subscriptions"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    url: Mapped[str] = mapped_column(String(2000))
    events: Mapped[Any] = mapped_column(JSON(none_as_null=True))
    secret: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(String(500), nullable=True)
    owner: Mapped[str | None] = mapped_column(String(200), nullable=True)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class WebhookDelivery(Base):
    """One event for one subscription: pending until delivered or given up."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
        Index("ix_webhook_deliveries_subscription", "subscription_id", "created_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    subscription_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("webhook_subscriptions.id"))
    event_id: Mapped[uuid.UUID] = mapped_column()
    event_type: Mapped[str] = mapped_column(String(100))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default="pending")  # pending|delivered|failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_status_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    attempt_log: Mapped[Any] = mapped_column(JSON(none_as_null=True), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class Experiment(Base):
    """An A/B test (issue 10): callers who name `target` are split between variants.

    `variants`: [{"name", "model" (or null: keep the caller's), "params", "weight"}].
    """

    __tablename__ = "experiments"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    target: Mapped[str] = mapped_column(String(200), index=True)
    variants: Mapped[Any] = mapped_column(JSON(none_as_null=True))
    traffic_percent: Mapped[float] = mapped_column(Float, default=100.0)
    status: Mapped[str] = mapped_column(String(20), default="running")  # running | stopped
    start_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    stop_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class Feedback(Base):
    """A caller's score for one of its own requests (issue 10); one per request."""

    __tablename__ = "feedback"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    request_id: Mapped[uuid.UUID] = mapped_column(unique=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), index=True)
    score: Mapped[float] = mapped_column(Float)
    comment: Mapped[str | None] = mapped_column(Text, nullable=True)
    experiment_id: Mapped[uuid.UUID | None] = mapped_column(nullable=True, index=True)
    variant: Mapped[str | None] = mapped_column(String(100), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
