"""JSON in and out, fast (orjson), with exact money.

Decimals are written as JSON numbers with every digit they have (through
`orjson.Fragment`), never rounded through a float.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import orjson


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        text = format(value.normalize(), "f") if value else "0"
        return orjson.Fragment(text.encode())
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def dumps(value: Any) -> bytes:
    return orjson.dumps(value, default=_default, option=orjson.OPT_PASSTHROUGH_DATETIME)


def verbatim(json: bytes) -> Any:
    """JSON already encoded (and known valid), for `dumps` to write as it is."""
    return orjson.Fragment(json)


loads = orjson.loads
JSONDecodeError = orjson.JSONDecodeError
