"""Token usage, the same for every front door and every provider."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(slots=True)
class Usage:
    """Token counts in OpenAI's convention.

    `input_tokens` is the whole prompt, cache reads and writes included;
    `output_tokens` is the whole completion, reasoning included.
    `cache_write_tokens` counts every token written to a prompt cache;
    `cache_write_1h_tokens` is the part of them written for an hour
    (Anthropic's 1-hour cache, charged at its own rate), the rest being
    written at the provider's default (Anthropic's 5 minutes).
    """

    input_tokens: int = 0
    output_tokens: int = 0
    cached_input_tokens: int = 0
    cache_write_tokens: int = 0
    reasoning_tokens: int = 0
    cache_write_1h_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens
