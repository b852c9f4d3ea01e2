"""Cost grouped and filtered by the caller's tags, by key, by end user (issue 6).

Tags are a JSON object on the request row; `Request.tags[name].as_string()`
is `json_extract` on SQLite and `->>` on PostgreSQL, so both group alike.
Grouped by key, by model or by one tag (unfiltered), the sums come from the
rollups (db/rollup.py, db/tag_rollup.py): exact, and fast at any size; the
rest reads the request log.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

from sqlalchemy import BigInteger, case, cast, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from model_router.db import rollup, tag_rollup
from model_router.db.models import Request, User
from model_router.schemas.analytics import CostBreakdown, CostGroup


def tag_condition(tag: str) -> ColumnElement[bool]:
    """`name=value`: that value; `name`: the tag is present."""
    name, has_value, value = tag.partition("=")
    column: ColumnElement[str] = Request.tags[name.strip()].as_string()
    return column == value.strip() if has_value else column.is_not(None)


def _group_column(group_by: str) -> ColumnElement[Any]:
    columns: dict[str, ColumnElement[Any]] = {
        "key": Request.__table__.c.user_id,
        "end_user": Request.__table__.c.end_user,
        "model": Request.__table__.c.model,
    }
    found = columns.get(group_by)
    if found is not None:
        return found
    tag: ColumnElement[Any] = Request.tags[group_by.removeprefix("tag:")].as_string()
    return tag


async def cost_breakdown(
    session: AsyncSession,
    scope: uuid.UUID | None,
    *,
    group_by: str,
    days: int,
    tags: list[str],
    model: str | None = None,
) -> CostBreakdown:
    end = datetime.now(UTC).date()
    start = end - timedelta(days=days - 1)
    if group_by in ("key", "model") and not tags:
        rows = await _rollup_groups(session, scope, group_by, start, model)
    elif group_by.startswith("tag:") and not tags and model is None:
        rows = await tag_rollup.cost_groups(
            await session.connection(), scope, group_by.removeprefix("tag:"), start
        )
    else:
        rows = await _log_groups(session, scope, group_by, start, tags, model)
    names: dict[Any, str] = {}
    if group_by == "key" and rows:
        ids = [r.grp for r in rows if r.grp is not None]
        found = await session.execute(select(User.id, User.name).where(User.id.in_(ids)))
        names = {row[0]: row[1] for row in found}
    zero = Decimal(0)
    groups = [
        CostGroup(
            group=None if r.grp is None else str(r.grp),
            key_name=names.get(r.grp),
            requests=r.requests,
            total_tokens=int(r.tokens or 0),
            total_cost_usd=r.cost if r.cost is not None else zero,
            requests_with_unknown_cost=int(r.unknown or 0),
        )
        for r in rows
    ]
    groups.sort(key=lambda g: (-g.total_cost_usd, g.group or ""))
    return CostBreakdown(
        group_by=group_by,
        start_date=start,
        end_date=end,
        total_cost_usd=sum((g.total_cost_usd for g in groups), zero),
        groups=groups,
    )


async def _rollup_groups(
    session: AsyncSession, scope: uuid.UUID | None, group_by: str, start: date, model: str | None
) -> list[Any]:
    """By key or model: summed from the `usage_daily` rollup (a few rows a day,
    and exact for days whose rows retention removed)."""
    c = rollup.TABLE.c
    column = c.user_id if group_by == "key" else c.model
    query = (
        select(
            column.label("grp"),
            cast(func.sum(c.requests), BigInteger).label("requests"),
            cast(func.sum(c.total_tokens), BigInteger).label("tokens"),
            func.sum(c.cost_usd).label("cost"),
            cast(func.sum(c.unknown_cost), BigInteger).label("unknown"),
        )
        .where(c.day >= start)
        .group_by(column)
    )
    if scope is not None:
        query = query.where(c.user_id == scope)
    if model is not None:
        query = query.where(c.model == model)
    rows = (await session.execute(query)).all()
    if group_by != "key":
        return list(rows)
    return [
        SimpleNamespace(**(row._asdict() | {"grp": None if row.grp == rollup.NO_KEY else row.grp}))
        for row in rows
    ]


async def _log_groups(
    session: AsyncSession,
    scope: uuid.UUID | None,
    group_by: str,
    start: date,
    tags: list[str],
    model: str | None,
) -> list[Any]:
    """By tag or end user (or filtered by tags): grouped over the request log."""
    column = _group_column(group_by).label("grp")
    unknown = or_(
        Request.cost_unknown,
        (Request.status == "success") & Request.total_cost_usd.is_(None),
    )
    conditions: list[ColumnElement[bool]] = [
        Request.created_at >= datetime.combine(start, datetime.min.time(), tzinfo=UTC)
    ]
    if scope is not None:
        conditions.append(Request.user_id == scope)
    if model is not None:
        conditions.append(Request.model == model)
    conditions.extend(tag_condition(t) for t in tags)
    query = (
        select(
            column,
            func.count().label("requests"),
            func.coalesce(func.sum(Request.total_tokens), 0).label("tokens"),
            func.sum(Request.total_cost_usd).label("cost"),
            func.sum(case((unknown, 1), else_=0)).label("unknown"),
        )
        .where(*conditions)
        .group_by(column)
    )
    return list((await session.execute(query)).all())
