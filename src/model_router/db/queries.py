"""Analytics queries over the request log, typed and scoped.

Every function takes an `AsyncSession` and a `scope`: the user id a normal key
is limited to, or None for an admin key (every row). The database aggregates;
Python only folds grouped rows (`usage_summary` scans the window once, grouped
by UTC day, model and provider, and folds totals and each level from those
groups), never the table's rows. Every query filters on `created_at` (and
`user_id`, `model`, `status` when given) so the composite indexes apply.

Money sums stay exact: `SUM` over a `Money` column comes back through the
type's result processor as `Decimal` on both backends (on SQLite it is an
integer sum of 10^-12 USD units). An empty sum is `Decimal(0)`; an average over
no values is None.
"""

from __future__ import annotations

import operator
import uuid
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from types import SimpleNamespace
from typing import Any, Literal

from sqlalchemy import (
    Date,
    and_,
    case,
    cast,
    false,
    func,
    literal_column,
    or_,
    select,
    text,
    type_coerce,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from model_router.db import rollup, search, tag_rollup
from model_router.db.cost_queries import tag_condition
from model_router.db.models import Request
from model_router.db.request_order import RequestSort, key_condition, order_by, walk_sort_index
from model_router.schemas.analytics import (
    DailyStats,
    ModelUsage,
    ProviderUsage,
    RequestPage,
    RequestSummary,
    UsageResponse,
)

ZERO = Decimal(0)
PREVIEW_CHARS = 200
# A text search counts its matches up to this many; past it the total is flagged an estimate.
SEARCH_COUNT_CAP = 10_000
SEARCH_WORK_MEM = "32MB"  # PostgreSQL: a search's bitmaps stay exact (see list_requests)

Status = Literal["success", "error"]


@dataclass(frozen=True, slots=True)
class RequestFilter:
    """Filters for `list_requests`; None means "any".

    `start` and `end` are both inclusive. A date stands for a whole UTC day: as
    `start`, from its 00:00; as `end`, up to the end of that day.
    """

    model: str | None = None
    status: Status | None = None
    # A case-insensitive substring of the prompt's first or last 2,000 characters
    # (db/search.py), taken literally.
    search: str | None = None
    start: date | datetime | None = None
    end: date | datetime | None = None
    tags: tuple[str, ...] = ()  # NAME (present) or NAME=VALUE; every one must match
    front_door: str | None = None  # the API the call came through: chat_completions, ...


# --- building blocks -------------------------------------------------------------

_SUCCESS = Request.status == "success"
# Cost unknown: no price for the model, or a successful call that got no cost.
_UNKNOWN_COST = or_(Request.cost_unknown, and_(_SUCCESS, Request.total_cost_usd.is_(None)))


def _count_if(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.sum(case((condition, 1), else_=0))


def _scoped(scope: uuid.UUID | None) -> list[ColumnElement[bool]]:
    return [] if scope is None else [Request.user_id == scope]


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def _as_utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _window(
    start: date | datetime | None, end: date | datetime | None
) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if isinstance(start, datetime):
        conditions.append(Request.created_at >= _as_utc(start))
    elif start is not None:
        conditions.append(Request.created_at >= _midnight(start))
    if isinstance(end, datetime):
        conditions.append(Request.created_at <= _as_utc(end))
    elif end is not None and end < date.max:
        conditions.append(Request.created_at < _midnight(end + timedelta(days=1)))
    return conditions


def _day_bucket(session: AsyncSession) -> ColumnElement[date]:
    """The UTC calendar day of `created_at`, as a `date` on both backends."""
    if session.get_bind().dialect.name == "postgresql":
        # A literal, not a bound parameter, so that GROUP BY matches the SELECT.
        return cast(func.timezone(literal_column("'UTC'"), Request.created_at), Date)
    # SQLite stores UTC as 'YYYY-MM-DD HH:MM:SS.ffffff'; Date parses the result.
    return type_coerce(func.date(Request.created_at), Date)


def _money(value: Decimal | None) -> Decimal:
    return ZERO if value is None else value


# --- GET /v1/analytics/usage -------------------------------------------------------


@dataclass(slots=True)
class _Tally:
    """Running sums over grouped rollup rows (never over the request log's rows),
    or over other tallies: the fields are the rollup's."""

    requests: int = 0
    successful: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    total_tokens: int = 0
    cached_input_tokens: int = 0
    reasoning_tokens: int = 0
    cost_usd: Decimal = ZERO
    latency_sum: int = 0
    latency_count: int = 0
    unknown_cost: int = 0
    cache_lookups: int = 0
    cache_hits: int = 0
    cache_saved_usd: Decimal = ZERO
    routed: int = 0
    routed_default_usd: Decimal = ZERO
    routed_actual_usd: Decimal = ZERO

    def add(self, group: Any) -> None:
        self.requests += group.requests
        self.successful += group.successful
        self.input_tokens += group.input_tokens
        self.output_tokens += group.output_tokens
        self.total_tokens += group.total_tokens
        self.cached_input_tokens += group.cached_input_tokens
        self.reasoning_tokens += group.reasoning_tokens
        self.cost_usd += _money(group.cost_usd)
        self.latency_sum += group.latency_sum or 0
        self.latency_count += group.latency_count
        self.unknown_cost += group.unknown_cost
        self.cache_lookups += group.cache_lookups
        self.cache_hits += group.cache_hits
        self.cache_saved_usd += _money(group.cache_saved_usd)
        self.routed += group.routed
        self.routed_default_usd += _money(group.routed_default_usd)
        self.routed_actual_usd += _money(group.routed_actual_usd)

    @property
    def average_latency_ms(self) -> float | None:
        return round(self.latency_sum / self.latency_count, 2) if self.latency_count else None


async def usage_summary(
    session: AsyncSession, scope: uuid.UUID | None, *, days: int, today: date | None = None
) -> UsageResponse:
    """Totals, per model, per provider and per day for `today` (UTC) and the
    `days - 1` days before it; `daily_stats` has every day, zero-filled.

    Read from the `usage_daily` rollup (db/rollup.py), which holds the request
    log's sums per (day, key, model, provider): a 30-day summary reads a few
    hundred rollup rows however many requests there were. Totals and each
    level are folded from the (day, model, provider) groups."""
    if days < 1:
        raise ValueError("days must be at least 1")
    end = today or datetime.now(UTC).date()
    start = end - timedelta(days=days - 1)
    conn = await session.connection()
    # Two small answers (a row per day, a row per model) rather than a row per
    # (day, model): a year is ~400 rows to read, not ~10^4.
    day_rows = await rollup.usage_by_day(conn, scope, start, end)
    model_rows = await rollup.usage_by_model(conn, scope, start, end)
    by_day = {day: _tally(values) for day, *values in day_rows}
    by_model = {(model, provider): _tally(values) for model, provider, *values in model_rows}
    provider_sums: dict[str | None, list[Any]] = {}
    for _, provider, *values in model_rows:
        _fold(provider_sums, provider, values)
    by_provider = {key: _tally(values) for key, values in provider_sums.items()}
    total_sums: dict[None, list[Any]] = {}
    for _, *values in day_rows:
        _fold(total_sums, None, values)
    total = _tally(total_sums.get(None))

    return UsageResponse(
        period_days=days,
        start_date=start,
        end_date=end,
        total_requests=total.requests,
        successful_requests=total.successful,
        failed_requests=total.requests - total.successful,
        success_rate=round(total.successful / total.requests, 4) if total.requests else 0.0,
        success_rate_percent=round(100 * total.successful / total.requests, 2)
        if total.requests
        else 0.0,
        total_input_tokens=total.input_tokens,
        total_output_tokens=total.output_tokens,
        total_tokens=total.total_tokens,
        cached_input_tokens=total.cached_input_tokens,
        reasoning_tokens=total.reasoning_tokens,
        total_cost_usd=total.cost_usd,
        average_latency_ms=total.average_latency_ms,
        requests_with_unknown_cost=total.unknown_cost,
        by_model=[
            ModelUsage(
                model=model,
                provider=provider,
                requests=t.requests,
                input_tokens=t.input_tokens,
                output_tokens=t.output_tokens,
                total_cost_usd=t.cost_usd,
                average_latency_ms=t.average_latency_ms,
            )
            for (model, provider), t in sorted(
                by_model.items(), key=lambda kv: (-kv[1].requests, kv[0][0], kv[0][1] or "")
            )
        ],
        by_provider=[
            ProviderUsage(provider=provider, requests=t.requests, total_cost_usd=t.cost_usd)
            for provider, t in sorted(
                by_provider.items(), key=lambda kv: (-kv[1].requests, kv[0] or "")
            )
        ],
        daily_stats=[
            _daily(current, by_day.get(current) or _Tally())
            for current in (start + timedelta(days=n) for n in range(days))
        ],
        # The response cache (issue 10): hits over lookups, and the cost hits saved.
        cache_lookups=total.cache_lookups,
        cache_hits=total.cache_hits,
        cache_hit_rate=round(100 * total.cache_hits / total.cache_lookups, 2)
        if total.cache_lookups
        else 0.0,
        cache_saved_cost_usd=total.cache_saved_usd,
        # Routing (issue 5): `auto` calls, the default model's cost minus the actual cost.
        auto_routed_requests=total.routed,
        routing_saved_usd=total.routed_default_usd - total.routed_actual_usd,
    )


def _fold(sums: dict[Any, list[Any]], key: Any, values: list[Any]) -> None:
    current = sums.get(key)
    sums[key] = list(values) if current is None else list(map(operator.add, current, values))


def _tally(values: list[Any] | None) -> _Tally:
    """Sums in `rollup.SUMS` order as a tally."""
    tally = _Tally()
    if values is not None:
        tally.add(SimpleNamespace(**dict(zip(rollup.SUMS, values, strict=True))))
    return tally


def _daily(day: date, t: _Tally) -> DailyStats:
    return DailyStats(
        date=day,
        requests=t.requests,
        successful_requests=t.successful,
        failed_requests=t.requests - t.successful,
        input_tokens=t.input_tokens,
        output_tokens=t.output_tokens,
        total_tokens=t.total_tokens,
        total_cost_usd=t.cost_usd,
        average_latency_ms=t.average_latency_ms,
    )


# --- GET /v1/analytics/requests ----------------------------------------------------


def _filtered(
    scope: uuid.UUID | None, filters: RequestFilter, *, dialect: str, fts: bool = False
) -> list[ColumnElement[bool]]:
    where = [*_scoped(scope), *_window(filters.start, filters.end)]
    if filters.model is not None:
        where.append(Request.model == filters.model)
    if filters.status is not None:
        where.append(Request.status == filters.status)
    where.extend(tag_condition(tag) for tag in filters.tags)
    if filters.front_door is not None:
        where.append(Request.front_door == filters.front_door)
    if filters.search:
        if "\x00" in filters.search:  # no stored text holds NUL (PostgreSQL cannot)
            where.append(false())
        else:
            if fts and len(filters.search) >= search.FTS_MIN_CHARS:
                where.append(search.fts_match(filters.search))
            # Parameterised; `%`, `_` and the escape character are escaped.
            searched = search.search_text(dialect)
            where.append(searched.icontains(filters.search, autoescape=True))
    return where


async def list_requests(
    session: AsyncSession,
    scope: uuid.UUID | None,
    filters: RequestFilter,
    *,
    page: int = 1,
    per_page: int = 20,
    sort: RequestSort = "-created_at",
) -> RequestPage:
    """One page of the request log, newest first (or in `sort`'s order), with the
    count of all matches. A page past the end is empty."""
    if page < 1 or per_page < 1:
        raise ValueError("page and per_page must be at least 1")
    dialect = session.get_bind().dialect.name
    if filters.search and dialect == "postgresql":
        # The trigram index's matches for a common word, ANDed with another
        # index's, overflow the default 4 MB bitmap and go lossy: every row of
        # their pages is checked again (240 ms instead of 107 at 10M rows).
        await session.execute(text(f"SET LOCAL work_mem = '{SEARCH_WORK_MEM}'"))
    where = _filtered(
        scope,
        filters,
        dialect=dialect,
        fts=bool(filters.search) and await search.has_fts(session),
    )
    known = None  # the total, when the tag rollup has it
    if filters.tags:
        bounds, known = await _tag_window(session, scope, filters)
        where += bounds
    total, estimated = await _count(session, scope, filters, where, known)
    offset = (page - 1) * per_page
    by_value = "created_at" not in sort  # by cost or by latency
    # (Only where the rollup counts the whole log's rows too: else that count
    # would cost more than the sort it might spare.)
    if dialect == "sqlite" and scope is not None and by_value and _rollup_counts(filters):
        unscoped = _filtered(None, filters, dialect=dialect)
        all_rows = (await _count(session, None, filters, unscoped))[0]
        walk = walk_sort_index(key_rows=total, all_rows=all_rows, rows_wanted=offset + per_page)
        where = [key_condition(scope, walk=walk), *unscoped]  # see db/request_order.py
    summaries: list[RequestSummary] = []
    if offset < total or estimated:
        rows = await session.execute(
            select(
                Request.id,
                Request.model,
                Request.provider,
                Request.status,
                Request.input_tokens,
                Request.output_tokens,
                Request.total_tokens,
                Request.total_cost_usd,
                Request.latency_ms,
                Request.created_at,
                func.substr(Request.prompt_text, 1, PREVIEW_CHARS).label("prompt_preview"),
                Request.error_message,
                Request.is_stream,
                Request.user_id,
                Request.front_door,
            )
            .where(*where)
            .order_by(*order_by(sort))
            .limit(per_page)
            .offset(offset)
        )
        summaries = [RequestSummary.model_validate(row, from_attributes=True) for row in rows]
    return RequestPage(
        requests=summaries,
        total=total,
        total_is_estimate=estimated,
        page=page,
        per_page=per_page,
        total_pages=-(-total // per_page),
    )


def _rollup_counts(filters: RequestFilter) -> bool:
    """The rollup can count these filters' rows: whole days, key, model, status."""
    return not (
        filters.search
        or filters.tags
        or filters.front_door is not None
        or isinstance(filters.start, datetime)
        or isinstance(filters.end, datetime)
    )


async def _tag_window(
    session: AsyncSession, scope: uuid.UUID | None, filters: RequestFilter
) -> tuple[list[ColumnElement[bool]], int | None]:
    """The days the tag rollup holds the filters' tags on, as conditions (none:
    `false()`, answered without reading the log; a tag's JSON has no index), and
    the rows' exact count when one tag is the only filter the usage rollup cannot
    count (with a status or not)."""
    oldest = await session.scalar(select(func.min(Request.created_at)))
    if oldest is None:
        return [false()], 0
    first = _as_utc(oldest).date()  # (the rollups keep the days retention emptied)
    start, end = max(_days(filters.start) or first, first), _days(filters.end)
    conn = await session.connection()
    spans = [
        await tag_rollup.span(conn, scope, tag, start=start, end=end, status=filters.status)
        for tag in filters.tags
    ]
    lo, hi = max(s.first or date.max for s in spans), min(s.last or date.min for s in spans)
    if lo > hi:
        return [false()], 0
    bounds = [
        Request.created_at >= _midnight(lo),
        Request.created_at < _midnight(hi + timedelta(days=1)),
    ]
    alone = len(spans) == 1 and filters.model is None  # (the tag rollup has no models)
    return bounds, spans[0].rows if alone and _rollup_counts(replace(filters, tags=())) else None


def _days(bound: date | datetime | None) -> date | None:
    """The UTC day of a window's bound (None: unbounded)."""
    if isinstance(bound, datetime):
        return _as_utc(bound).date()
    return None if bound is None or bound >= date.max else bound


async def _count(
    session: AsyncSession,
    scope: uuid.UUID | None,
    filters: RequestFilter,
    where: list[ColumnElement[bool]],
    known: int | None = None,
) -> tuple[int, bool]:
    """The matches' count, and whether it is a lower bound: `known` when given;
    from the usage rollup when the filters are whole days, key, model and status
    (exact: the rollup is written with the rows); for a text search, a tag or a
    door, counted up to `SEARCH_COUNT_CAP` (past it: the cap, flagged as an
    estimate, "10,000+"; counting every match of a common word, tag or door over
    millions of rows took seconds); else by counting them."""
    if known is not None:
        return known, False
    if filters.search or filters.tags or filters.front_door is not None:
        matches = select(Request.id).where(*where)
        capped = matches.limit(SEARCH_COUNT_CAP + 1).subquery()
        count = await session.scalar(select(func.count()).select_from(capped)) or 0
        return (SEARCH_COUNT_CAP, True) if count > SEARCH_COUNT_CAP else (count, False)
    if not _rollup_counts(filters):
        return await session.scalar(
            select(func.count()).select_from(Request).where(*where)
        ) or 0, False
    oldest = await session.scalar(select(func.min(Request.created_at)))
    if oldest is None:
        return 0, False
    first = _as_utc(oldest).date()
    return await rollup.count_rows(
        await session.connection(),
        scope,
        start=max(filters.start or first, first),
        end=None if filters.end is None or filters.end >= date.max else filters.end,
        model=filters.model,
        status=filters.status,
    ), False
