"""`usage_daily_tags`: the request log's cost summed per (UTC day, key, tag, value).

`/v1/analytics/costs?group_by=tag:NAME` answers from this table instead of
reading every row's tags: a month of a busy log is millions of rows, and their
tags are JSON that no index helps group. Like `usage_daily` (db/rollup.py) it
is written by the request-log writer in the same transaction as the rows it
sums (`add_rows`, only rows actually inserted), rebuilt from the log after
bulk loads (`rebuild`), and never touched by retention, so the totals of days
whose rows were deleted stay exact.

A row with tags `{"team": "search", "env": "prod"}` adds to two groups, one per
tag. The rows without the tag (the answer's `null` group) are not stored: they
are the key's whole usage (`usage_daily`) minus the tag's groups.

Only sums live here: the cost breakdown filtered by tags or by model, or
grouped by end user, still reads the request log. The request list filtered
by a tag asks it (`span`) which days hold the tag, and how many rows: its
rows are then read from those days only, and counted without reading them
when the tag is the only filter the usage rollup cannot count.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

from sqlalchemy import BigInteger, Integer, String, Table, cast, delete, func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.orm import Mapped, mapped_column

from model_router.db import rollup
from model_router.db.models import Base
from model_router.db.records import RequestRecord
from model_router.db.types import Money

ZERO = Decimal(0)


class UsageDailyTag(Base):
    __tablename__ = "usage_daily_tags"

    day: Mapped[date] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(200), primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    requests: Mapped[int] = mapped_column(Integer, default=0)
    successful: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    total_tokens: Mapped[int] = mapped_column(BigInteger, default=0)
    cost_usd: Mapped[Decimal] = mapped_column(Money(), default=ZERO)  # of the rows with a cost
    unknown_cost: Mapped[int] = mapped_column(Integer, default=0)


TABLE: Table = UsageDailyTag.__table__  # type: ignore[assignment]
KEY = ("day", "name", "value", "user_id")
COUNTS = ("requests", "successful", "total_tokens", "cost_usd", "unknown_cost")


def tally(rows: Iterable[RequestRecord]) -> list[dict[str, Any]]:
    """The rows' sums per (day, tag, value, key): what `add_rows` adds."""
    groups: dict[tuple[date, str, str, uuid.UUID], dict[str, Any]] = {}
    for row in rows:
        tags = row.tags
        if not tags or not isinstance(tags, dict):
            continue
        day, user = rollup.day_of(row.created_at), row.user_id or rollup.NO_KEY
        for name, value in tags.items():
            key = (day, str(name), str(value), user)
            group = groups.get(key)
            if group is None:
                group = groups[key] = dict(zip(KEY, key, strict=True))
                group.update(
                    requests=0, successful=0, total_tokens=0, cost_usd=ZERO, unknown_cost=0
                )
            group["requests"] += 1
            group["successful"] += row.status == "success"
            group["total_tokens"] += row.total_tokens or 0
            group["cost_usd"] += row.total_cost_usd or ZERO
            group["unknown_cost"] += rollup.is_unknown_cost(row)
    return [groups[key] for key in sorted(groups)]  # in key order: see `rollup.add_rows`


async def add_rows(conn: AsyncConnection, rows: Sequence[RequestRecord]) -> None:
    """Add the sums of freshly inserted request-log rows; call in their transaction."""
    groups = tally(rows)
    if groups:
        await conn.execute(rollup.upsert(conn.dialect.name, TABLE, KEY, COUNTS), groups)


