"""What every inbound wire schema shares: open models (unknown fields pass),
unions tagged by the value's `type`, and the field path of a validation error.

A union is tagged through `by_type`, whose tags start with "~" so that
`error_path` can drop them from a validation error's location.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Discriminator, ValidationError

TAG = "~"


class Open(BaseModel):
    """A wire model that keeps the fields it does not name (`extra="allow"`)."""

    model_config = ConfigDict(extra="allow")


def by_type(known: frozenset[str], fallback: str) -> Discriminator:
    """Tag a union by the value's `type`: `~<type>` if known, else `fallback`."""

    def pick(value: Any) -> str:
        kind = value.get("type") if isinstance(value, dict) else getattr(value, "type", None)
        return f"{TAG}{kind}" if kind in known else fallback

    return Discriminator(pick)


def error_path(error: ValidationError) -> tuple[str, str]:
    """The dotted field path and message of the most specific error."""
    first = max(error.errors(), key=lambda e: len(e["loc"]))
    loc = [str(p) for p in first["loc"] if not (isinstance(p, str) and p.startswith(TAG))]
    return ".".join(loc), str(first["msg"]).removeprefix("Value error, ")
