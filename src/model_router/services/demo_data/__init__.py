"""Demo traffic for the request log: `model-router demo-data`.

Fills `requests` with rows that look like real use of the router, for demos,
dashboards and load tests of the analytics queries: spread over the last
`days` days with a daily and weekly rhythm, across `users` demo keys (users
`demo-1` ... `demo-N` with real hashed keys that nobody knows, reused when they
exist) and the active models of the catalogue (synced first when it is empty),
with errors, streams, cache and reasoning tokens, the costs the router itself
would charge, callers' tags (a team per user, an env, sometimes a feature) and
the three chat front doors.

Everything but the row ids (UUIDv7: the row's time and fresh random bits, so
runs never collide) follows from the seed, the row count, the window and the
catalogue.

Speed: a million rows in under a minute on PostgreSQL, on two cores.

The package, in the order a run uses it:

- `__init__`: `generate_demo_data`, its limits and report, and the demo users;
- `plans`: the catalogue's models as demo traffic sees them (`ModelPlan`);
- `texts`: prompts, answers, tool calls and error messages;
- `labels`: tags and front doors;
- `codecs`: values as each backend's driver stores them (`Codec`);
- `traffic`: the rows, a chunk at a time (`Traffic`);
- `load`: writing them, by binary COPY or batched inserts.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from model_router.db import partitions, rollup, search
from model_router.db.models import User
from model_router.errors import InvalidRequest
from model_router.services.catalogue_admin import sync_catalogue
from model_router.services.demo_data.codecs import (
    Codec,
    PlainCodec,
    PostgresBinaryCodec,
    SqliteCodec,
)
from model_router.services.demo_data.load import Note, copy_postgres, insert_sqlite
from model_router.services.demo_data.plans import ModelPlan, load_plans, reasoning_kind
from model_router.services.demo_data.traffic import COLUMNS, Traffic
from model_router.services.keys import DISPLAY_CHARS, hash_key, new_key

__all__ = [
    "CHUNK_ROWS",
    "COLUMNS",
    "DEFAULT_SEED",
    "DEFAULT_USERS",
    "DEMO_USER_PREFIX",
    "MAX_DAYS",
    "MAX_ROWS",
    "MAX_USERS",
    "Codec",
    "DemoReport",
    "ModelPlan",
    "Note",
    "PlainCodec",
    "PostgresBinaryCodec",
    "Progress",
    "SqliteCodec",
    "Traffic",
    "demo_user_names",
    "generate_demo_data",
    "reasoning_kind",
]

MAX_ROWS = 50_000_000
MAX_DAYS = 3650
MAX_USERS = 1000
DEFAULT_USERS = 20
DEFAULT_SEED = 42
CHUNK_ROWS = 50_000
DEMO_USER_PREFIX = "demo-"

Progress = Callable[[int, int, float], None]  # rows written, rows wanted, seconds so far


@dataclass(frozen=True, slots=True)
class DemoReport:
    rows: int
    errors: int
    seconds: float
    backend: str
    start: datetime
    end: datetime
    users_created: int
    users_reused: int
    models: int
    catalogue_synced: bool

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else float(self.rows)


async def generate_demo_data(
    sessions: async_sessionmaker[AsyncSession],
    *,
    rows: int,
    days: int,
    users: int = DEFAULT_USERS,
    seed: int = DEFAULT_SEED,
    end: datetime | None = None,
    progress: Progress | None = None,
    note: Note | None = None,
    chunk_rows: int = CHUNK_ROWS,
    pg_binary: bool = True,
) -> DemoReport:
    """Add `rows` demo requests made in the `days` days before `end` (default: now).

    `pg_binary=False` hands asyncpg Decimals, datetimes and UUIDs instead of
    pre-encoded values: slower, the same rows (the tests compare the two).
    """
    _check_range("rows", rows, 1, MAX_ROWS)
    _check_range("days", days, 1, MAX_DAYS)
    _check_range("users", users, 1, MAX_USERS)
    _check_range("chunk_rows", chunk_rows, 1, 1_000_000)
    started = time.perf_counter()
    say: Note = note or (lambda _message: None)
    end = (end or datetime.now(UTC)).astimezone(UTC)
    start = end - timedelta(days=days)

    synced = False
    plans = await load_plans(sessions)
    if plans is None:
        say("the catalogue is empty: syncing it first")
        await sync_catalogue(sessions)
        synced = True
        plans = await load_plans(sessions)
    if not plans:
        raise InvalidRequest("No active model in the catalogue: see `model-router models list`.")
    user_ids, created = await _demo_users(sessions, users)

    def report(done: int) -> None:
        if progress is not None:
            progress(done, rows, time.perf_counter() - started)

    async with sessions() as session:
        conn = await session.connection()
        backend = conn.dialect.name
        if backend == "postgresql":
            codec: Codec = (PostgresBinaryCodec if pg_binary else PlainCodec)(conn.dialect)
        else:
            codec = SqliteCodec(conn.dialect)
        traffic = Traffic(plans, user_ids, start=start, end=end, rows=rows, seed=seed, codec=codec)
        if backend == "postgresql":
            # Months of a partitioned log made first: else the default partition takes them.
            await conn.run_sync(partitions.ensure, start, end)
            await copy_postgres(conn, traffic, chunk_rows, report, say, binary=pg_binary)
        else:
            await insert_sqlite(session, traffic, chunk_rows, report)
            conn = await session.connection()
            if await search.has_fts(conn):  # one statement, as the writer does a batch
                await search.index_new_rows(conn)
        # The rows went around the request log's writer: sum them into the rollup
        # the usage API reads, in the same transaction (SQLite: the last one).
        await rollup.rebuild(await session.connection())
        await session.commit()
    # Fresh planner statistics: right after a large load, PostgreSQL's estimates
    # are stale and the analytics queries pick slow plans (10x, measured).
    async with sessions() as session:
        await session.execute(text("ANALYZE requests"))
        await session.execute(text("ANALYZE usage_daily"))
        await session.commit()
    return DemoReport(
        rows=traffic.produced,
        errors=traffic.errors,
        seconds=time.perf_counter() - started,
        backend=backend,
        start=start,
        end=end,
        users_created=created,
        users_reused=users - created,
        models=len(plans),
        catalogue_synced=synced,
    )


def _check_range(name: str, value: int, low: int, high: int) -> None:
    if not low <= value <= high:
        raise InvalidRequest(f"{name} must be between {low:,} and {high:,}; got {value:,}.")


def demo_user_names(count: int) -> list[str]:
    return [f"{DEMO_USER_PREFIX}{i}" for i in range(1, count + 1)]


async def _demo_users(
    sessions: async_sessionmaker[AsyncSession], count: int
) -> tuple[list[uuid.UUID], int]:
    """The ids of users demo-1..demo-N, made where missing; and how many were made."""
    names = demo_user_names(count)
    async with sessions.begin() as session:
        existing: dict[str, uuid.UUID] = {}
        query = select(User).where(User.name.in_(names)).order_by(User.created_at, User.id)
        for user in await session.scalars(query):
            existing.setdefault(user.name, user.id)
        missing = [name for name in names if name not in existing]
        for name in missing:
            key = new_key()  # never shown: nobody can call the router as a demo user
            user = User(
                id=uuid.uuid4(), name=name, key_hash=hash_key(key), key_prefix=key[:DISPLAY_CHARS]
            )
            session.add(user)
            existing[name] = user.id
    return [existing[name] for name in names], len(missing)
