"""Admin keys API bodies: what may be set on a key, validated once for the API
and the CLI (a bad value is a 422 naming the field, or a CLI usage error)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

MAX_BUDGET = Decimal("9000000")
Period = Literal["day", "month", "total"]
Pattern = Annotated[str, StringConstraints(min_length=1, max_length=200, strip_whitespace=True)]


class _Limits(BaseModel):
    model_config = ConfigDict(extra="forbid")

    owner: str | None = Field(default=None, max_length=200, description="Owner or team label.")
    allowed_models: list[Pattern] | None = Field(
        default=None,
        max_length=200,
        description="Model names or shell patterns ('gpt-4o*', 'anthropic/*'); null: any.",
    )
    rpm_limit: int | None = Field(default=None, ge=1, le=100_000_000)
    tpm_limit: int | None = Field(default=None, ge=1, le=2_000_000_000)
    budget_usd: Decimal | None = Field(
        default=None,
        ge=0,
        le=MAX_BUDGET,
        decimal_places=12,
        description="Decimal string or number; spend is counted exactly.",
    )
    budget_period: Period | None = None
    expires_at: datetime | None = Field(default=None, description="ISO time; naive means UTC.")
    metadata: dict[str, Any] | None = None
    store_text: bool | None = Field(
        default=None, description="False: this key's prompts and responses are not stored."
    )

    @field_validator("expires_at")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class KeyCreate(_Limits):
    name: str = Field(min_length=1, max_length=200)
    is_admin: bool = False


class KeyUpdate(_Limits):
    """PATCH: only the fields sent change; null clears a limit."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    is_admin: bool | None = None
