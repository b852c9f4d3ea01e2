"""The request-log record: one finished call, as it is queued, spilled and inserted.

`RequestRecord` has one attribute per column of `requests` (tests hold them
equal), with the ORM's defaults; the writer's encoders read the attributes by
column name (`db/inserts.py`). `Attempt` is one upstream call made for it, kept
in the `attempts` JSON column: a TypedDict, so that it is typed where it is
built and read, and stored, spilled and served as the plain object it is.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, NotRequired, TypedDict


class Attempt(TypedDict):
    """One upstream call: the deployment, its provider and model, the HTTP status
    (the upstream's, or 502/504 when it was unreachable), its time, its error,
    and `panic: True` on a call made on an open circuit (panic routing)."""

    deployment: str
    provider: str | None
    model: str | None
    status: int
    latency_ms: int
    error: str | None
    panic: NotRequired[bool]


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(slots=True, kw_only=True)
class RequestRecord:
    id: uuid.UUID
    model: str
    status: str  # success | error
    created_at: datetime
    user_id: uuid.UUID | None = None
    model_id: uuid.UUID | None = None
    provider_id: uuid.UUID | None = None
    provider: str | None = None
    front_door: str = "chat_completions"
    prompt_text: str = ""
    request_messages: Any = None
    response_text: str | None = None
    reasoning_text: str | None = None
    tool_calls: list[dict[str, str]] | None = None
    finish_reason: str | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    total_tokens: int = 0
    cached_input_tokens: int = 0
    cache_write_tokens: int = 0
    reasoning_tokens: int = 0
    input_price_per_1m_tokens: Decimal | None = None
    output_price_per_1m_tokens: Decimal | None = None
    cached_input_price_per_1m_tokens: Decimal | None = None
    cache_write_price_per_1m_tokens: Decimal | None = None
    input_cost_usd: Decimal | None = None
    output_cost_usd: Decimal | None = None
    total_cost_usd: Decimal | None = None
    cost_unknown: bool = False
    latency_ms: int | None = None
    ttft_ms: int | None = None
    is_stream: bool = False
    error_message: str | None = None
    upstream_status: int | None = None
    http_status: int | None = None
    completed_at: datetime | None = None
    requested_model: str | None = None
    route_reason: str | None = None
    attempts: list[Attempt] | None = None
    estimated_cost_usd: Decimal | None = None
    default_cost_usd: Decimal | None = None
    tags: dict[str, str] | None = None
    end_user: str | None = None
    cache_status: str | None = None
    saved_cost_usd: Decimal | None = None
    experiment_id: uuid.UUID | None = None
    variant: str | None = None
    dropped_hints: list[str] | None = None
    cache_write_1h_tokens: int = 0
    cache_write_1h_price_per_1m_tokens: Decimal | None = None

    @classmethod
    def of(cls, values: dict[str, Any]) -> RequestRecord:
        """A record from a mapping of column values (a spilled line, a test's row);
        `created_at` defaults to now, as the ORM's does."""
        if "created_at" not in values:
            values = {**values, "created_at": _now()}
        return cls(**values)

    def as_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in FIELDS}


FIELDS: tuple[str, ...] = tuple(f.name for f in fields(RequestRecord))
