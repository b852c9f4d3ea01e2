"""`usage_daily`: the request log summed per (UTC day, key, model, provider).

The usage API answers from this table instead of scanning the request log: a
30-day summary over a million rows reads a few hundred rollup rows rather than
a third of a million request rows. It is kept exact by construction: the
request-log writer adds each batch's sums in the same transaction as the
batch's rows (`add_rows`), counting only rows actually inserted, and bulk
loads (demo data, migrations) rebuild it from the rows (`rebuild`).

Only sums and counts live here, so any window of whole UTC days, scoped to a
key or not, is a plain SUM over rollup rows. Anything finer (an hour window,
a tag, a search) still reads the request log.
"""

from __future__ import annotations

import functools
import importlib
import uuid
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, time
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

from sqlalchemy import (
    BigInteger,
    Date,
    Integer,
    String,
    Table,
    case,
    cast,
    delete,
    func,
    literal_column,
    select,
    type_coerce,
)
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.sql.elements import ColumnElement

from model_router.db.models import Base, Request
from model_router.db.records import RequestRecord
from model_router.db.types import Money

NO_KEY = uuid.UUID(int=0)  # stands for a row without a key (primary keys cannot be NULL)
ZERO = Decimal(0)


class UsageDaily(Base):
    __tablename__ = "usage_daily"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    model: Mapped[str] = mapped_column(String(200), primary_key=True)
    provider: Mapped[str] = mapped_column(String(100), primary_key=True)  # "" for none
    requests: Mapped[int] = mapped_column(Integer, default=0)
    successful: Mapped[int] = mapped_column(Integer, default=0)
    input_tokens: Mapped[int] = mapped_column(BigInteger, default=0)
    output_tokens: Mapped[int] = mapped_column(BigInteger, default=0)
    total_tokens: Mapped[int] = mapped_column(BigInteger, default=0)
    cached_input_tokens: Mapped[int] = mapped_column(BigInteger, default=0)
    reasoning_tokens: Mapped[int] = mapped_column(BigInteger, default=0)
    cost_usd: Mapped[Decimal] = mapped_column(Money(), default=ZERO)  # of the rows with a cost
    latency_sum: Mapped[int] = mapped_column(BigInteger, default=0)
    latency_count: Mapped[int] = mapped_column(Integer, default=0)
    unknown_cost: Mapped[int] = mapped_column(Integer, default=0)
    # The response cache: lookups (rows with a cache status), hits, the cost hits saved.
    cache_lookups: Mapped[int] = mapped_column(Integer, default=0)
    cache_hits: Mapped[int] = mapped_column(Integer, default=0)
    cache_saved_usd: Mapped[Decimal] = mapped_column(Money(), default=ZERO)
    # Routing: successful calls with a default model's cost, that cost, and the actual one.
    routed: Mapped[int] = mapped_column(Integer, default=0)
    routed_default_usd: Mapped[Decimal] = mapped_column(Money(), default=ZERO)
    routed_actual_usd: Mapped[Decimal] = mapped_column(Money(), default=ZERO)


KEY = ("day", "user_id", "model", "provider")
COUNTS = (
    "requests",
    "successful",
    "input_tokens",
    "output_tokens",
    "total_tokens",
    "cached_input_tokens",
    "reasoning_tokens",
    "cost_usd",
    "latency_sum",
    "latency_count",
    "unknown_cost",
    "cache_lookups",
    "cache_hits",
    "cache_saved_usd",
    "routed",
    "routed_default_usd",
    "routed_actual_usd",
)
MONEY = ("cost_usd", "cache_saved_usd", "routed_default_usd", "routed_actual_usd")
CACHE_HITS = ("hit", "semantic_hit")
INTEGERS = tuple(name for name in COUNTS if name not in MONEY)
SUMS = INTEGERS + MONEY  # the order of the usage queries' sums
TABLE: Table = UsageDaily.__table__  # type: ignore[assignment]

