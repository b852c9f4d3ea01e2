"""Scenario directives shared by the mocks: `mock:<name>` in the last user message."""

from __future__ import annotations

import re
from typing import Any

_DIRECTIVE = re.compile(r"mock:([a-z0-9_=,]+)")


def scenario_of(text: str) -> str:
    found = _DIRECTIVE.search(text)
    return found.group(1) if found else "echo"


def text_of(content: Any) -> str:
    """The text of an OpenAI/Anthropic-style content (string or list of parts)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
    return ""


def chunks_of(text: str, n: int) -> list[str]:
    """Split text into n non-empty pieces (fewer if it is shorter than n)."""
    n = max(1, min(n, len(text)))
    size, extra = divmod(len(text), n)
    pieces, start = [], 0
    for i in range(n):
        end = start + size + (1 if i < extra else 0)
        pieces.append(text[start:end])
        start = end
    return pieces


REPLY = "Hello from the mock. The answer is 42."
