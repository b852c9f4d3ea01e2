"""The request log's spill files: exact round trips, torn writes, and the lock
that tells a live writer's file from a dead one's."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import orjson

from model_router.db.records import RequestRecord
from model_router.services.request_log import TABLE
from model_router.services.spill import RowCodec, SpillFiles, default_spill_base, spill_directory


def _row(**extra: object) -> RequestRecord:
    return RequestRecord.of(
        {
            "id": uuid.uuid4(),
            "user_id": uuid.uuid4(),
            "model": "gpt-4o-mini",
            "prompt_text": "user: 100% \\ 'quoted' \x00 ✓",
            "request_messages": [{"role": "user", "content": "hi"}],
            "total_cost_usd": Decimal("0.000000123456789012"),
            "input_cost_usd": None,
            "created_at": datetime(2026, 11, 26, 23, 0, 0, 123456, tzinfo=UTC),
            "status": "success",
            **extra,
        }
    )


def test_a_row_comes_back_exactly() -> None:
    codec = RowCodec(TABLE)
    row = _row()
    back = codec.decode(codec.encode(row))
    assert back == row
    assert isinstance(back.total_cost_usd, Decimal)
    assert isinstance(back.id, uuid.UUID)


def test_a_line_spilled_before_a_column_existed_gets_its_default() -> None:
    codec = RowCodec(TABLE)
    line = codec.encode(_row()).replace(b',"front_door":"chat_completions"', b"")
    assert b"front_door" not in line
    assert codec.decode(line).front_door == "chat_completions"


def test_a_line_spilled_before_dropped_hints_and_1h_cache_writes_loads() -> None:
    codec = RowCodec(TABLE)
    values = orjson.loads(codec.encode(_row()))
    for name in ("dropped_hints", "cache_write_1h_tokens", "cache_write_1h_price_per_1m_tokens"):
        del values[name]
    back = codec.decode(orjson.dumps(values))
    assert back.dropped_hints is None
    assert back.cache_write_1h_tokens == 0
    assert back.cache_write_1h_price_per_1m_tokens is None


def test_dropped_hints_and_1h_cache_writes_survive_a_spill() -> None:
    codec = RowCodec(TABLE)
    row = _row(
        dropped_hints=["thinking.budget_tokens"],
        cache_write_1h_tokens=400,
        cache_write_1h_price_per_1m_tokens=Decimal("6"),
    )
    back = codec.decode(codec.encode(row))
    assert back.dropped_hints == ["thinking.budget_tokens"]
    assert back.cache_write_1h_tokens == 400
    assert back.cache_write_1h_price_per_1m_tokens == Decimal("6")


def test_integers_past_64_bits_in_messages_are_kept() -> None:
    codec = RowCodec(TABLE)
    row = _row(request_messages=[{"role": "user", "content": "x", "n": 2**80}])
    assert codec.decode(codec.encode(row)).request_messages[0]["n"] == 2**80


def test_a_torn_last_line_is_skipped_and_the_rest_read(tmp_path: Path) -> None:
    files = SpillFiles(tmp_path, RowCodec(TABLE))
    rows = [_row() for _ in range(3)]
    files.append(rows)
    with files.own_path.open("ab") as handle:
        handle.write(b'{"id": "torn')
    read, offset = files.read_batch(files.own_path, 0, 10)
    assert [r.id for r in read] == [r.id for r in rows]
    assert offset == files.own_path.stat().st_size
    read, _ = files.read_batch(files.own_path, 0, 2)
    assert len(read) == 2


def test_a_live_writers_file_is_never_adopted_a_dead_ones_is(tmp_path: Path) -> None:
    live = SpillFiles(tmp_path, RowCodec(TABLE))
    other = SpillFiles(tmp_path, RowCodec(TABLE))
    live.append([_row()])
    assert other.orphans() == []  # locked by its writer
    live.close()  # its writer is gone (the lock goes with the file descriptor)
    found = other.orphans()
    assert [path for path, _ in found] == [live.own_path]
    for path, fd in found:
        SpillFiles.release(path, fd, done=True)
    assert not live.own_path.exists()


def test_each_database_has_its_own_directory() -> None:
    a = spill_directory(Path("/s"), "postgresql+asyncpg://u@h:5432/a")
    b = spill_directory(Path("/s"), "postgresql+asyncpg://u@h:5432/b")
    assert a != b and a.parent == b.parent == Path("/s")
    assert default_spill_base("sqlite+aiosqlite:////x/y/r.db") == Path("/x/y/r.db-spill")
    assert default_spill_base("postgresql+asyncpg://h/db") == Path("data/request-log-spill")
