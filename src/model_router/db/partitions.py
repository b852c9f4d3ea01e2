"""PostgreSQL: the request log in monthly range partitions on `created_at`.

`requests` is a partitioned table (migration 0011) whose children are
`requests_pYYYY_MM`, one per UTC month, plus `requests_default`, the safety net
for rows outside every month made so far. Retention drops whole months
(`drop_before`) instead of deleting rows; the maintenance job makes the coming
months ahead (`ensure`), at start and every few minutes.

A month is made by creating a plain table like the parent, moving into it the
rows the default partition holds for that month, and attaching it: attaching
checks the default partition holds none of the month's rows, which the move
guarantees, so a late month never fails on rows that arrived early.

The primary key is (id, created_at): a partitioned table's unique keys must
include the partition key. Ids are UUIDv7, so a lookup by id can derive its
time range from the id (`model_router.db.request_detail.get_request`).

Everything here is synchronous SQL on a `Connection`: the migration calls it
as it is, the maintenance job through `AsyncConnection.run_sync`. SQLite has no
partitions: every function is a no-op there.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from sqlalchemy import Connection

PARENT = "requests"
DEFAULT = "requests_default"
AHEAD_MONTHS = 2
# Held by whoever changes partitions, so that workers never race on the same DDL.
_LOCK = 0x6D725F70  # "mr_p"
_NAME = re.compile(r"^requests_p(\d{4})_(\d{2})$")


def month_start(moment: datetime) -> datetime:
    """The first instant of `moment`'s UTC month."""
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return moment.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def next_month(month: datetime) -> datetime:
    return (
        month.replace(year=month.year + 1, month=1)
        if month.month == 12
        else month.replace(month=month.month + 1)
    )


def months(start: datetime, end: datetime) -> list[datetime]:
    """The month starts of every month from `start`'s to `end`'s, both included."""
    current, last = month_start(start), month_start(end)
    out = []
    while current <= last:
        out.append(current)
        current = next_month(current)
    return out


def partition_name(month: datetime) -> str:
    return f"requests_p{month:%Y_%m}"


def month_of(name: str) -> datetime | None:
    """The month a partition's name stands for (None: not a month partition)."""
    match = _NAME.match(name)
    if match is None:
        return None
    return datetime(int(match[1]), int(match[2]), 1, tzinfo=UTC)


def _stamp(moment: datetime) -> str:
    return moment.isoformat()


def create_statements(month: datetime) -> list[str]:
    """Make `month`'s partition, taking over the rows the default partition holds for it."""
    name, lo, hi = partition_name(month), _stamp(month), _stamp(next_month(month))
    window = f"created_at >= '{lo}' AND created_at < '{hi}'"
    return [
        f"CREATE TABLE {name} (LIKE {PARENT} INCLUDING DEFAULTS)",
        f"WITH moved AS (DELETE FROM {DEFAULT} WHERE {window} RETURNING *) "
        f"INSERT INTO {name} SELECT * FROM moved",
        f"ALTER TABLE {PARENT} ATTACH PARTITION {name} FOR VALUES FROM ('{lo}') TO ('{hi}')",
    ]


def is_partitioned(conn: Connection) -> bool:
    if conn.dialect.name != "postgresql":
        return False
    kind = conn.exec_driver_sql(
        "SELECT relkind::text FROM pg_class WHERE oid = to_regclass('requests')"
    ).scalar()
    return kind == "p"


def children(conn: Connection) -> list[str]:
    """The partitions' names, the default one included."""
    rows = conn.exec_driver_sql(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "WHERE i.inhparent = 'requests'::regclass ORDER BY 1"
    )
    return [str(name) for (name,) in rows]


def _locked(conn: Connection) -> bool:
    """This transaction holds the partition lock (False: another worker does)."""
    return bool(conn.exec_driver_sql(f"SELECT pg_try_advisory_xact_lock({_LOCK})").scalar())


def ensure(conn: Connection, start: datetime, end: datetime) -> list[str]:
    """Make the monthly partitions from `start`'s month to `end`'s (and the default
    partition) that do not exist yet; their names. Call in a transaction."""
    if not is_partitioned(conn) or not _locked(conn):
        return []
    existing = set(children(conn))
    made = []
    if DEFAULT not in existing:
        conn.exec_driver_sql(f"CREATE TABLE {DEFAULT} PARTITION OF {PARENT} DEFAULT")
        made.append(DEFAULT)
    for month in months(start, end):
        if partition_name(month) in existing:
            continue
        for statement in create_statements(month):
            conn.exec_driver_sql(statement)
        made.append(partition_name(month))
    return made


def ensure_ahead(conn: Connection, now: datetime) -> list[str]:
    """This month's partition and the next `AHEAD_MONTHS`'."""
    end = now
    for _ in range(AHEAD_MONTHS):
        end = next_month(month_start(end))
    return ensure(conn, now, end)


def drop_before(conn: Connection, cutoff: datetime) -> tuple[list[str], int]:
    """Drop the months that end at or before `cutoff`, and delete the default
    partition's rows older than it: (partitions dropped, default rows deleted)."""
    if not is_partitioned(conn) or not _locked(conn):
        return [], 0
    dropped = []
    for name in children(conn):
        month = month_of(name)
        if month is not None and next_month(month) <= cutoff:
            conn.exec_driver_sql(f"DROP TABLE {name}")
            dropped.append(name)
    deleted = conn.exec_driver_sql(
        f"DELETE FROM {DEFAULT} WHERE created_at < '{_stamp(cutoff)}'"
    ).rowcount
    return dropped, deleted
