"""The request list's orders, and how SQLite reads one key's sort by cost or latency.

One key's sort by cost or latency has no index of its own (on SQLite two such
indexes cost the request log's writer a fifth of its rows per second). SQLite
then reads every row of the key through its index and sorts them: 250-340 ms
for a key with 170,000 of 1,000,000 rows. Reading the whole log's sort index
in order and keeping the key's rows finds a page after about
`(offset + per_page) * all rows / the key's rows` entries (1-4 ms for keys
with 1-17% of the rows), but reads the whole index for a key with almost none.
`walk_sort_index` picks the cheaper of the two from the counts the list has at
hand (the rollups'), and `key_condition` then keeps SQLite off the key's index
(a unary `+`, SQLite's way of saying "not by an index"). PostgreSQL's planner
makes this choice by itself (22 ms at 10,000,000 rows).
"""

from __future__ import annotations

import uuid
from typing import Any, Literal

from sqlalchemy import literal_column, type_coerce
from sqlalchemy.sql.elements import ColumnElement

from model_router.db.models import Request

# The request log's orders: a field, newest / largest first with a leading "-".
RequestSort = Literal[
    "-created_at", "created_at", "-total_cost_usd", "total_cost_usd", "-latency_ms", "latency_ms"
]


def order_by(sort: RequestSort) -> list[ColumnElement[Any]]:
    """ORDER BY for `sort`: rows without a cost or latency come last either way;
    ties newest first, then by id, so pages never overlap."""
    newest: list[ColumnElement[Any]] = [Request.created_at.desc(), Request.id.desc()]
    if sort == "-created_at":
        return newest
    if sort == "created_at":
        return [Request.created_at.asc(), Request.id.asc()]
    column: ColumnElement[Any] = (
        Request.total_cost_usd.expression
        if sort.endswith("total_cost_usd")
        else Request.latency_ms.expression
    )
    first = column.desc() if sort.startswith("-") else column.asc()
    return [first.nulls_last(), *newest]


def walk_sort_index(*, key_rows: int, all_rows: int, rows_wanted: int) -> bool:
    """SQLite, one key sorted by cost or latency: read the log's sort index in
    order (True) rather than sort the key's rows, when that reads fewer rows."""
    return key_rows > 0 and rows_wanted * all_rows < key_rows * key_rows


def key_condition(scope: uuid.UUID, *, walk: bool) -> ColumnElement[bool]:
    """The key's rows; with `walk`, a condition SQLite checks row by row instead
    of reading the key's index."""
    if not walk:
        return Request.user_id == scope
    column = type_coerce(literal_column("+requests.user_id"), Request.user_id.type)
    return column == scope