# The same sums without the key: per (day, model, provider), for the questions about
# every key (a year of usage read ~10^5 keyed rows; this level holds ~10^3).
# Kept by the same upserts and rebuilds as `usage_daily`; backfilled by migration 0012.
ALL_KEY = ("day", "model", "provider")
ALL_TABLE = Table(
    "usage_daily_all",
    Base.metadata,
    *(TABLE.c[name]._copy() for name in ALL_KEY + COUNTS),
)


def midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def day_of(moment: datetime) -> date:
    return (moment if moment.tzinfo is None else moment.astimezone(UTC)).date()


def is_unknown_cost(row: RequestRecord) -> bool:
    """No price for the model, or a successful call that got no cost."""
    return bool(row.cost_unknown) or (row.status == "success" and row.total_cost_usd is None)


def is_routed(row: RequestRecord) -> bool:
    """A successful call priced against the default model it was routed away from."""
    return (
        row.status == "success"
        and row.default_cost_usd is not None
        and row.total_cost_usd is not None
    )


def tally(rows: Iterable[RequestRecord]) -> list[dict[str, Any]]:
    """Request-log rows summed per rollup key: what `add_rows` adds."""
    groups: dict[tuple[date, uuid.UUID, str, str], dict[str, Any]] = {}
    for row in rows:
        key = (
            day_of(row.created_at),
            row.user_id or NO_KEY,
            row.model,
            row.provider or "",
        )
        group: dict[str, Any] | None = groups.get(key)
        if group is None:
            group = dict(zip(KEY, key, strict=True))
            group.update(dict.fromkeys(COUNTS, 0))
            group.update(dict.fromkeys(MONEY, ZERO))
            groups[key] = group
        latency = row.latency_ms
        group["requests"] += 1
        group["successful"] += row.status == "success"
        for name in (
            "input_tokens",
            "output_tokens",
            "total_tokens",
            "cached_input_tokens",
            "reasoning_tokens",
        ):
            group[name] += getattr(row, name) or 0
        group["cost_usd"] += row.total_cost_usd or ZERO
        group["latency_sum"] += latency or 0
        group["latency_count"] += latency is not None
        group["unknown_cost"] += is_unknown_cost(row)
        cache_status = row.cache_status
        if cache_status is not None:
            group["cache_lookups"] += 1
            if cache_status in CACHE_HITS:
                group["cache_hits"] += 1
                group["cache_saved_usd"] += row.saved_cost_usd or ZERO
        if is_routed(row):
            group["routed"] += 1
            group["routed_default_usd"] += row.default_cost_usd
            group["routed_actual_usd"] += row.total_cost_usd
    return [groups[key] for key in sorted(groups)]  # in key order: see `add_rows`


