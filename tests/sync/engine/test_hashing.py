"""Canonical values, snapshots and hashes: equal values hash equal, any change does not."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.sync.engine.hashing import Side, canonical, snapshot, snapshot_hash, values_hash


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, ""),
        ("", ""),
        (" text ", " text "),
        (True, "true"),
        (False, "false"),
        (42, "42"),
        (-7, "-7"),
        (10.0, "10"),
        (10.5, "10.5"),
        (0.1, "0.1"),
        (Decimal("10.50"), "10.5"),
        (Decimal("1E+2"), "100"),
        (Decimal("-0.00"), "0"),
        (date(2024, 2, 29), "2024-02-29"),
        (datetime(2024, 1, 2, 3, 4, 5, 678901, tzinfo=UTC), "2024-01-02T03:04:05.678Z"),
        (datetime(2024, 1, 2, 3, 4, 5), "2024-01-02T03:04:05.000Z"),
        (
            datetime(2024, 1, 2, 5, 4, 5, tzinfo=timezone(timedelta(hours=2))),
            "2024-01-02T03:04:05.000Z",
        ),
        (["a", "b"], "a;b"),
        ({"b", "a"}, "a;b"),
        ({"b": 1, "a": [True]}, '{"a":[true],"b":1}'),
    ],
)
def test_canonical_is_hubspots_string_form(value: Any, expected: str) -> None:
    assert canonical(value) == expected


class TestSnapshot:
    def test_leaves_out_empty_fields(self) -> None:
        assert snapshot({"a": None, "b": "", "c": 0, "d": False}) == {"c": "0", "d": "false"}


class TestValuesHash:
    def test_is_sha256_hex(self) -> None:
        digest = values_hash({"name": "Acme"})
        assert len(digest) == 64
        assert set(digest) <= set("0123456789abcdef")

    def test_ignores_order_and_empty_fields(self) -> None:
        first = values_hash({"name": "Acme", "city": "Bern", "phone": None})
        assert first == values_hash({"city": "Bern", "name": "Acme", "fax": ""})

    def test_equal_for_equal_strings_of_typed_values(self) -> None:
        assert values_hash({"n": 3, "ok": True}) == values_hash({"n": "3", "ok": "true"})

    def test_changes_with_any_value(self) -> None:
        assert values_hash({"name": "Acme"}) != values_hash({"name": "Acme AG"})

    def test_tells_fields_apart(self) -> None:
        assert values_hash({"a": "x"}) != values_hash({"b": "x"})

    @given(st.dictionaries(st.text(min_size=1, max_size=5), st.text(max_size=5), max_size=6))
    def test_stable_under_reordering(self, values: dict[str, str]) -> None:
        reordered = dict(reversed(list(values.items())))
        assert values_hash(values) == values_hash(reordered)


def test_side_other() -> None:
    assert Side.source.other is Side.hubspot
    assert Side.hubspot.other is Side.source


def test_the_hash_of_a_snapshot_is_the_hash_of_its_values() -> None:
    values = {"b": 2, "a": "x", "empty": None, "when": datetime(2024, 5, 1, 12, tzinfo=UTC)}
    assert snapshot_hash(snapshot(values)) == values_hash(values)
    assert snapshot_hash(snapshot(values)) != snapshot_hash({"a": "x"})
