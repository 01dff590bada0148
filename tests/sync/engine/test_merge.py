"""The field merge, table-driven: who changed × direction × conflict rule, then the edge cases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from itertools import product
from typing import Any

import pytest

from app.sync.engine.hashing import Side
from app.sync.engine.merge import Baseline, Conflict, Decision, Pair, Skipped, merge
from app.sync.mapping.model import ConflictRule, Direction
from tests.sync.engine.builders import field, mapping, reverse

TO, FROM, BOTH = Direction.to_hubspot, Direction.from_hubspot, Direction.both
EARLY = datetime(2024, 5, 1, 11, 0, tzinfo=UTC)
LATE = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)

# A rule with the modification times it meets: (rule, source modified, HubSpot modified).
RULES: dict[str, tuple[ConflictRule, datetime | None, datetime | None]] = {
    "newest, source newer": (ConflictRule.newest, LATE, EARLY),
    "newest, hubspot newer": (ConflictRule.newest, EARLY, LATE),
    "newest, tie": (ConflictRule.newest, LATE, LATE),
    "newest, no times": (ConflictRule.newest, None, None),
    "newest, no source time": (ConflictRule.newest, None, LATE),
    "source": (ConflictRule.source, EARLY, LATE),
    "hubspot": (ConflictRule.hubspot, LATE, EARLY),
}
# Who changed the field `name` since the last sync, when both sides held "old".
CHANGES = {
    "neither": ("old", "old"),
    "both, to the same value": ("same", "same"),
    "source": ("S", "old"),
    "hubspot": ("old", "H"),
    "both": ("S", "H"),
}


def decide(
    direction: Direction, rule_name: str, change: str, *, object_rule: ConflictRule | None = None
) -> Decision:
    """Merge one pair whose field `name` (direction, rule) changed as ``change`` says."""
    rule, source_time, hubspot_time = RULES[rule_name]
    source, hubspot = CHANGES[change]
    table = mapping(field("name", direction, rule), conflict=object_rule or ConflictRule.newest)
    pair = Pair(
        {"name": source},
        {"name": hubspot},
        Baseline.agreed({"name": "old"}),
        source_time,
        hubspot_time,
    )
    return merge(table, pair, reverse)


NO_CHANGE = [
    (direction, rule, change)
    for direction, rule, change in product(Direction, RULES, ["neither", "both, to the same value"])
]


@pytest.mark.parametrize(("direction", "rule", "change"), NO_CHANGE)
def test_no_change_writes_nothing(direction: Direction, rule: str, change: str) -> None:
    decision = decide(direction, rule, change)
    assert not decision.writes
    assert decision.conflicts == ()
    assert decision.skipped == ()


ONE_SIDED = [
    # (direction, who changed, to HubSpot, to source, skipped change)
    (TO, "source", {"name": "S"}, {}, None),
    (BOTH, "source", {"name": "S"}, {}, None),
    (
        FROM,
        "source",
        {},
        {},
        Skipped("name", Side.source, "S", "the field flows from_hubspot only"),
    ),
    (FROM, "hubspot", {}, {"src_name": "rev:H"}, None),
    (BOTH, "hubspot", {}, {"src_name": "rev:H"}, None),
    (TO, "hubspot", {}, {}, Skipped("name", Side.hubspot, "H", "the field flows to_hubspot only")),
]


@pytest.mark.parametrize("rule", RULES)
@pytest.mark.parametrize(("direction", "change", "to_hubspot", "to_source", "skipped"), ONE_SIDED)
def test_a_change_on_one_side_is_never_a_conflict(
    direction: Direction,
    change: str,
    to_hubspot: dict[str, str],
    to_source: dict[str, Any],
    skipped: Skipped | None,
    rule: str,
) -> None:
    decision = decide(direction, rule, change)
    assert decision.to_hubspot == to_hubspot
    assert decision.to_source == to_source
    assert decision.conflicts == ()
    assert decision.skipped == ((skipped,) if skipped else ())


S, H = Side.source, Side.hubspot
BOTH_CHANGED = [
    # (direction, rule, winner, to HubSpot, to source)
    (TO, "newest, source newer", S, {"name": "S"}, {}),
    (TO, "newest, hubspot newer", H, {}, {}),
    (TO, "newest, tie", S, {"name": "S"}, {}),
    (TO, "newest, no times", S, {"name": "S"}, {}),
    (TO, "newest, no source time", S, {"name": "S"}, {}),
    (TO, "source", S, {"name": "S"}, {}),
    (TO, "hubspot", H, {}, {}),
    (FROM, "newest, source newer", S, {}, {}),
    (FROM, "newest, hubspot newer", H, {}, {"src_name": "rev:H"}),
    (FROM, "newest, tie", S, {}, {}),
    (FROM, "newest, no times", S, {}, {}),
    (FROM, "newest, no source time", S, {}, {}),
    (FROM, "source", S, {}, {}),
    (FROM, "hubspot", H, {}, {"src_name": "rev:H"}),
    (BOTH, "newest, source newer", S, {"name": "S"}, {}),
    (BOTH, "newest, hubspot newer", H, {}, {"src_name": "rev:H"}),
    (BOTH, "newest, tie", S, {"name": "S"}, {}),
    (BOTH, "newest, no times", S, {"name": "S"}, {}),
    (BOTH, "newest, no source time", S, {"name": "S"}, {}),
    (BOTH, "source", S, {"name": "S"}, {}),
    (BOTH, "hubspot", H, {}, {"src_name": "rev:H"}),
]


@pytest.mark.parametrize(("direction", "rule", "winner", "to_hubspot", "to_source"), BOTH_CHANGED)
def test_a_change_on_both_sides_is_decided_by_the_rule(
    direction: Direction,
    rule: str,
    winner: Side,
    to_hubspot: dict[str, str],
    to_source: dict[str, Any],
) -> None:
    decision = decide(direction, rule, "both")
    assert decision.to_hubspot == to_hubspot
    assert decision.to_source == to_source
    assert decision.conflicts == (
        Conflict(
            field="name",
            source_value="S",
            hubspot_value="H",
            source_was="old",
            hubspot_was="old",
            rule=RULES[rule][0],
            winner=winner,
            written=bool(to_hubspot or to_source),
        ),
    )
    assert decision.skipped == ()


class TestPerFieldRules:
    def test_field_rule_overrides_the_objects(self) -> None:
        table = mapping(
            field("name", conflict=ConflictRule.hubspot),
            field("city"),
            conflict=ConflictRule.source,
        )
        both_changed = Pair(
            {"name": "S", "city": "S"},
            {"name": "H", "city": "H"},
            Baseline.agreed({"name": "old", "city": "old"}),
        )
        decision = merge(table, both_changed, reverse)
        assert decision.to_hubspot == {"city": "S"}
        assert decision.to_source == {"src_name": "rev:H"}
        assert [(c.field, c.rule, c.winner) for c in decision.conflicts] == [
            ("name", ConflictRule.hubspot, Side.hubspot),
            ("city", ConflictRule.source, Side.source),
        ]

    def test_field_direction_overrides_the_objects(self) -> None:
        table = mapping(field("name", FROM), field("city"))
        pair = Pair(
            {"name": "S", "city": "S"},
            {"name": "old", "city": "old"},
            Baseline.agreed({"name": "old", "city": "old"}),
        )
        decision = merge(table, pair, reverse)
        assert decision.to_hubspot == {"city": "S"}
        assert [s.field for s in decision.skipped] == ["name"]

    def test_newest_compares_naive_times_as_utc(self) -> None:
        table = mapping(field("name"))
        noon_utc = datetime(2024, 5, 1, 12, 0)  # naive: taken as UTC
        eleven_utc = datetime(2024, 5, 1, 13, 0, tzinfo=timezone(timedelta(hours=2)))
        pair = Pair(
            {"name": "S"},
            {"name": "H"},
            Baseline.agreed({"name": "old"}),
            source_modified=eleven_utc,
            hubspot_modified=noon_utc,
        )
        assert merge(table, pair, reverse).conflicts[0].winner is Side.hubspot

    def test_a_field_without_source_field_never_writes_to_the_source(self) -> None:
        table = mapping(field("lifecycle", BOTH, source=None, default="lead"))
        pair = Pair(
            {"lifecycle": "lead"}, {"lifecycle": "customer"}, Baseline.agreed({"lifecycle": "lead"})
        )
        decision = merge(table, pair, reverse)
        assert not decision.writes
        assert decision.skipped == (
            Skipped(
                "lifecycle", Side.hubspot, "customer", "the field has no source field to write to"
            ),
        )


class TestNewPairs:
    table = mapping(field("name", TO), field("city", BOTH), field("status", FROM))

    def test_source_values_go_to_an_empty_hubspot_record(self) -> None:
        pair = Pair({"name": "Acme", "city": "Bern", "status": "x"}, {})
        decision = merge(self.table, pair, reverse)
        assert decision.to_hubspot == {"name": "Acme", "city": "Bern"}
        assert decision.to_source == {}
        assert decision.conflicts == ()

    def test_a_side_not_read_counts_as_empty(self) -> None:
        decision = merge(self.table, Pair({"name": "Acme"}, None), reverse)
        assert decision.to_hubspot == {"name": "Acme"}

    def test_hubspot_values_go_to_an_empty_source_record(self) -> None:
        pair = Pair({}, {"name": "Acme", "city": "Bern", "status": "open"})
        decision = merge(self.table, pair, reverse)
        assert decision.to_source == {"src_city": "rev:Bern", "src_status": "rev:open"}
        assert decision.to_hubspot == {}

    def test_an_empty_source_never_blanks_hubspot(self) -> None:
        pair = Pair({"name": None}, {"name": "Acme"})
        decision = merge(self.table, pair, reverse)
        assert not decision.writes
        assert decision.skipped[0].side is Side.hubspot

    @pytest.mark.parametrize(
        ("rule", "to_hubspot", "to_source"),
        [
            (ConflictRule.source, {"name": "Acme AG", "city": "Bern"}, {}),
            (ConflictRule.hubspot, {}, {"src_city": "rev:Berne"}),
        ],
    )
    def test_values_on_both_sides_are_a_conflict_for_the_rule(
        self, rule: ConflictRule, to_hubspot: dict[str, str], to_source: dict[str, Any]
    ) -> None:
        table = mapping(field("name", TO), field("city", BOTH), conflict=rule)
        pair = Pair({"name": "Acme AG", "city": "Bern"}, {"name": "Acme", "city": "Berne"})
        decision = merge(table, pair, reverse)
        assert decision.to_hubspot == to_hubspot
        assert decision.to_source == to_source
        assert [(c.field, c.source_was, c.hubspot_was) for c in decision.conflicts] == [
            ("name", "", ""),
            ("city", "", ""),
        ]

    def test_equal_values_are_no_change(self) -> None:
        pair = Pair({"name": "Acme", "city": 3}, {"name": "Acme", "city": "3"})
        decision = merge(self.table, pair, reverse)
        assert not decision.writes
        assert decision.conflicts == ()


class TestEmptyValues:
    table = mapping(field("name"))

    @pytest.mark.parametrize(("source", "hubspot"), [(None, ""), ("", None), (None, None)])
    def test_none_and_empty_string_are_the_same(self, source: Any, hubspot: Any) -> None:
        pair = Pair({"name": source}, {"name": hubspot}, Baseline.agreed({}))
        assert not merge(self.table, pair, reverse).writes

    def test_a_missing_field_is_empty(self) -> None:
        assert not merge(self.table, Pair({}, {"name": ""}, Baseline.agreed({})), reverse).writes

    def test_clearing_in_the_source_clears_hubspot(self) -> None:
        pair = Pair({"name": None}, {"name": "Acme"}, Baseline.agreed({"name": "Acme"}))
        decision = merge(self.table, pair, reverse)
        assert decision.to_hubspot == {"name": ""}
        assert decision.synced == Baseline({}, {})

    def test_clearing_in_hubspot_hands_none_to_the_reverse_transform(self) -> None:
        pair = Pair({"name": "Acme"}, {"name": ""}, Baseline.agreed({"name": "Acme"}))
        assert merge(self.table, pair, reverse).to_source == {"src_name": None}


class TestBaseline:
    def test_each_side_is_compared_with_its_own_last_value(self) -> None:
        normalised = Baseline({"email": "Ann@X.com"}, {"email": "ann@x.com"})
        pair = Pair({"email": "Ann@X.com"}, {"email": "ann@x.com"}, normalised)
        decision = merge(mapping(field("email")), pair, reverse)
        assert not decision.writes
        assert decision.conflicts == ()

    def test_a_side_not_read_keeps_its_baseline(self) -> None:
        synced = Baseline.agreed({"name": "Old", "city": "Bern"})
        pair = Pair({"name": "New", "city": "Bern"}, None, synced)
        decision = merge(mapping(field("name"), field("city")), pair, reverse)
        assert decision.to_hubspot == {"name": "New"}
        assert decision.synced.hubspot == {"name": "New", "city": "Bern"}

    def test_synced_is_both_sides_after_the_writes(self) -> None:
        pair = Pair(
            {"name": "S", "city": "Bern"},
            {"name": "old", "city": "Zug"},
            Baseline.agreed({"name": "old", "city": "Bern"}),
        )
        decision = merge(mapping(field("name"), field("city")), pair, reverse)
        assert decision.synced == Baseline.agreed({"name": "S", "city": "Zug"})
        assert decision.synced.hash(Side.source) == decision.synced.hash(Side.hubspot)

    def test_a_skipped_change_is_not_reported_again(self) -> None:
        table = mapping(field("name", FROM))
        first = merge(
            table, Pair({"name": "S"}, {"name": "old"}, Baseline.agreed({"name": "old"})), reverse
        )
        again = merge(table, Pair({"name": "S"}, {"name": "old"}, first.synced), reverse)
        assert len(first.skipped) == 1
        assert again.skipped == ()
        assert not again.writes
