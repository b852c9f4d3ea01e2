"""How generated values are stored: one `Codec` per backend and driver.

Each codec turns row ids, times and amounts into exactly what the `requests`
columns' bind processors would hand the driver (Money rounded half-even to
10^-12 USD, UTC times), without going through them row by row:

- `PlainCodec`: Python values through the bind processors, for asyncpg's own
  codecs (`pg_binary=False`);
- `PostgresBinaryCodec`: PostgreSQL's binary format, for the pass-through
  codecs a COPY sets on its connection (`PASS_THROUGH`);
- `SqliteCodec`: the strings SQLite stores, and Money as an integer count of
  10^-12 USD.
"""

from __future__ import annotations

import struct
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Dialect

from model_router.db.models import Request
from model_router.db.types import SCALE

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
PG_EPOCH_US = 946_684_800_000_000  # 2000-01-01 UTC, PostgreSQL's epoch, in Unix microseconds
UNITS = 10**SCALE  # Money's units per USD
# Types whose values `PostgresBinaryCodec` makes already encoded: their codecs on the
# COPY's connection pass bytes through, for the COPY only.
PASS_THROUGH = ("numeric", "timestamptz", "uuid")

_MASK64 = (1 << 64) - 1
_NUMERIC4 = struct.Struct(">hhhhHHHH").pack


def _processor(column: str, dialect: Dialect) -> Callable[[Any], Any]:
    """The bind processor of a `requests` column (the identity where there is none)."""
    found = Request.__table__.c[column].type.dialect_impl(dialect).bind_processor(dialect)
    return found if found is not None else (lambda value: value)


class Codec:
    """Turns generated values into what a backend's driver stores.

    `row_id(high, low)` makes a UUID from its two 64-bit halves and
    `stamp(micros - stamp_shift)` a UTC time given in microseconds since the
    Unix epoch: plain callables, since they are called for every row.
    """

    row_id: Callable[[int, int], Any]
    stamp: Callable[[int], Any]
    stamp_shift = 0

    def __init__(self, dialect: Dialect) -> None:
        self._money_processor = _processor("total_cost_usd", dialect)

    def units(self, amount: Decimal) -> int:
        """`amount` as Money stores it (rounded to 10^-12 USD), counted in 10^-12 USD."""
        stored = self._money_processor(amount)  # SQLite: that count; PostgreSQL: a Decimal
        return stored if isinstance(stored, int) else int(Decimal(stored).scaleb(SCALE))

    def uuid(self, value: uuid.UUID) -> Any:
        return self.row_id(value.int >> 64, value.int & _MASK64)

    def money(self, units: int) -> Any:
        """An amount in 10^-12 USD, already rounded as Money rounds."""
        raise NotImplementedError


class PlainCodec(Codec):
    """Python values through the columns' bind processors, for the driver's own codecs."""

    def __init__(self, dialect: Dialect) -> None:
        super().__init__(dialect)
        to_uuid, to_time = _processor("id", dialect), _processor("created_at", dialect)

        def row_id(high: int, low: int) -> Any:
            return to_uuid(uuid.UUID(int=high << 64 | low))

        def stamp(micros: int) -> Any:
            return to_time(EPOCH + timedelta(microseconds=micros))

        self.row_id, self.stamp = row_id, stamp

    def money(self, units: int) -> Any:
        return self._money_processor(Decimal(units).scaleb(-SCALE))


class PostgresBinaryCodec(Codec):
    """PostgreSQL's binary format, for pass-through codecs (see `PASS_THROUGH`)."""

    row_id = staticmethod(struct.Struct(">QQ").pack)
    stamp = staticmethod(struct.Struct(">q").pack)  # microseconds since 2000-01-01
    stamp_shift = PG_EPOCH_US

    def money(self, units: int) -> bytes:
        """numeric: int16 digit count, weight, sign, scale, then base-10000 digits."""
        whole, fraction = divmod(units, UNITS)
        if 0 <= whole < 10_000:  # leading zero digits are fine: PostgreSQL strips them
            high, low = divmod(fraction, 10**8)
            return _NUMERIC4(4, 0, 0, SCALE, whole, high, low // 10**4, low % 10**4)
        sign = 0x4000 if units < 0 else 0
        digits: list[int] = []
        left = abs(units) * 10**4  # 16 decimal places: 4 whole base-10000 digits
        while left:
            left, digit = divmod(left, 10_000)
            digits.append(digit)
        digits.reverse()
        weight = len(digits) - 5
        return struct.pack(f">hhhh{len(digits)}H", len(digits), weight, sign, SCALE, *digits)


class SqliteCodec(Codec):
    """What the bind processors give SQLite, computed without building Python objects.

    The tests check these against the processors themselves.
    """

    def __init__(self, dialect: Dialect) -> None:
        super().__init__(dialect)
        minutes: dict[int, str] = {}

        def row_id(high: int, low: int) -> str:
            return f"{high:016x}{low:016x}"

        def stamp(micros: int) -> str:
            seconds, fraction = divmod(micros, 1_000_000)
            minute, second = divmod(seconds, 60)
            prefix = minutes.get(minute)
            if prefix is None:
                if len(minutes) > 100_000:
                    minutes.clear()
                prefix = minutes[minute] = f"{EPOCH + timedelta(minutes=minute):%Y-%m-%d %H:%M}:"
            return f"{prefix}{second:02d}.{fraction:06d}"

        self.row_id, self.stamp = row_id, stamp

    def money(self, units: int) -> int:
        return units
