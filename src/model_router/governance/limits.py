"""Requests and tokens per minute: fixed one-minute windows, per key.

A window is the UTC minute (`int(now // 60)`); a request counts when admitted,
and its tokens count as the prompt's upper bound at admission, corrected to the
actual total when the call ends. So TPM is checked against what is known
before the call; the output of calls still in flight can take a window past
its limit, and the next request then waits for the next minute.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

WINDOW_SECONDS = 60
WINDOW_TTL = 2 * WINDOW_SECONDS


def window_of(now: float) -> int:
    return int(now // WINDOW_SECONDS)


def seconds_to_next_window(now: float) -> int:
    return max(1, math.ceil(WINDOW_SECONDS - now % WINDOW_SECONDS))


@dataclass(frozen=True, slots=True)
class Usage:
    rpm_limit: int | None
    tpm_limit: int | None
    requests: int
    tokens: int

    def headers(self, now: float) -> dict[str, str]:
        """OpenAI's x-ratelimit-* headers for the limits the key has."""
        out: dict[str, str] = {}
        reset = f"{seconds_to_next_window(now)}s"
        if self.rpm_limit:
            out["x-ratelimit-limit-requests"] = str(self.rpm_limit)
            out["x-ratelimit-remaining-requests"] = str(max(0, self.rpm_limit - self.requests))
            out["x-ratelimit-reset-requests"] = reset
        if self.tpm_limit:
            out["x-ratelimit-limit-tokens"] = str(self.tpm_limit)
            out["x-ratelimit-remaining-tokens"] = str(max(0, self.tpm_limit - self.tokens))
            out["x-ratelimit-reset-tokens"] = reset
        return out
