"""What demo rows say about their callers: tags and front doors.

Tags are the request metadata a real caller sends: every demo user belongs to
one team (`TEAMS`, user i in team i % 5), and about 85% of their rows carry
{"env": "prod" or "staging" (10% of them), "team": the user's team}, a third
of those a "feature" (`FEATURES`) too; the rest have no tags. Front doors
follow `FRONT_DOORS`.

There are few distinct tag values (14 per team), so each is encoded once, as
the request-log writer stores tags: compact JSON, which both backends take as
a string (asyncpg's json codec, SQLite's text).
"""

from __future__ import annotations

import itertools

import orjson

from model_router.domain.request import FrontDoor

TEAMS = ("search", "ads", "support", "platform", "billing")
FEATURES = ("chat", "summarize", "translate", "classify", "extract", "agent")
TAGGED_RATE = 0.85
STAGING_RATE = 0.10  # of the tagged rows
FEATURE_RATE = 1 / 3  # of the tagged rows
FRONT_DOORS: tuple[tuple[FrontDoor, float], ...] = (
    ("chat_completions", 0.7),
    ("messages", 0.2),
    ("responses", 0.1),
)

# A row's tags but for its team: (env, feature or None); None for a row without tags.
TagVariant = tuple[str, str | None] | None


def tag_variants() -> tuple[list[TagVariant], list[float]]:
    """Every kind of tags a row may carry, and their cumulative weights."""
    variants: list[TagVariant] = [None]
    weights = [1 - TAGGED_RATE]
    for env, share in (("prod", 1 - STAGING_RATE), ("staging", STAGING_RATE)):
        variants.append((env, None))
        weights.append(TAGGED_RATE * share * (1 - FEATURE_RATE))
        for feature in FEATURES:
            variants.append((env, feature))
            weights.append(TAGGED_RATE * share * FEATURE_RATE / len(FEATURES))
    return variants, list(itertools.accumulate(weights))


def tags_json(team: str, variant: TagVariant) -> str | None:
    """The stored tags of a row of `team`: compact JSON, keys sorted."""
    if variant is None:
        return None
    env, feature = variant
    tags = {"env": env, "team": team} | ({"feature": feature} if feature else {})
    return orjson.dumps(tags, option=orjson.OPT_SORT_KEYS).decode()


def user_tags(users: int) -> tuple[list[tuple[str | None, ...]], list[float]]:
    """For each of `users` users, its rows' possible tags (by variant index); and
    the variants' cumulative weights, to draw an index with."""
    variants, bounds = tag_variants()
    by_team = [tuple(tags_json(team, variant) for variant in variants) for team in TEAMS]
    return [by_team[i % len(TEAMS)] for i in range(users)], bounds