def rebuild_sql(dialect: str, *, successful: bool = True) -> str:
    """INSERT INTO usage_daily_tags SELECT <sums> FROM requests x their tags, from
    `since` (without `successful`: the table as migration 0013 made it)."""
    unknown = (
        "requests.cost_unknown OR (requests.status = 'success' AND requests.total_cost_usd IS NULL)"
    )
    no_key = rollup.uuid_literal(dialect)
    if dialect == "postgresql":
        day = "(requests.created_at AT TIME ZONE 'UTC')::date"
        each = "json_each_text(requests.tags) AS tag(key, value)"
        value = "tag.value"
        objects = "json_typeof(requests.tags) = 'object'"
    else:
        day = "date(requests.created_at)"
        each = "json_each(requests.tags) AS tag"
        value = "CAST(tag.value AS TEXT)"
        objects = "json_type(requests.tags) = 'object'"
    counts = COUNTS if successful else tuple(c for c in COUNTS if c != "successful")
    succeeded = "sum(CASE WHEN requests.status = 'success' THEN 1 ELSE 0 END), " * successful
    return (
        f"INSERT INTO usage_daily_tags ({', '.join(KEY + counts)}) "
        f"SELECT {day}, tag.key, {value}, coalesce(requests.user_id, '{no_key}'), count(*), "
        f"{succeeded}"
        "coalesce(sum(requests.total_tokens), 0), coalesce(sum(requests.total_cost_usd), 0), "
        f"sum(CASE WHEN {unknown} THEN 1 ELSE 0 END) "
        f"FROM requests, {each} "
        f"WHERE requests.tags IS NOT NULL AND {objects} AND requests.created_at >= :since "
        f"GROUP BY {day}, tag.key, {value}, coalesce(requests.user_id, '{no_key}')"
    )


def since(dialect: str, oldest: date) -> dict[str, Any]:
    """`rebuild_sql`'s parameters for the days from `oldest` on."""
    moment = rollup.midnight(oldest)
    if dialect != "postgresql":  # SQLAlchemy's SQLite DATETIME text
        return {"since": moment.replace(tzinfo=None).isoformat(" ")}
    return {"since": moment}


async def rebuild(conn: AsyncConnection, oldest: date) -> None:
    """Recompute the days from `oldest` (the log's oldest row's) on from the log;
    earlier days keep their sums (retention removed their rows)."""
    await conn.execute(delete(TABLE).where(TABLE.c.day >= oldest))
    dialect = conn.dialect.name
    await conn.execute(text(rebuild_sql(dialect)), since(dialect, oldest))


@dataclass(frozen=True, slots=True)
class TagSpan:
    """The rows carrying a tag filter's tag, as summed here: how many, and on
    which days (the first and the last; None when there are none)."""

    rows: int
    first: date | None
    last: date | None


async def span(
    conn: AsyncConnection,
    scope: uuid.UUID | None,
    tag: str,
    *,
    start: date | None,
    end: date | None,
    status: str | None = None,
) -> TagSpan:
    """The rows of the whole days `start`..`end` (None: unbounded) that carry
    `tag` (NAME: any value, NAME=VALUE: that value), for one key or every key,
    with `status` (None: either)."""
    name, has_value, value = tag.partition("=")
    c = TABLE.c
    counted = {"success": c.successful, "error": c.requests - c.successful}.get(
        status or "", c.requests
    )
    total = func.coalesce(cast(func.sum(counted), BigInteger), 0)
    query = select(total, func.min(c.day), func.max(c.day)).where(c.name == name.strip())
    if has_value:
        query = query.where(c.value == value.strip())
    if scope is not None:
        query = query.where(c.user_id == scope)
    if start is not None:
        query = query.where(c.day >= start)
    if end is not None:
        query = query.where(c.day <= end)
    rows, first, last = (await conn.execute(query)).one()
    return TagSpan(int(rows), first, last)


async def cost_groups(
    conn: AsyncConnection,
    scope: uuid.UUID | None,
    name: str,
    start: date,
) -> list[Any]:
    """(grp, requests, tokens, cost, unknown) per value of tag `name` from `start`
    on, and a `grp` None row for the rows without it (from `usage_daily`)."""
    c = TABLE.c
    sums = (
        cast(func.sum(c.requests), BigInteger).label("requests"),
        cast(func.sum(c.total_tokens), BigInteger).label("tokens"),
        func.sum(c.cost_usd).label("cost"),
        cast(func.sum(c.unknown_cost), BigInteger).label("unknown"),
    )
    query = (
        select(c.value.label("grp"), *sums).where(c.day >= start, c.name == name).group_by(c.value)
    )
    if scope is not None:
        query = query.where(c.user_id == scope)
    tagged = list((await conn.execute(query)).all())
    whole = await rollup.cost_totals(conn, scope, start)
    rest = SimpleNamespace(
        grp=None,
        requests=whole.requests - sum(g.requests for g in tagged),
        tokens=whole.tokens - sum(g.tokens for g in tagged),
        cost=whole.cost - sum((g.cost or ZERO for g in tagged), ZERO),
        unknown=whole.unknown - sum(g.unknown for g in tagged),
    )
    return [*tagged, rest] if rest.requests else tagged
