"""`GET /v1/analytics/requests/{id}`: one request-log row, in full, scoped.

A lookup by id reads only the partitions around the id's time: ids are
UUIDv7, made as the call starts, so a row's `created_at` is within
`ID_TIME_SLACK` of its id's time.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from model_router.db.models import Request
from model_router.db.records import RequestRecord
from model_router.schemas.analytics import RequestDetail

ID_TIME_SLACK = timedelta(days=1)
PendingLookup = Callable[[uuid.UUID], RequestRecord | None]


async def get_request(
    session: AsyncSession,
    scope: uuid.UUID | None,
    request_id: uuid.UUID,
    *,
    pending: PendingLookup | None = None,
) -> RequestDetail | None:
    """The whole row, or None if it does not exist or is outside `scope`.

    `pending` looks up rows the request log holds but has not written yet. It
    is asked first: a row leaves it only once committed, so no request can fall
    between the two."""
    if pending is not None and (held := pending(request_id)) is not None:
        detail = RequestDetail.model_validate(held, from_attributes=True)
        return detail if scope is None or detail.user_id == scope else None
    by_id = select(Request).where(
        Request.id == request_id, *([] if scope is None else [Request.user_id == scope])
    )
    window = id_window(request_id)
    row = await session.scalar(by_id.where(*window)) if window else None
    if row is None:  # not a UUIDv7, or a row whose time is not its id's: every partition
        row = await session.scalar(by_id)
    return None if row is None else RequestDetail.model_validate(row)


def id_window(request_id: uuid.UUID) -> list[ColumnElement[bool]]:
    """`created_at` bounds from a UUIDv7's time (none for other ids)."""
    if request_id.version != 7:
        return []
    moment = datetime.fromtimestamp((request_id.int >> 80) / 1000, UTC)
    return [
        Request.created_at >= moment - ID_TIME_SLACK,
        Request.created_at <= moment + ID_TIME_SLACK,
    ]
