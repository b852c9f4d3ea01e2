"""Caller tags on the request row, and privacy.

Tags are a flat object of strings: the body's `metadata` (string values, as
OpenAI's `metadata`) merged with the `x-router-tags` header, written
`team=search, feature=autocomplete` (a bare word is a tag with an empty
value). The body's `user` is stored as `end_user`. At most MAX_TAGS tags, keys
of up to 64 characters and values of up to 200; the rest is dropped, never an
error (tags must not cost a caller a request).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from model_router.db.records import RequestRecord

MAX_TAGS = 32
MAX_KEY = 64
MAX_VALUE = 200
TAGS_HEADER = "x-router-tags"


def tags_of(body: Mapping[str, Any], headers: Mapping[str, str]) -> dict[str, str]:
    tags: dict[str, str] = {}
    metadata = body.get("metadata")
    if isinstance(metadata, dict):
        for name, value in metadata.items():
            if isinstance(name, str) and isinstance(value, str | int | float | bool):
                tags[name] = value if isinstance(value, str) else str(value)
    raw = headers.get(TAGS_HEADER)
    if raw:
        for item in raw.split(","):
            name, _, value = item.partition("=")
            if name.strip():
                tags[name.strip()] = value.strip()
    if not tags:
        return tags
    # NUL is dropped: PostgreSQL cannot read it back out of the JSON column.
    return {
        name.replace("\x00", "")[:MAX_KEY]: value.replace("\x00", "")[:MAX_VALUE]
        for name, value in list(tags.items())[:MAX_TAGS]
    }


def apply_tags(row: RequestRecord, body: Mapping[str, Any], headers: Mapping[str, str]) -> None:
    tags = tags_of(body, headers)
    row.tags = tags or None
    user = body.get("user")
    row.end_user = user[:MAX_VALUE] if isinstance(user, str) and user else None


def scrub_text(row: RequestRecord) -> None:
    """Keep tokens, costs and the outcome; drop what was said."""
    row.prompt_text = ""
    row.request_messages = None
    row.response_text = None
    row.reasoning_text = None
    row.tool_calls = None
