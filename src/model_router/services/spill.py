"""The request log's spill files: rows the database could not take yet, on disk.

One directory per database (`<spill dir>/<hash of the database URL>`), one
file per writer (process), JSON lines. A writer holds an exclusive `flock` on
its own file for as long as it lives, so a file nobody holds belongs to a
writer that died (kill -9, a crash, a deploy): any writer of the same
database adopts it, writes its rows, and deletes it. Rows are inserted with
"on conflict do nothing" on their primary key, so a file replayed twice
(a crash mid-replay) writes each row once.

Values are written by column type and read back by column type (`RowCodec`):
money as a decimal string, never a float; times as ISO 8601; ids as text.
All file I/O here is blocking: the request log runs it in a thread.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import uuid
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import DateTime, Numeric, Table, Uuid

from model_router.db.records import FIELDS, RequestRecord
from model_router.db.types import Money, UTCDateTime

log = logging.getLogger(__name__)

Row = RequestRecord
FIELD_SET = frozenset(FIELDS)
SUFFIX = ".jsonl"
REJECTED_SUFFIX = ".rejected"  # JSON lines too; not a spill file, never adopted


def spill_directory(base: Path, database_url: str) -> Path:
    """The spill directory of one database: never shared with another database."""
    digest = hashlib.sha256(database_url.encode()).hexdigest()[:16]
    return base / digest


def default_spill_base(async_database_url: str) -> Path:
    """Beside a SQLite file; under ./data for PostgreSQL."""
    if async_database_url.startswith("sqlite"):
        path = async_database_url.split("///", 1)[-1]
        if path and path != ":memory:":
            return Path(path).with_name(Path(path).name + "-spill")
    return Path("data") / "request-log-spill"


def _encode_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


class RowCodec:
    """Rows to JSON lines and back, exactly, driven by the table's column types."""

    def __init__(self, table: Table) -> None:
        self._decoders: dict[str, Callable[[Any], Any]] = {}
        for column in table.columns:
            kind = column.type
            if isinstance(kind, Money | Numeric):
                self._decoders[column.name] = Decimal
            elif isinstance(kind, UTCDateTime | DateTime):
                self._decoders[column.name] = datetime.fromisoformat
            elif isinstance(kind, Uuid):
                self._decoders[column.name] = uuid.UUID

    def encode(self, row: Row) -> bytes:
        values = row.as_dict()
        try:
            return orjson.dumps(values, default=_encode_default)
        except TypeError:  # integers past 64 bits in a client's messages, and the like
            return json.dumps(values, default=str, ensure_ascii=False).encode()

    def decode(self, line: bytes) -> Row:
        values: dict[str, Any] = orjson.loads(line)
        for name, decode in self._decoders.items():
            value = values.get(name)
            if value is not None:
                values[name] = decode(value)
        # A line spilled by an older version may lack later columns: their defaults.
        return RequestRecord.of({k: v for k, v in values.items() if k in FIELD_SET})


class SpillFiles:
    """This writer's spill file, and the orphaned files of dead writers."""

    def __init__(self, directory: Path, codec: RowCodec) -> None:
        self.directory = directory
        self._codec = codec
        self._own = directory / f"spill-{os.getpid()}-{uuid.uuid4().hex[:12]}{SUFFIX}"
        self._fd: int | None = None
        self.rows = 0  # rows in this writer's file, not yet replayed

    @property
    def own_path(self) -> Path:
        return self._own

    def append(self, rows: list[Row]) -> None:
        """Append rows, in one write; the file survives the process (not power loss)."""
        if not rows:
            return
        data = b"".join(self._codec.encode(row) + b"\n" for row in rows)
        fd = self._open_own()
        view = memoryview(data)
        while view:
            written = os.write(fd, view)
            view = view[written:]
        self.rows += len(rows)

    def _open_own(self) -> int:
        if self._fd is None:
            self.directory.mkdir(parents=True, exist_ok=True)
            # Locked under a name no other writer adopts, then renamed into view.
            hidden = self._own.with_suffix(".new")
            fd = os.open(hidden, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            fcntl.flock(fd, fcntl.LOCK_EX)
            os.rename(hidden, self._own)
            self._fd = fd
        return self._fd

    def reject(self, rows: list[Row]) -> None:
        """Rows the database refuses: kept, apart, for an operator (never replayed)."""
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.directory / f"rejected-{os.getpid()}{REJECTED_SUFFIX}"
        with path.open("ab") as handle:
            handle.write(b"".join(self._codec.encode(row) + b"\n" for row in rows))

    def read_batch(self, path: Path, offset: int, size: int) -> tuple[list[Row], int]:
        """Up to `size` rows from byte `offset`; the offset after them."""
        rows: list[Row] = []
        with path.open("rb") as handle:
            handle.seek(offset)
            while len(rows) < size:
                line = handle.readline()
                if not line:
                    break
                if not line.endswith(b"\n"):  # a write cut short by a crash
                    log.error("request log: %s ends with a partial row; skipped", path)
                    offset += len(line)
                    break
                offset += len(line)
                try:
                    rows.append(self._codec.decode(line))
                except (ValueError, TypeError) as exc:
                    log.error("request log: unreadable row in %s skipped (%s)", path, exc)
        return rows, offset

    def clear_own(self) -> None:
        """Every row of this writer's file is in the database: empty it."""
        if self._fd is not None:
            os.ftruncate(self._fd, 0)
        self.rows = 0

    def orphans(self) -> list[tuple[Path, int]]:
        """Files of dead writers, each locked for us: (path, fd) to replay, then `release`."""
        if not self.directory.is_dir():
            return []
        found: list[tuple[Path, int]] = []
        for path in sorted(self.directory.glob(f"*{SUFFIX}")):
            if path == self._own:
                continue
            try:
                fd = os.open(path, os.O_RDWR)
            except FileNotFoundError:  # another writer adopted and removed it
                continue
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:  # its writer is alive
                os.close(fd)
                continue
            found.append((path, fd))
        return found

    @staticmethod
    def release(path: Path, fd: int, *, done: bool) -> None:
        if done:
            path.unlink(missing_ok=True)
        os.close(fd)

    def close(self) -> None:
        """At a clean stop: remove this writer's file if it is empty."""
        if self._fd is None:
            return
        if self.rows == 0:
            self._own.unlink(missing_ok=True)
        os.close(self._fd)
        self._fd = None
