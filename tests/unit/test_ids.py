"""Request ids are UUIDv7: time-ordered (index-friendly), unique, RFC 9562 shaped."""

from __future__ import annotations

import time
import uuid

from model_router.ids import uuid7


def test_a_request_id_is_a_version_7_rfc_uuid_carrying_the_time() -> None:
    before = time.time_ns() // 1_000_000
    value = uuid7()
    after = time.time_ns() // 1_000_000
    assert value.version == 7
    assert value.variant == uuid.RFC_4122
    assert before <= value.int >> 80 <= after
    assert uuid.UUID(str(value)) == value


def test_ids_made_in_later_milliseconds_sort_later_and_none_repeat() -> None:
    first = [uuid7() for _ in range(1000)]
    time.sleep(0.002)
    second = [uuid7() for _ in range(1000)]
    assert max(first) < min(second)
    assert len(set(first + second)) == 2000
