"""What a call's outcome says about its quality, and how observations are counted.

A decision is one observation of its chosen model, of quality q in [0, 1]
(None: no observation yet). Evidence arrives in order of strength, and a
stronger source replaces a weaker one (never the reverse):

    success (0)  <  error | length | invalid_json (1)  <  regenerated (2)  <  feedback (3)

- `success`: the call succeeded and nobody rated it: the pool's
  `unrated_success` (default None: not counted, so that unrated traffic does
  not bias the estimate towards "good").
- `error`: the upstream failed (signal `upstream_error`): 0.
- `length`: the answer was cut at the token limit (signal `truncated`): 0.
- `invalid_json`: a JSON-schema request got an answer that is not JSON
  (signal `invalid_json`): 0.
- `regenerated`: the same key sent the same prompt again within the window
  (signal `regeneration`): the earlier answer gets 0.
- `feedback`: `POST /v1/feedback`, score / 10.

Counting: an observation q adds (q, 1 - q, 1) to its arm; a revision from q0
to q1 adds the difference, so the counters stay sums of the latest values.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

import orjson

from model_router.routing.learned.pools import PoolSpec

Source = Literal["success", "error", "length", "invalid_json", "regenerated", "feedback"]
STRENGTH: dict[str, int] = {
    "success": 0,
    "error": 1,
    "length": 1,
    "invalid_json": 1,
    "regenerated": 2,
    "feedback": 3,
}


@dataclass(frozen=True, slots=True)
class Outcome:
    """How the call ended, as the service knows it after the call."""

    status: Literal["success", "error"]
    finish_reason: str | None = None
    output_text: str | None = None
    cost_usd: Decimal | None = None
    answered_by: str | None = None


def implicit_quality(
    pool: PoolSpec, outcome: Outcome, *, wants_schema: bool
) -> tuple[float | None, Source]:
    """The quality a call's own outcome implies, and its source."""
    signals = pool.signals
    if outcome.status == "error":
        return (0.0, "error") if signals.upstream_error else (None, "error")
    if signals.truncated and outcome.finish_reason == "length":
        return 0.0, "length"
    if signals.invalid_json and wants_schema and not _is_json(outcome.output_text):
        return 0.0, "invalid_json"
    return pool.unrated_success, "success"


def _is_json(text: str | None) -> bool:
    if text is None:
        return False
    try:
        orjson.loads(text)
    except orjson.JSONDecodeError:
        return False
    return True


def contribution(quality: float | None) -> tuple[float, float, int]:
    """(alpha, beta, n) that one observation adds to its arm."""
    if quality is None:
        return 0.0, 0.0, 0
    return quality, 1.0 - quality, 1


def revision_delta(
    old: float | None, old_source: str | None, new: float | None, new_source: str
) -> tuple[float, float, int] | None:
    """What replacing `old` by `new` adds to the arm; None when the new
    evidence is weaker than what is stored (nothing changes)."""
    if STRENGTH.get(new_source, 0) < STRENGTH.get(old_source or "success", 0):
        return None
    a0, b0, n0 = contribution(old)
    a1, b1, n1 = contribution(new)
    return a1 - a0, b1 - b0, n1 - n0
