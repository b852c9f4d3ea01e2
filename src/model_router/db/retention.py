"""Retention of the request log: whole rows, and prompt and response text.

Rows older than a cutoff go: on a partitioned PostgreSQL table by dropping the
months that end before it (db/partitions.py), elsewhere by deleting in small
batches, each its own short transaction, so that the request-log writer is
never held up for long (SQLite has one writer at a time).

Text older than a (shorter) cutoff is blanked: the prompt, messages, response,
reasoning and tool calls; tokens, costs and everything else stay.

The `usage_daily` rollup is never touched: it was summed when the rows were
written, so usage over days whose rows are gone stays exact. Cutoffs are whole
UTC days (`cutoff_for`), so a day's rows are either all kept or all gone.

Batches walk `created_at` upwards: a batch ends at the `created_at` of the
`batch`-th row past its start, found through the `created_at` index.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any

from sqlalchemy import delete, null, or_, select, update
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.sql.elements import ColumnElement

from model_router.db import partitions
from model_router.db.models import Request

BATCH_ROWS = 1000
_TICK = timedelta(microseconds=1)

_HAS_TEXT = or_(
    Request.prompt_text != "",
    Request.request_messages.is_not(None),
    Request.response_text.is_not(None),
    Request.reasoning_text.is_not(None),
    Request.tool_calls.is_not(None),
)
_NO_TEXT: dict[str, Any] = {
    "prompt_text": "",
    "request_messages": null(),
    "response_text": null(),
    "reasoning_text": null(),
    "tool_calls": null(),
}


@dataclass(frozen=True, slots=True)
class Expired:
    """What one pass removed: rows deleted, partitions dropped."""

    rows: int = 0
    partitions: tuple[str, ...] = ()


def cutoff_for(days: int, now: datetime) -> datetime:
    """The UTC midnight `days` days before `now`'s day: rows before it expire."""
    today = now.astimezone(UTC).date()
    return datetime.combine(today - timedelta(days=days), time.min, tzinfo=UTC)


async def _in_batches(
    engine: AsyncEngine,
    cutoff: datetime,
    since: datetime | None,
    batch: int,
    extra: list[ColumnElement[bool]],
    change: Any,
) -> int:
    """Apply `change` (a DELETE or UPDATE of requests) to the rows created in
    [since, cutoff) that match `extra`, a batch per transaction; rows changed."""
    done = 0
    lower = since
    while True:
        window = [Request.created_at < cutoff, *extra]
        if lower is not None:
            window.append(Request.created_at >= lower)
        async with engine.begin() as conn:
            boundary = await conn.scalar(
                select(Request.created_at)
                .where(*window)
                .order_by(Request.created_at)
                .offset(batch)
                .limit(1)
            )
            upper = cutoff if boundary is None else max(boundary, (lower or boundary) + _TICK)
            result = await conn.execute(change.where(*window, Request.created_at < upper))
            done += result.rowcount
        if boundary is None:
            return done
        lower = upper
        await asyncio.sleep(0)  # let the writer in between batches


async def expire_rows(engine: AsyncEngine, cutoff: datetime, *, batch: int = BATCH_ROWS) -> Expired:
    """Remove the request-log rows created before `cutoff`."""
    async with engine.begin() as conn:
        partitioned = await conn.run_sync(partitions.is_partitioned)
        if partitioned:
            dropped, deleted = await conn.run_sync(partitions.drop_before, cutoff)
            return Expired(rows=deleted, partitions=tuple(dropped))
    deleted = await _in_batches(engine, cutoff, None, batch, [], delete(Request))
    return Expired(rows=deleted)


async def expire_text(
    engine: AsyncEngine,
    cutoff: datetime,
    *,
    since: datetime | None = None,
    batch: int = BATCH_ROWS,
) -> int:
    """Blank the text of rows created in [since, cutoff); rows changed.

    `since` is where the previous pass stopped (None: from the oldest row)."""
    return await _in_batches(
        engine, cutoff, since, batch, [_HAS_TEXT], update(Request).values(_NO_TEXT)
    )
