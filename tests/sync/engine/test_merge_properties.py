"""Merge properties over random pairs: idempotent, silent when nothing changed, direction-safe."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from app.sync.engine.hashing import snapshot
from app.sync.engine.merge import Baseline, Decision, Pair, first_sync, merge
from app.sync.mapping.model import ConflictRule, Direction, ObjectMapping
from tests.sync.engine.builders import field, identity, mapping

NAMES = ("a", "b", "c", "d")
value = st.sampled_from([None, "", "x", "y", "z"])
values = st.fixed_dictionaries({}, optional=dict.fromkeys(NAMES, value))
moment = st.none() | st.datetimes(
    min_value=datetime(2024, 1, 1), max_value=datetime(2024, 1, 2), timezones=st.just(UTC)
)


@st.composite
def tables(draw: st.DrawFn) -> ObjectMapping:
    """A `both` object mapping whose fields draw their own direction and conflict rule."""
    rules = [
        field(
            name,
            draw(st.none() | st.sampled_from(Direction)),
            draw(st.none() | st.sampled_from(ConflictRule)),
        )
        for name in NAMES
    ]
    return mapping(*rules, conflict=draw(st.sampled_from(ConflictRule)))


@st.composite
def pairs(draw: st.DrawFn) -> Pair:
    """A pair with any values, baseline (or none) and modification times; a side may be unread."""
    synced = draw(st.none() | st.builds(Baseline, values.map(snapshot), values.map(snapshot)))
    return Pair(
        draw(values | st.none()), draw(values | st.none()), synced, draw(moment), draw(moment)
    )


def applied(table: ObjectMapping, pair: Pair, decision: Decision) -> Pair:
    """The pair as read back after the decision's writes (identity reverse transform)."""
    base = pair.synced or Baseline()
    source = dict(base.source if pair.source is None else pair.source)
    hubspot = dict(base.hubspot if pair.hubspot is None else pair.hubspot)
    hubspot.update(decision.to_hubspot)
    for rule in table.fields:
        if rule.source in decision.to_source:
            source[rule.hubspot] = decision.to_source[rule.source]
    return Pair(source, hubspot, decision.synced, pair.source_modified, pair.hubspot_modified)


@given(tables(), pairs())
def test_merging_again_after_the_writes_changes_nothing(table: ObjectMapping, pair: Pair) -> None:
    decision = merge(table, pair, identity)
    again = merge(table, applied(table, pair, decision), identity)
    assert not again.writes
    assert again.conflicts == ()
    assert again.skipped == ()
    assert again.synced == decision.synced


@given(tables(), pairs())
def test_synced_is_what_each_side_holds_after_the_writes(table: ObjectMapping, pair: Pair) -> None:
    decision = merge(table, pair, identity)
    after = applied(table, pair, decision)
    assert after.source is not None
    assert after.hubspot is not None
    assert decision.synced == Baseline(snapshot(after.source), snapshot(after.hubspot))


@given(tables(), values, values, moment, moment)
def test_a_pair_unchanged_on_both_sides_is_never_written(
    table: ObjectMapping,
    source: dict[str, Any],
    hubspot: dict[str, Any],
    source_modified: datetime | None,
    hubspot_modified: datetime | None,
) -> None:
    synced = Baseline(snapshot(source), snapshot(hubspot))
    for pair in (
        Pair(source, hubspot, synced),
        Pair(None, None, synced),
        Pair(source, hubspot, synced, source_modified, hubspot_modified),
    ):
        decision = merge(table, pair, identity)
        assert not decision.writes
        assert decision.conflicts == ()


@given(tables(), pairs())
def test_writes_follow_each_fields_direction(table: ObjectMapping, pair: Pair) -> None:
    decision = merge(table, pair, identity)
    by_source = {rule.source: rule for rule in table.fields}
    by_hubspot = {rule.hubspot: rule for rule in table.fields}
    for name in decision.to_hubspot:
        assert table.field_direction(by_hubspot[name]).includes(Direction.to_hubspot)
    for name in decision.to_source:
        assert table.field_direction(by_source[name]).includes(Direction.from_hubspot)


@given(tables(), pairs())
def test_conflicts_are_fields_changed_on_both_sides_to_different_values(
    table: ObjectMapping, pair: Pair
) -> None:
    decision = merge(table, pair, identity)
    base = pair.synced or Baseline()
    source = base.source if pair.source is None else snapshot(pair.source)
    hubspot = base.hubspot if pair.hubspot is None else snapshot(pair.hubspot)
    both_changed = {
        name
        for name in NAMES
        if source.get(name) != hubspot.get(name)
        and source.get(name) != base.source.get(name)
        and hubspot.get(name) != base.hubspot.get(name)
    }
    assert {c.field for c in decision.conflicts} == both_changed
    written = {
        *decision.to_hubspot,
        *(r.hubspot for r in table.fields if r.source in decision.to_source),
    }
    assert {c.field for c in decision.conflicts if c.written} <= written
    assert not {s.field for s in decision.skipped} & both_changed


@given(tables(), values, moment)
def test_first_sync_decides_what_merge_decides_for_a_new_pair(
    table: ObjectMapping, source: dict[str, Any], modified: datetime | None
) -> None:
    flowing = {
        r.hubspot for r in table.fields if table.field_direction(r).includes(Direction.to_hubspot)
    }
    outgoing = {name: v for name, v in source.items() if name in flowing}  # as the mapper maps
    assert first_sync(outgoing) == merge(table, Pair(outgoing, None, None, modified), identity)
