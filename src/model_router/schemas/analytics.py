"""The analytics API's wire models: usage aggregates, the request log, the catalogue.

Money is `Decimal` end to end and is written as an exact JSON number (see
`model_router.jsonutil`), so it is documented here as `number`. Dates are UTC
calendar days written `YYYY-MM-DD`; datetimes are ISO 8601 in UTC.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated, Any
from uuid import UUID

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    PlainValidator,
    WithJsonSchema,
    computed_field,
)

Usd = Annotated[
    Decimal,
    WithJsonSchema({"type": "number", "description": "USD, exact (never rounded via a float)"}),
]
IsoDate = Annotated[
    date,
    PlainSerializer(date.isoformat, return_type=str),
    WithJsonSchema({"type": "string", "format": "date"}),
]


def parse_when(value: object) -> date | datetime:
    """An ISO 8601 date (`2025-01-31`) or datetime (`2025-01-31T12:00:00Z`).

    A datetime without an offset is taken as UTC; every datetime comes back in UTC.
    """
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, date):
        return value
    elif isinstance(value, str):
        text = value.strip()
        try:
            return date.fromisoformat(text)
        except ValueError:
            pass
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(
                "expected an ISO 8601 date (YYYY-MM-DD) or datetime (YYYY-MM-DDTHH:MM:SSZ)"
            ) from None
    else:
        raise ValueError("expected an ISO 8601 date or datetime")
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except OverflowError:
        raise ValueError("datetime out of range") from None


When = Annotated[
    date | datetime,
    PlainValidator(parse_when, json_schema_input_type=str),
    WithJsonSchema({"type": "string", "examples": ["2025-01-31", "2025-01-31T12:00:00Z"]}),
]


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True)


class _DesignCost(_Out):
    """`cost_usd`, the original design's name for a group's cost, beside our `total_cost_usd`."""

    total_cost_usd: Usd = Field(description="Sum of known costs; 0 when none is known.")

    @computed_field(description="The original design's name for `total_cost_usd`: the same value.")  # type: ignore[prop-decorator]
    @property
    def cost_usd(self) -> Usd:
        return self.total_cost_usd


# --- GET /v1/analytics/usage ---------------------------------------------------


class ModelUsage(_DesignCost):
    model: str
    provider: str | None
    requests: int
    input_tokens: int
    output_tokens: int
    average_latency_ms: float | None


class ProviderUsage(_DesignCost):
    provider: str | None
    requests: int


class DailyStats(_DesignCost):
    date: IsoDate
    requests: int
    successful_requests: int
    failed_requests: int
    input_tokens: int
    output_tokens: int
    total_tokens: int
    average_latency_ms: float | None


class UsageResponse(_Out):
    period_days: int
    start_date: IsoDate = Field(description="First UTC day of the window.")
    end_date: IsoDate = Field(description="Last UTC day of the window: today.")
    total_requests: int
    successful_requests: int
    failed_requests: int
    success_rate: float = Field(
        description="The share (0-1) of successful requests, as the original design has it; "
        "0 if none."
    )
    success_rate_percent: float = Field(
        description="The same as a percentage (0-100), to 2 decimals; 0 if none."
    )
    total_input_tokens: int
    total_output_tokens: int
    total_tokens: int
    cached_input_tokens: int
    reasoning_tokens: int
    total_cost_usd: Usd = Field(description="Sum of known costs; 0 when none is known.")
    average_latency_ms: float | None = Field(description="Null when no request has a latency.")
    requests_with_unknown_cost: int = Field(
        description="Requests whose cost could not be computed (no price for the model, or a "
        "successful request without a cost): not counted in total_cost_usd."
    )
    by_model: list[ModelUsage]
    by_provider: list[ProviderUsage]
    daily_stats: list[DailyStats] = Field(
        description="Every day of the window, oldest first, zero-filled."
    )

    @computed_field(  # type: ignore[prop-decorator]
        description="The original design's name for `average_latency_ms`: the same value."
    )
    @property
    def avg_latency_ms(self) -> float | None:
        return self.average_latency_ms

    # Response cache (issue 10).
    cache_lookups: int = Field(default=0, description="Requests that consulted the cache.")
    cache_hits: int = Field(default=0, description="Lookups answered from the cache.")
    cache_hit_rate: float = Field(
        default=0.0, description="Percentage (0-100) of cache lookups that hit; 0 if none."
    )
    cache_saved_cost_usd: Usd = Field(
        default=Decimal(0), description="What the answers served from the cache had cost."
    )
    # Routing (issue 5).
    auto_routed_requests: int = Field(
        default=0, description='Successful requests routed by `"model": "auto"`.'
    )
    routing_saved_usd: Usd = Field(
        default=Decimal(0),
        description="Money saved by `auto`: what the configured default model would have "
        "cost for the same usage, minus what the chosen models cost (successful requests "
        "with both costs known; negative if routing cost more).",
    )


# --- GET /v1/analytics/requests ------------------------------------------------


class RequestSummary(_Out):
    id: uuid.UUID
    model: str
    provider: str | None
    status: str
    input_tokens: int
    output_tokens: int
    total_tokens: int
    total_cost_usd: Usd | None
    latency_ms: int | None
    created_at: datetime
    prompt_preview: str = Field(description="The first 200 characters of the prompt.")
    error_message: str | None
    is_stream: bool
    user_id: uuid.UUID | None
    front_door: str = Field(
        default="chat_completions",
        description="The API the call came through: chat_completions, messages, ...",
    )


class RequestPage(_Out):
    requests: list[RequestSummary]
    total: int
    total_is_estimate: bool = Field(
        default=False,
        description="True when `total` is a lower bound: a text search matched more "
        "rows than it counts (shown as '10,000+').",
    )
    page: int
    per_page: int
    total_pages: int


# --- GET /v1/analytics/requests/{request_id} -------------------------------------


class RouteAttempt(_Out):
    """One upstream call made for a request."""

    deployment: str
    provider: str | None = None
    model: str | None = None
    status: int | None = Field(description="HTTP status: the upstream's, or 502/504 unreachable")
    latency_ms: int | None
    error: str | None
    panic: bool = Field(
        default=False,
        description="Made although the deployment's circuit was open: every deployment "
        "of the model and its fallbacks was open (panic routing)",
    )


class RequestDetail(_Out):
    """One request-log row, every column."""

    model_config = ConfigDict(frozen=True, from_attributes=True)

    id: uuid.UUID
    user_id: uuid.UUID | None
    model_id: uuid.UUID | None
    provider_id: uuid.UUID | None
    model: str
    provider: str | None
    prompt_text: str
    request_messages: Any
    response_text: str | None
    reasoning_text: str | None
    tool_calls: Any
    finish_reason: str | None
    input_tokens: int
    output_tokens: int
    total_tokens: int
    cached_input_tokens: int
    cache_write_tokens: int
    reasoning_tokens: int
    input_price_per_1m_tokens: Usd | None
    output_price_per_1m_tokens: Usd | None
    cached_input_price_per_1m_tokens: Usd | None
    cache_write_price_per_1m_tokens: Usd | None
    input_cost_usd: Usd | None
    output_cost_usd: Usd | None
    total_cost_usd: Usd | None
    cost_unknown: bool
    latency_ms: int | None
    ttft_ms: int | None
    is_stream: bool
    status: str
    error_message: str | None
    upstream_status: int | None
    http_status: int | None
    created_at: datetime
    completed_at: datetime | None
    # Response cache and experiments (issue 10).
    cache_status: str | None = None
    saved_cost_usd: Usd | None = None
    experiment_id: uuid.UUID | None = None
    variant: str | None = None
    # Routing (issue 5): every upstream attempt, why this model, and for `auto`
    # the pre-call estimate beside what the default model would have cost.
    requested_model: str | None = None
    route_reason: str | None = None
    attempts: list[RouteAttempt] | None = None
    estimated_cost_usd: Usd | None = None
    default_cost_usd: Usd | None = None
    # The caller's tags (issue 6): `metadata` and `x-router-tags`, and the body's `user`.
    tags: dict[str, str] | None = None
    end_user: str | None = None
    # Which API the call came through (issue 16), the hints a translation to
    # the model's protocol dropped or clamped, and one-hour cache writes.
    front_door: str = "chat_completions"
    dropped_hints: list[str] | None = None
    cache_write_1h_tokens: int = 0
    cache_write_1h_price_per_1m_tokens: Usd | None = None


# --- GET /v1/analytics/models --------------------------------------------------


class CatalogueModel(_Out):
    uuid: UUID = Field(
        description="The model's UUID, which a request's `model_id` refers to (until the "
        "original design's integer `id` replaced it, this was `id`)."
    )
    model_id: str
    provider: str
    display_name: str
    input_price_per_1m_tokens: Usd | None
    output_price_per_1m_tokens: Usd | None
    cached_input_price_per_1m_tokens: Usd | None
    cache_write_price_per_1m_tokens: Usd | None
    context_window: int | None
    max_output_tokens: int | None
    price_source: str
    is_active: bool = Field(description="False when the model or its provider is disabled.")

    @computed_field(  # type: ignore[prop-decorator]
        description="The original design's integer id: stable, derived from `uuid` (its top "
        "53 bits, so a JavaScript number holds it exactly)."
    )
    @property
    def id(self) -> int:
        return self.uuid.int >> 75


# --- GET /v1/analytics/me and /v1/analytics/users (the dashboard) ------------------


class Caller(_Out):
    """The key making the call: the dashboard's sign-in check."""

    id: uuid.UUID
    name: str
    prefix: str = Field(description="The key's first characters, for display.")
    is_admin: bool


class UserItem(_Out):
    id: uuid.UUID = Field(description="The `user_id` the analytics endpoints filter on.")
    name: str
    prefix: str
    is_admin: bool
    is_active: bool


class UserList(_Out):
    users: list[UserItem]


# --- GET /v1/analytics/costs (issue 6: cost by tag, by key) -------------------------


class CostGroup(_Out):
    group: str | None = Field(
        description="The tag's value, the key id, the end user or the model; null: none."
    )
    key_name: str | None = Field(default=None, description="With group_by=key: the key's name.")
    requests: int
    total_tokens: int
    total_cost_usd: Usd = Field(description="Sum of known costs; 0 when none is known.")
    requests_with_unknown_cost: int


class CostBreakdown(_Out):
    group_by: str
    start_date: IsoDate
    end_date: IsoDate
    total_cost_usd: Usd
    groups: list[CostGroup] = Field(description="Most expensive first.")
