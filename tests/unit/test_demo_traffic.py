"""Demo traffic made without a database: `Traffic` rows and the SQLite codec.

The runs on both databases are in tests/integration/test_demo_data.py.
"""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy.dialects import sqlite

from model_router.costs.pricing import Peak, Price, Rates, cost
from model_router.db.inserts import column_encoder
from model_router.db.models import Request
from model_router.domain import Usage
from model_router.services.demo_data import (
    COLUMNS,
    Codec,
    ModelPlan,
    SqliteCodec,
    Traffic,
    reasoning_kind,
)

TABLE = Request.__table__
END = datetime(2025, 3, 3, tzinfo=UTC)


def _plan(name: str, price: Price | None, weight: float = 1.0) -> ModelPlan:
    return ModelPlan(
        id=uuid.uuid4(),
        name=name,
        provider="acme",
        provider_id=uuid.uuid4(),
        price=price,
        weight=weight,
        reasoning=reasoning_kind(name),
        ttft_ms=300.0,
        tokens_per_second=80.0,
    )


def _traffic(
    plans: Sequence[ModelPlan],
    users: Sequence[uuid.UUID],
    *,
    days: int,
    rows: int,
    seed: int,
    codec: Codec | None = None,
) -> Traffic:
    return Traffic(
        plans,
        users,
        start=END - timedelta(days=days),
        end=END,
        rows=rows,
        seed=seed,
        codec=codec or SqliteCodec(sqlite.dialect()),
    )


def _processor(name: str) -> Any:
    dialect = sqlite.dialect()
    return TABLE.c[name].type.dialect_impl(dialect).bind_processor(dialect)


def test_sqlite_values_are_those_of_the_bind_processors() -> None:
    codec = SqliteCodec(sqlite.dialect())
    as_uuid, as_time, as_money = (
        _processor("id"),
        _processor("created_at"),
        _processor("total_cost_usd"),
    )
    rng = random.Random(7)
    for _ in range(2000):
        value = uuid.UUID(int=rng.getrandbits(128))
        assert codec.uuid(value) == as_uuid(value)
        micros = rng.randrange(0, 4_000_000_000_000_000)
        if rng.random() < 0.1:
            micros -= micros % 1_000_000
        at = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=micros)
        assert codec.stamp(micros) == as_time(at)
        amount = Decimal(rng.randrange(0, 10**16)).scaleb(-rng.randrange(6, 18))
        assert codec.money(codec.units(amount)) == as_money(amount)


def test_tags_and_front_doors_are_stored_as_the_request_log_writer_stores_them() -> None:
    users = [uuid.uuid4() for _ in range(5)]
    traffic = _traffic([_plan("gpt-4o-mini", None)], users, days=1, rows=500, seed=7)
    made = [dict(zip(COLUMNS, row, strict=True)) for row in traffic.chunk(500)]
    stored_tags = {row["tags"] for row in made} - {None}
    assert len(stored_tags) > 20
    as_tags = _processor("tags")
    write_tags = column_encoder(TABLE.c["tags"], sqlite.dialect())
    assert write_tags is not None
    for stored in stored_tags:
        tags = json.loads(stored)
        assert json.loads(as_tags(tags)) == tags and write_tags(tags) == stored
    assert _processor("front_door") is None  # a plain string
    assert {row["front_door"] for row in made} == {"chat_completions", "messages", "responses"}


def test_unpriced_models_have_no_cost_and_peak_hours_their_rates() -> None:
    base = Rates(Decimal("0.27"), Decimal("1.1"), Decimal("0.07"))
    peak = Peak(((time(1), time(4)),), Rates(Decimal("0.54"), Decimal("2.2"), Decimal("0.14")))
    plans = [_plan("cheap-model", Price(base, peak=peak)), _plan("mystery", None)]
    codec = SqliteCodec(sqlite.dialect())
    traffic = _traffic(plans, [uuid.uuid4()], days=2, rows=3000, seed=3, codec=codec)
    rows = [dict(zip(COLUMNS, row, strict=True)) for row in traffic.chunk(1000)]
    rows += [dict(zip(COLUMNS, row, strict=True)) for row in traffic.chunk(5000)]
    assert len(rows) == traffic.produced == 3000 and traffic.chunk(10) == []
    seen = {"mystery": 0, "peak": 0, "base": 0}
    for row in rows:
        if row["status"] == "error":
            assert row["cost_unknown"] is (row["model"] == "mystery")
            continue
        if row["model"] == "mystery":
            seen["mystery"] += 1
            assert row["cost_unknown"] is True and row["total_cost_usd"] is None
            assert row["input_price_per_1m_tokens"] is None
            continue
        hour = datetime.fromisoformat(row["created_at"]).hour
        rates = peak.rates if 1 <= hour < 4 else base
        seen["peak" if rates is peak.rates else "base"] += 1
        assert row["input_price_per_1m_tokens"] == codec.units(rates.input)
        assert row["output_price_per_1m_tokens"] == codec.units(rates.output)
        usage = Usage(
            row["input_tokens"],
            row["output_tokens"],
            row["cached_input_tokens"],
            row["cache_write_tokens"],
        )
        expected = cost(usage, Price(rates))
        assert expected is not None
        assert row["total_cost_usd"] == codec.units(expected.total_usd)
        assert row["total_cost_usd"] == row["input_cost_usd"] + row["output_cost_usd"]
        assert row["cost_unknown"] is False
    assert all(seen.values()), seen


def test_generation_does_not_depend_on_the_chunk_size() -> None:
    plans = [_plan("gpt-4o-mini", Price(Rates(Decimal("0.15"), Decimal("0.6"))), 3)]
    plans.append(_plan("o4-mini", Price(Rates(Decimal("1.1"), Decimal("4.4"))), 1))
    users = [uuid.uuid4(), uuid.uuid4()]

    def rows(*chunks: int) -> list[tuple[Any, ...]]:
        traffic = _traffic(plans, users, days=3, rows=1500, seed=9)
        made: list[tuple[Any, ...]] = []
        for size in chunks:
            made += [row[1:] for row in traffic.chunk(size)]  # all but the id
        return made

    assert rows(1500) == rows(1, 499, 7, 993) == rows(100_000)
