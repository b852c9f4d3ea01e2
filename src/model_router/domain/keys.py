"""`KeyInfo`: an API key as the request path knows it (who calls, and what
governance enforces for them)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class KeyInfo:
    id: uuid.UUID
    name: str
    prefix: str
    is_admin: bool
    is_active: bool
    owner: str | None = None
    allowed_models: tuple[str, ...] | None = None
    rpm_limit: int | None = None
    tpm_limit: int | None = None
    budget_usd: Decimal | None = None
    budget_period: str | None = None
    expires_at: datetime | None = None
    store_text: bool = True
    created_at: datetime | None = None
    key_hash: str = ""

    @property
    def governed(self) -> bool:
        """Whether anything is enforced per call for this key."""
        return bool(
            self.rpm_limit
            or self.tpm_limit
            or self.budget_usd is not None
            or self.allowed_models is not None
        )
