"""The Responses API's stored responses (issue 17): what `previous_response_id`,
`GET /v1/responses/{id}` and its `input_items` read."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from model_router.db.models import Base, utcnow
from model_router.db.types import UTCDateTime


class StoredResponse(Base):
    """One response as it was rendered (`response`, its output items included)
    and the full input items it answered (ids given to those sent without),
    owned by one key. Purged after `RESPONSES_RETENTION_DAYS`."""

    __tablename__ = "stored_responses"
    __table_args__ = (Index("ix_stored_responses_created_at", "created_at"),)

    id: Mapped[str] = mapped_column(String(80), primary_key=True)  # resp_<request id hex>
    key_id: Mapped[uuid.UUID] = mapped_column(index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    model: Mapped[str] = mapped_column(String(200))
    response: Mapped[Any] = mapped_column(JSON(none_as_null=True))
    input_items: Mapped[Any] = mapped_column(JSON(none_as_null=True))
