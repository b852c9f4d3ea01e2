"""Column types that behave the same on SQLite and PostgreSQL.

- `Money`: exact USD. NUMERIC(24, 12) on PostgreSQL; on SQLite, which has no
  decimal type, an integer count of 10^-12 USD, so that stored values and SQL
  sums stay exact (SQLite's limit: sums up to about 9.2 million USD).
- `UTCDateTime`: timezone-aware UTC datetimes on both backends.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, DateTime, Dialect, Numeric
from sqlalchemy.types import TypeDecorator, TypeEngine

SCALE = 12
_UNIT = Decimal(1).scaleb(-SCALE)


class Money(TypeDecorator[Decimal]):
    impl = Numeric(24, SCALE)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(BigInteger())
        return dialect.type_descriptor(Numeric(24, SCALE, asdecimal=True))

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        amount = Decimal(value).quantize(_UNIT)
        if dialect.name == "sqlite":
            return int(amount.scaleb(SCALE))
        return amount

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        if dialect.name == "sqlite":
            return (Decimal(int(value)).scaleb(-SCALE)).normalize()
        return Decimal(value).normalize()

    @property
    def python_type(self) -> type[Decimal]:
        return Decimal


class UTCDateTime(TypeDecorator[datetime]):
    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError("UTCDateTime needs a datetime")
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        if not isinstance(value, datetime):
            raise TypeError(f"expected a datetime, got {type(value).__name__}")
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

    @property
    def python_type(self) -> type[datetime]:
        return datetime
