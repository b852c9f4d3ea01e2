"""Stored responses: the Responses API's conversation state, per key.

With `store` (true unless the client says false) a finished response is kept:
the `Response` as it was rendered (its output items included) and the full
input items it answered (`previous_response_id` expanded; an id given to each
item sent without one). `previous_response_id` continues it, whatever model
answers next; `GET /v1/responses/{id}`, its `input_items` and `DELETE` read
and remove it. A key only ever sees its own: another key's id is a 404, the
same as an unknown one.

Writes are off the request path: `keep()` only puts the response in memory
(about 10 µs; one INSERT + COMMIT per response measured 1.6 ms median on
SQLite and 4.5 ms on PostgreSQL, p99 6 and 15 ms, on a busy 2-core machine:
`bench/responses_store.py`); what is pending is written in one transaction
by the request log's writer task, between its own batches (`start(writer)`),
so that a process is one writer, not two, for SQLite's one write lock. A
read looks in memory first (what is pending, and the most recent `recent`
responses), then in the database, so a GET or a follow-up right after a
POST finds it in the process that answered.
With several instances behind a balancer, another instance finds it once the
write landed (one `flush_interval`, 0.2 s by default): a client that
continues a conversation at once through another instance may get a 404 in
that window. While the database is away, pending responses wait (at most
`max_pending`, the oldest dropped beyond that, logged); a clean stop writes
them. (With a writer of its own, on SQLite with two workers at 3,000-4,500
responses/s, it waited seconds for the write lock behind both request logs
and dropped responses at that cap; written by the request log's task, none
were dropped at 4,500/s: docs/performance.md.)

Privacy: when text storage is off (`STORE_TEXT=false`, or the key's
`store_text`), nothing is kept, and `previous_response_id` is a 400 that says
why. Retention: responses older than `RESPONSES_RETENTION_DAYS` are deleted by
a purge every `RESPONSES_PURGE_SECONDS` (and at start).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import JSON, Dialect, delete
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from model_router.db.inserts import column_encoder
from model_router.db.response_models import StoredResponse
from model_router.domain.content import Json
from model_router.domain.keys import KeyInfo
from model_router.errors import InvalidRequest, NotFound, StoreUnavailable
from model_router.jsonutil import dumps
from model_router.services.request_log import RequestLog

log = logging.getLogger(__name__)

UNREACHABLE = (OperationalError, InterfaceError, OSError, TimeoutError)
"""The database itself failed, not a row: what waits and is tried again."""

ITEM_PREFIXES = {
    "message": "msg",
    "function_call": "fc",
    "function_call_output": "fco",
    "reasoning": "rs",
}
"""Input item type -> the prefix of the id a stored item is given when it had none."""


@dataclass(slots=True)
class Stored:
    id: str
    key_id: uuid.UUID
    created_at: datetime
    model: str
    response: Json
    input_items: list[Json]

    def values(self) -> dict[str, Any]:
        """The row to insert, its JSON columns as JSON text (`_Insert`)."""
        return {
            "id": self.id,
            "key_id": self.key_id,
            "created_at": self.created_at,
            "model": self.model,
            "response": _json_text(self.response),
            "input_items": _json_text(self.input_items),
        }


def _json_text(value: Any) -> str:
    try:
        return dumps(value).decode()  # the costs are `Decimal`s, written exactly
    except TypeError:  # integers past 64 bits in a client's items, and the like
        return json.dumps(value, default=str)


class _Insert:
    """One statement for a batch of stored responses, run by the driver with
    the values encoded as the ORM would store them (`db.inserts.column_encoder`)
    and the JSON written by orjson: SQLAlchemy's ORM bulk insert and its JSON
    bind processors cost more Python per row than the request itself."""

    def __init__(self, dialect: Dialect) -> None:
        columns = list(StoredResponse.metadata.tables[StoredResponse.__tablename__].columns)
        self._names = [column.name for column in columns]
        self._encoders = [  # (index, encode) of the columns not passed as they are
            (index, encode)
            for index, column in enumerate(columns)
            if not isinstance(column.type, JSON)
            and (encode := column_encoder(column, dialect)) is not None
        ]
        qmark = dialect.paramstyle == "qmark"  # SQLite's; asyncpg's is $1, $2, ...
        marks = ", ".join("?" if qmark else f"${n}" for n in range(1, len(columns) + 1))
        self.sql = (
            f"INSERT INTO {StoredResponse.__tablename__} ({', '.join(self._names)}) "
            f"VALUES ({marks})"
        )

    def row(self, entry: Stored) -> tuple[Any, ...]:
        values = entry.values()
        row = [values[name] for name in self._names]
        for index, encode in self._encoders:
            if row[index] is not None:
                row[index] = encode(row[index])
        return tuple(row)


def stored_input(response_id: str, items: str | list[Any]) -> list[Json]:
    """The input items as they are listed and continued: a string is one user
    message, a message's string content one text part, and every item has an
    `id` (the client's, or `<prefix>_<response id>_<index>`)."""
    if isinstance(items, str):
        items = [{"type": "message", "role": "user", "content": items}]
    base = response_id.removeprefix("resp_")
    out: list[Json] = []
    for i, raw in enumerate(items):
        if not isinstance(raw, dict):
            continue
        item = dict(raw)
        if "type" not in item and "role" in item:
            item["type"] = "message"
        kind = str(item.get("type", "item"))
        content = item.get("content")
        if kind == "message" and isinstance(content, str):
            part = "output_text" if item.get("role") == "assistant" else "input_text"
            item["content"] = [{"type": part, "text": content}]
        if not isinstance(item.get("id"), str):
            item["id"] = f"{ITEM_PREFIXES.get(kind, 'item')}_{base}_in{i}"
        out.append(item)
    return out


def not_found(response_id: str) -> NotFound:
    return NotFound(f"Response with id '{response_id}' not found.", code="not_found")


class ResponseStore:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        store_text: bool = True,
        retention_days: float = 30,
        purge_seconds: float = 3600.0,
        flush_interval: float = 0.2,
        recent: int = 1000,
        max_pending: int = 10_000,
    ) -> None:
        self._sessions = sessions
        self._store_text = store_text
        self._retention = timedelta(days=retention_days)
        self._purge_seconds = purge_seconds
        self._flush_interval = flush_interval
        self._recent_max = recent
        self._max_pending = max_pending
        self._pending: OrderedDict[str, Stored] = OrderedDict()
        self._recent: OrderedDict[str, Stored] = OrderedDict()
        self._lock = asyncio.Lock()  # one writer at a time: a batch, a delete, a purge
        self._tasks: list[asyncio.Task[None]] = []
        self._statement: _Insert | None = None  # built for the engine's dialect at first write

    # --- the request path (no I/O) ---------------------------------------------------

    @property
    def pending(self) -> int:
        """Responses kept but not yet written."""
        return len(self._pending)

    def keeps_text(self, key: KeyInfo) -> bool:
        return self._store_text and key.store_text

    def keep(self, key: KeyInfo, body: Json, response: Json) -> None:
        """Remember a finished response (`body` is the client's, expanded), unless
        the client said `store: false` or text storage is off."""
        if body.get("store") is False or not self.keeps_text(key):
            return
        response_id = str(response["id"])
        entry = Stored(
            id=response_id,
            key_id=key.id,
            created_at=datetime.fromtimestamp(int(response["created_at"]), UTC),
            model=str(response.get("model", ""))[:200],
            response=response,
            input_items=stored_input(response_id, body.get("input") or []),
        )
        self._pending[response_id] = entry
        if len(self._pending) > self._max_pending:
            dropped, _ = self._pending.popitem(last=False)
            log.warning(
                "stored responses: %s dropped: %d wait to be written (the database is away, "
                "or slower than the traffic)",
                dropped,
                len(self._pending),
            )
        self._remember(entry)

    def _remember(self, entry: Stored) -> None:
        self._recent[entry.id] = entry
        self._recent.move_to_end(entry.id)
        while len(self._recent) > self._recent_max:
            self._recent.popitem(last=False)

    # --- reads and deletes -------------------------------------------------------------

    async def get(self, key: KeyInfo, response_id: str) -> Stored:
        """The key's stored response, or a 404 (unknown, expired, or another key's)."""
        entry = self._pending.get(response_id) or self._recent.get(response_id)
        if entry is None:
            try:
                async with self._sessions() as session:
                    row = await session.get(StoredResponse, response_id)
            except UNREACHABLE as exc:
                raise StoreUnavailable() from exc
            if row is not None:
                entry = Stored(
                    row.id, row.key_id, row.created_at, row.model, row.response, row.input_items
                )
        if entry is None or entry.key_id != key.id or self._expired(entry):
            raise not_found(response_id)
        return entry

    async def previous(self, key: KeyInfo, response_id: str) -> Stored:
        """The response a `previous_response_id` names."""
        if not self.keeps_text(key):
            raise InvalidRequest(
                "previous_response_id cannot be used: this router keeps no prompt or "
                "response text for this key (store_text is off), so no response was "
                "stored. Send the whole conversation in `input` instead.",
                param="previous_response_id",
                code="responses_not_stored",
            )
        try:
            return await self.get(key, response_id)
        except NotFound:
            raise NotFound(
                f"Previous response with id '{response_id}' not found.",
                param="previous_response_id",
                code="not_found",
            ) from None

    async def delete(self, key: KeyInfo, response_id: str) -> None:
        await self.get(key, response_id)  # 404 unless it is the key's
        self._pending.pop(response_id, None)
        self._recent.pop(response_id, None)
        async with self._lock, self._sessions() as session:
            query = delete(StoredResponse).where(StoredResponse.id == response_id)
            await session.execute(query.where(StoredResponse.key_id == key.id))
            await session.commit()

    def _expired(self, entry: Stored) -> bool:
        return entry.created_at < datetime.now(UTC) - self._retention

    # --- background: writes and the purge ----------------------------------------------

    async def start(self, writer: RequestLog | None = None) -> None:
        """Purge in the background; write pending responses from `writer`'s task,
        between its batches (one writer per process), or, without one, every
        `flush_interval` from a task of our own."""
        self._tasks = [asyncio.create_task(self._purge_loop())]
        if writer is None:
            self._tasks.append(asyncio.create_task(self._write_loop()))
        else:
            writer.companions.append(self.flush)

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        try:
            await self.flush()
        except Exception as exc:  # the database is away: these are lost, say so
            log.warning("stored responses: %d not written at stop: %s", len(self._pending), exc)

    async def flush(self) -> None:
        """Write what is pending, now, in one transaction. When the database
        refuses the batch but is there (a row it cannot take), each row is
        tried alone and those it refuses are dropped, logged, so one bad row
        never holds the others back; when it is away, they all wait."""
        async with self._lock:
            batch = list(self._pending.values())
            if not batch:
                return
            try:
                await self._insert(batch)
            except UNREACHABLE:
                raise
            except DBAPIError:
                for entry in batch:
                    try:
                        await self._insert([entry])
                    except UNREACHABLE:
                        raise
                    except DBAPIError as exc:
                        log.warning("stored responses: %s refused, dropped: %s", entry.id, exc)
                    self._written(entry)
                return
            for entry in batch:
                self._written(entry)

    async def _insert(self, batch: list[Stored]) -> None:
        async with self._sessions() as session:
            conn = await session.connection()
            if self._statement is None:
                self._statement = _Insert(conn.dialect)
            rows = [self._statement.row(entry) for entry in batch]
            await conn.exec_driver_sql(self._statement.sql, rows)
            await session.commit()

    def _written(self, entry: Stored) -> None:
        """No longer pending (written, or dropped as refused)."""
        if self._pending.get(entry.id) is entry:
            del self._pending[entry.id]

    async def purge(self) -> int:
        """Delete the responses older than the retention; how many went."""
        cutoff = datetime.now(UTC) - self._retention
        for entry in [e for e in self._recent.values() if e.created_at < cutoff]:
            self._recent.pop(entry.id, None)
        async with self._lock, self._sessions() as session:
            result = await session.execute(
                delete(StoredResponse).where(StoredResponse.created_at < cutoff)
            )
            await session.commit()
        return int(getattr(result, "rowcount", 0) or 0)

    async def _write_loop(self) -> None:
        while True:
            await asyncio.sleep(self._flush_interval)
            try:
                await self.flush()
            except Exception as exc:  # keep them pending; the next tick tries again
                log.warning("stored responses: write failed, will retry: %s", exc)

    async def _purge_loop(self) -> None:
        while True:
            try:
                if purged := await self.purge():
                    log.info("stored responses: %d past retention deleted", purged)
            except Exception as exc:
                log.warning("stored responses: purge failed: %s", exc)
            await asyncio.sleep(self._purge_seconds)
