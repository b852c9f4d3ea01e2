"""Money in counter units, and budget thresholds.

Spend is kept twice, in integers: exactly, in pico-dollars (10^-12 USD, the
`Money` column's unit), which is what is reported and equals the sum of the
request rows' costs; and rounded up to nano-dollars (10^-9 USD), which is what
admission compares, because Redis's Lua compares numbers as doubles, exact up
to 2^53 nano-dollars (about 9 million USD, the largest budget allowed). Every
amount rounds up, so the nano sum is never below the exact one and a budget
that holds in nano-dollars holds exactly.
"""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

THRESHOLDS = (50, 80, 100)
_PICO = Decimal(1).scaleb(-12)
_NANO = Decimal(1).scaleb(-9)


def to_pico(usd: Decimal) -> int:
    """As the `Money` column stores it, so spend equals the sum of the rows."""
    return int(usd.quantize(_PICO).scaleb(12))


def to_nano_ceil(usd: Decimal) -> int:
    return int(usd.quantize(_NANO, rounding=ROUND_CEILING).scaleb(9))


def pico_to_nano(units: int) -> int:
    return -(-units // 1000)


def to_nano_floor(usd: Decimal) -> int:
    return int(usd.quantize(_NANO, rounding=ROUND_FLOOR).scaleb(9))


def from_pico(units: int) -> Decimal:
    return Decimal(units).scaleb(-12).normalize() if units else Decimal(0)


def crossed(spent_nano: int, budget_nano: int, notified: int) -> int:
    """The highest threshold (percent) now reached and not yet notified, else 0."""
    if budget_nano <= 0:
        return 0
    reached = [t for t in THRESHOLDS if spent_nano * 100 >= budget_nano * t and t > notified]
    return max(reached, default=0)
