"""The request log's own row encoders store exactly what SQLAlchemy's bind
processors (the ORM's path) would, on both backends."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import JSON, Dialect
from sqlalchemy.dialects import postgresql, sqlite

from model_router.db.inserts import RowInserter
from model_router.db.models import Request
from model_router.db.records import FIELDS, RequestRecord

TABLE = Request.__table__
DIALECTS = {"sqlite": sqlite.aiosqlite.dialect(), "postgresql": postgresql.asyncpg.dialect()}

ROWS: list[dict[str, Any]] = [
    {
        "id": uuid.UUID(int=1),
        "user_id": uuid.UUID("0b5c0c59-2b2c-4c4e-9a53-7a2f1c0de001"),
        "model": "gpt-4o",
        "status": "success",
        "prompt_text": "h\u00e9llo",
        "request_messages": [{"role": "user", "content": "h\u00e9llo \U0001f600"}],
        "tags": {"team": "search"},
        "input_tokens": 12,
        # Ties at the 12th decimal round half-even; an int and a long tail too.
        "total_cost_usd": Decimal("0.0000000000005"),
        "input_cost_usd": Decimal("0.0000000000015"),
        "output_cost_usd": Decimal("1.23456789012345678"),
        "saved_cost_usd": 3,
        "cost_unknown": False,
        "is_stream": True,
        "created_at": datetime(2025, 3, 1, 12, 0, tzinfo=UTC),  # whole seconds
        "completed_at": datetime(2025, 3, 1, 14, 0, 0, 5, tzinfo=timezone(timedelta(hours=2))),
    },
    {
        "id": uuid.UUID(int=2),
        "model": "m",
        "status": "error",
        "created_at": datetime(2024, 12, 31, 23, 59, 59, 999999),  # naive: taken as UTC
        "total_cost_usd": None,
        "attempts": [{"deployment": "a", "status": 503, "n": 2**70}],
    },
]


def _by_sqlalchemy(row: dict[str, Any], dialect: Dialect) -> list[Any]:
    values = []
    for column in TABLE.columns:
        value = row.get(column.name)
        if column.name not in row and column.default is not None:
            value = column.default.arg(None) if column.default.is_callable else column.default.arg
        process = column.type.dialect_impl(dialect).bind_processor(dialect)
        values.append(process(value) if process is not None else value)
    return values


@pytest.mark.parametrize("backend", sorted(DIALECTS))
@pytest.mark.parametrize("row", ROWS, ids=["full", "sparse"])
def test_each_value_is_stored_as_the_orm_stores_it(backend: str, row: dict[str, Any]) -> None:
    dialect = DIALECTS[backend]
    ours = RowInserter(TABLE, dialect).encode(RequestRecord.of(row))
    theirs = _by_sqlalchemy(row, dialect)
    for column, mine, expected in zip(TABLE.columns, ours, theirs, strict=True):
        if isinstance(column.type, JSON):  # orjson and json.dumps space differently
            mine = json.loads(mine) if mine is not None else None
            expected = json.loads(expected) if expected is not None else None
        assert mine == expected, column.name
        assert type(mine) is type(expected) or (  # sqlite3 stores a bool as 0/1 anyway
            backend == "sqlite" and isinstance(mine, bool) and type(expected) is int
        ), column.name


def test_a_record_has_exactly_the_columns_of_the_table() -> None:
    assert tuple(column.name for column in TABLE.columns) == FIELDS or set(FIELDS) == {
        column.name for column in TABLE.columns
    }
