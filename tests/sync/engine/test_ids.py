"""The run engine's row ids: valid version 7 UUIDs, in the order they were made."""

from __future__ import annotations

import time

from app.sync.engine.ids import uuid7


def test_an_id_is_a_version_7_rfc_uuid() -> None:
    made = uuid7()
    assert made.version == 7
    assert made.variant == "specified in RFC 4122"
    assert abs((made.int >> 80) - time.time_ns() // 1_000_000) < 1_000  # starts with the time


def test_ids_of_later_milliseconds_sort_after_earlier_ones() -> None:
    first = uuid7()
    time.sleep(0.002)
    assert uuid7() > first
    assert uuid7().hex > first.hex  # SQLite stores the hex text: the same order


def test_ids_made_in_one_millisecond_differ() -> None:
    assert len({uuid7() for _ in range(10_000)}) == 10_000