def without_key(groups: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """`tally`'s groups summed over the keys: the rows of `usage_daily_all`."""
    merged: dict[tuple[Any, ...], dict[str, Any]] = {}
    for group in groups:
        at = tuple(group[name] for name in ALL_KEY)
        into = merged.get(at)
        if into is None:
            merged[at] = {name: group[name] for name in ALL_KEY + COUNTS}
        else:
            for name in COUNTS:
                into[name] += group[name]
    return [merged[at] for at in sorted(merged)]


@functools.cache
def upsert(dialect: str, table: Table, key: tuple[str, ...], counts: tuple[str, ...]) -> Any:
    """INSERT ... ON CONFLICT (key) DO UPDATE SET n = n + excluded.n, on both backends."""
    # The dialect's module only: PostgreSQL's costs a SQLite worker 40 ms and 2 MB.
    module: Any = importlib.import_module(f"sqlalchemy.dialects.{dialect}")
    stmt = module.insert(table)
    return stmt.on_conflict_do_update(
        index_elements=list(key),
        set_={name: table.c[name] + stmt.excluded[name] for name in counts},
    )


async def add_rows(conn: AsyncConnection, rows: Sequence[RequestRecord]) -> None:
    """Add the sums of freshly inserted request-log rows; call in their transaction.

    Two writers' transactions may add to the same rollup rows at once (the request
    log writes two batches at a time on PostgreSQL): each locks the rows of
    `usage_daily`, then `usage_daily_all`, then `usage_daily_tags`, each table's in
    key order, so one may wait for the other's commit but never both for each other.
    """
    groups = tally(rows)
    if groups:
        dialect = conn.dialect.name
        await conn.execute(upsert(dialect, TABLE, KEY, COUNTS), groups)
        await conn.execute(upsert(dialect, ALL_TABLE, ALL_KEY, COUNTS), without_key(groups))
    from model_router.db import tag_rollup  # it builds on this module: imported here

    await tag_rollup.add_rows(conn, rows)


def day_expr(dialect: str) -> ColumnElement[date]:
    if dialect == "postgresql":
        return cast(func.timezone(literal_column("'UTC'"), Request.created_at), Date)
    return type_coerce(func.date(Request.created_at), Date)


def _sum_if(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.sum(case((condition, 1), else_=0))


def rebuild_statement(dialect: str, table: Table = TABLE) -> Any:
    """INSERT INTO usage_daily (or `table`: usage_daily_all) SELECT <the sums>
    FROM requests GROUP BY <the key>."""
    day = day_expr(dialect)
    keyed = table is TABLE
    user = func.coalesce(Request.user_id, literal_column(f"'{uuid_literal(dialect)}'"))
    provider = func.coalesce(Request.provider, "")
    success = Request.status == "success"
    unknown = Request.cost_unknown | (success & Request.total_cost_usd.is_(None))
    hit = Request.cache_status.in_(CACHE_HITS)
    routed = success & Request.default_cost_usd.is_not(None) & Request.total_cost_usd.is_not(None)
    query = select(
        day,
        *([user] if keyed else []),
        Request.model,
        provider,
        func.count(),
        _sum_if(success),
        func.coalesce(func.sum(Request.input_tokens), 0),
        func.coalesce(func.sum(Request.output_tokens), 0),
        func.coalesce(func.sum(Request.total_tokens), 0),
        func.coalesce(func.sum(Request.cached_input_tokens), 0),
        func.coalesce(func.sum(Request.reasoning_tokens), 0),
        func.coalesce(func.sum(Request.total_cost_usd), 0),
        func.coalesce(func.sum(Request.latency_ms), 0),
        func.count(Request.latency_ms),
        _sum_if(unknown),
        func.count(Request.cache_status),
        _sum_if(hit),
        func.coalesce(func.sum(case((hit, Request.saved_cost_usd))), 0),
        _sum_if(routed),
        func.coalesce(func.sum(case((routed, Request.default_cost_usd))), 0),
        func.coalesce(func.sum(case((routed, Request.total_cost_usd))), 0),
    ).group_by(day, *([user] if keyed else []), Request.model, provider)
    return table.insert().from_select([*(KEY if keyed else ALL_KEY), *COUNTS], query)


def uuid_literal(dialect: str) -> str:
    # SQLAlchemy's Uuid stores 32 hex digits on SQLite and a uuid on PostgreSQL.
    return str(NO_KEY) if dialect == "postgresql" else NO_KEY.hex


async def rebuild(conn: AsyncConnection) -> None:
    """Recompute the rollup from the request log (after a bulk load).

    Days before the log's oldest row keep their sums: retention deleted their
    rows (whole UTC days, db/retention.py), and the rollup is all that is left
    of them."""
    oldest = await conn.scalar(select(func.min(day_expr(conn.dialect.name))))
    if oldest is None:  # no rows: nothing to recompute, and history stays
        return
    for table in (TABLE, ALL_TABLE):
        await conn.execute(delete(table).where(table.c.day >= oldest))
        await conn.execute(rebuild_statement(conn.dialect.name, table))
    from model_router.db import tag_rollup  # it builds on this module: imported here

    await tag_rollup.rebuild(conn, oldest)


async def _sums(
    conn: AsyncConnection,
    scope: uuid.UUID | None,
    start: date,
    end: date,
    keys: Sequence[str],
) -> list[Any]:
    """The sums (`SUMS`) for the whole UTC days start..end, grouped by the columns
    `keys`; `provider` reads None where no provider answered. Every key's: from
    `usage_daily_all`."""
    c = (TABLE if scope is not None else ALL_TABLE).c
    shown = [
        func.nullif(c.provider, literal_column("''")).label("provider")
        if key == "provider"
        else c[key]
        for key in keys
    ]
    query = (
        select(
            *shown,
            # PostgreSQL sums integers as NUMERIC: back to integers.
            *(cast(func.sum(c[name]), BigInteger).label(name) for name in INTEGERS),
            *(func.sum(c[name]).label(name) for name in MONEY),
        )
        .where(c.day >= start, c.day <= end)
        .group_by(*(c[key] for key in keys))
    )
    if scope is not None:
        query = query.where(c.user_id == scope)
    return list(await conn.execute(query))


async def usage_groups(
    conn: AsyncConnection, scope: uuid.UUID | None, start: date, end: date
) -> list[Any]:
    """Sums per (day, model, provider) for the whole UTC days start..end."""
    return await _sums(conn, scope, start, end, ["day", "model", "provider"])


async def usage_by_day(
    conn: AsyncConnection, scope: uuid.UUID | None, start: date, end: date
) -> list[Any]:
    """Sums per day: (day, *SUMS) rows, one per day with requests."""
    return await _sums(conn, scope, start, end, ["day"])


async def usage_by_model(
    conn: AsyncConnection, scope: uuid.UUID | None, start: date, end: date
) -> list[Any]:
    """Sums per (model, provider): a few dozen rows however long the window."""
    return await _sums(conn, scope, start, end, ["model", "provider"])


async def count_rows(
    conn: AsyncConnection,
    scope: uuid.UUID | None,
    *,
    start: date,
    end: date | None = None,
    model: str | None = None,
    status: str | None = None,
) -> int:
    """How many request-log rows of the whole UTC days start..end (None: onwards)
    the key, model and status filters match: the request list's total without
    counting millions of rows. `start` must not be before the log's oldest
    row's day (the rollup keeps days whose rows retention removed)."""
    c = (TABLE if scope is not None else ALL_TABLE).c
    counted = {"success": c.successful, "error": c.requests - c.successful}.get(
        status or "", c.requests
    )
    query = select(func.coalesce(cast(func.sum(counted), BigInteger), 0)).where(c.day >= start)
    if end is not None:
        query = query.where(c.day <= end)
    if scope is not None:
        query = query.where(c.user_id == scope)
    if model is not None:
        query = query.where(c.model == model)
    return int(await conn.scalar(query) or 0)


async def cost_totals(conn: AsyncConnection, scope: uuid.UUID | None, start: date) -> Any:
    """(requests, tokens, cost, unknown) of the days from `start` on, for one key
    or every key."""
    c = (TABLE if scope is not None else ALL_TABLE).c
    query = select(
        func.coalesce(cast(func.sum(c.requests), BigInteger), 0).label("requests"),
        func.coalesce(cast(func.sum(c.total_tokens), BigInteger), 0).label("tokens"),
        func.sum(c.cost_usd).label("cost"),
        func.coalesce(cast(func.sum(c.unknown_cost), BigInteger), 0).label("unknown"),
    ).where(c.day >= start)
    if scope is not None:
        query = query.where(c.user_id == scope)
    row = (await conn.execute(query)).one()
    return SimpleNamespace(
        requests=row.requests, tokens=row.tokens, cost=row.cost or ZERO, unknown=row.unknown
    )
