"""The field-by-field merge of one record pair: which values flow where, and who wins conflicts.

Everything is compared in HubSpot's vocabulary: property names and canonical
string values (see ``hashing``). Each side is compared with what *that side*
held after the last sync (its baseline), so a value HubSpot normalised on
write (a lowercased e-mail) is not mistaken for a change. Rules:

- both sides hold the same value: nothing to do;
- only one side changed: the change flows to the other side if the field's
  direction allows it, else it is reported as skipped and not written;
- both changed to different values: a conflict. The field's rule (else the
  object's) names the winner: ``source``, ``hubspot``, or ``newest`` — the
  side whose record was modified later; a tie or a missing time goes to the
  source. The winner's value flows if the direction allows it; otherwise
  both sides keep their values (``Conflict.written`` is False);
- neither changed but they differ (a change skipped earlier): nothing;
- a new pair has empty baselines, so whatever a side holds counts as its
  change: a value on one side only flows (if allowed); values on both sides
  that differ are a conflict decided by the rule. An empty side never blanks
  the other on a new pair.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from app.sync.engine.hashing import Side, Snapshot, Values, as_utc, snapshot, values_hash
from app.sync.mapping.model import ConflictRule, Direction, FieldRule, ObjectMapping

# Turns a HubSpot value (canonical string, None when empty) back into the source's value.
Reverse = Callable[[FieldRule, str | None], Any]

_FLOW = {Side.hubspot: Direction.to_hubspot, Side.source: Direction.from_hubspot}


@dataclass(frozen=True, slots=True)
class Baseline:
    """What each side held, field by field, after the last successful sync."""

    source: Snapshot = field(default_factory=dict)
    hubspot: Snapshot = field(default_factory=dict)

    @classmethod
    def agreed(cls, values: Values) -> Baseline:
        """A baseline where both sides held the same ``values``."""
        snap = snapshot(values)
        return cls(source=snap, hubspot=dict(snap))

    def side(self, side: Side) -> Snapshot:
        """The snapshot of one side."""
        return self.source if side is Side.source else self.hubspot

    def hash(self, side: Side) -> str:
        """The hash of one side's values: the record link's ``source_hash``/``hubspot_hash``."""
        return values_hash(self.side(side))


@dataclass(frozen=True, slots=True)
class Pair:
    """One record pair as read: both sides' mapped values, baseline and modification times.

    A side given as None was not read; it is taken to hold its baseline values.
    """

    source: Values | None
    hubspot: Values | None
    synced: Baseline | None = None  # None: a new pair, never synced
    source_modified: datetime | None = None
    hubspot_modified: datetime | None = None


@dataclass(frozen=True, slots=True)
class Conflict:
    """A field changed on both sides since the last sync, and how the rule decided it."""

    field: str
    source_value: str
    hubspot_value: str
    source_was: str
    hubspot_was: str
    rule: ConflictRule
    winner: Side
    written: bool  # False when the field's direction keeps the winner's value from flowing

    def to_json(self) -> dict[str, Any]:
        """The conflict as stored on the run item."""
        return {
            "field": self.field,
            "source_value": self.source_value,
            "hubspot_value": self.hubspot_value,
            "source_was": self.source_was,
            "hubspot_was": self.hubspot_was,
            "rule": str(self.rule),
            "winner": str(self.winner),
            "written": self.written,
        }


@dataclass(frozen=True, slots=True)
class Skipped:
    """A change on one side that the field's direction keeps from flowing to the other."""

    field: str
    side: Side  # where the change was made
    value: str
    reason: str

    def to_json(self) -> dict[str, str]:
        """The skipped change as stored on the run item."""
        return {
            "field": self.field,
            "side": str(self.side),
            "value": self.value,
            "reason": self.reason,
        }


@dataclass(frozen=True, slots=True)
class Decision:
    """What to write on each side for one pair, and the baseline once that is written."""

    to_hubspot: dict[str, str]  # HubSpot property → value ("" clears it)
    to_source: dict[str, Any]  # source field → reverse-transformed value
    conflicts: tuple[Conflict, ...]
    skipped: tuple[Skipped, ...]
    # The new baseline: store it only once every write of the pair succeeded; after a
    # failure keep the old one, so the next run decides (and retries) the same writes.
    synced: Baseline

    @property
    def writes(self) -> bool:
        """Whether anything is to be written on either side."""
        return bool(self.to_hubspot or self.to_source)


@dataclass(slots=True)
class _Merge:
    mapping: ObjectMapping
    pair: Pair
    reverse: Reverse
    base: Baseline
    after: dict[Side, Snapshot]
    to_hubspot: dict[str, str] = field(default_factory=dict)
    to_source: dict[str, Any] = field(default_factory=dict)
    conflicts: list[Conflict] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)

    def merge_field(self, rule: FieldRule) -> None:
        name = rule.hubspot
        source = self.after[Side.source].get(name, "")
        hubspot = self.after[Side.hubspot].get(name, "")
        if source == hubspot:
            return
        source_was = self.base.source.get(name, "")
        hubspot_was = self.base.hubspot.get(name, "")
        source_changed, hubspot_changed = source != source_was, hubspot != hubspot_was
        if source_changed and hubspot_changed:
            now = {Side.source: source, Side.hubspot: hubspot}
            self.conflict(rule, now, {Side.source: source_was, Side.hubspot: hubspot_was})
        elif source_changed or hubspot_changed:  # the per-record path: keep it lean
            side, value = (Side.source, source) if source_changed else (Side.hubspot, hubspot)
            if not self.flow(rule, side):
                self.skipped.append(Skipped(name, side, value, self.blocked(rule, side.other)))

    def conflict(self, rule: FieldRule, now: dict[Side, str], was: dict[Side, str]) -> None:
        conflict_rule = rule.conflict or self.mapping.conflict
        winner = self.winner(conflict_rule)
        written = self.flow(rule, winner)
        self.conflicts.append(
            Conflict(
                field=rule.hubspot,
                source_value=now[Side.source],
                hubspot_value=now[Side.hubspot],
                source_was=was[Side.source],
                hubspot_was=was[Side.hubspot],
                rule=conflict_rule,
                winner=winner,
                written=written,
            )
        )

    def winner(self, rule: ConflictRule) -> Side:
        if rule != ConflictRule.newest:
            return Side(rule)
        source, hubspot = self.pair.source_modified, self.pair.hubspot_modified
        if source is not None and hubspot is not None and as_utc(hubspot) > as_utc(source):
            return Side.hubspot
        return Side.source

    def flow(self, rule: FieldRule, origin: Side) -> bool:
        """Carry ``origin``'s value of the field to the other side, if allowed."""
        target = origin.other
        if not self.mapping.field_direction(rule).includes(_FLOW[target]):
            return False
        value = self.after[origin].get(rule.hubspot, "")
        if target is Side.hubspot:
            self.to_hubspot[rule.hubspot] = value
        elif rule.source is None:
            return False
        else:
            self.to_source[rule.source] = self.reverse(rule, value or None)
        _put(self.after[target], rule.hubspot, value)
        return True

    def blocked(self, rule: FieldRule, target: Side) -> str:
        direction = self.mapping.field_direction(rule)
        if not direction.includes(_FLOW[target]):
            return f"the field flows {direction} only"
        return "the field has no source field to write to"

    def decision(self) -> Decision:
        synced = Baseline(source=self.after[Side.source], hubspot=self.after[Side.hubspot])
        return Decision(
            self.to_hubspot, self.to_source, tuple(self.conflicts), tuple(self.skipped), synced
        )


def _put(snap: Snapshot, name: str, value: str) -> None:
    if value:
        snap[name] = value
    else:
        snap.pop(name, None)


def _current(values: Values | None, baseline: Snapshot) -> Snapshot:
    return dict(baseline) if values is None else snapshot(values)


def first_sync(values: Values) -> Decision:
    """A new pair whose HubSpot side holds nothing yet: every non-empty value flows there.

    This is what ``merge`` decides for ``Pair(values, None)`` when every field of
    ``values`` flows to HubSpot, without going field by field: the initial sync of
    a large source takes this path for every record.
    """
    snap = snapshot(values)
    return Decision(dict(snap), {}, (), (), Baseline(source=snap, hubspot=dict(snap)))


def merge(mapping: ObjectMapping, pair: Pair, reverse: Reverse) -> Decision:
    """Decide, field by field, what each side of ``pair`` must be written to agree."""
    base = pair.synced or Baseline()
    after = {
        Side.source: _current(pair.source, base.source),
        Side.hubspot: _current(pair.hubspot, base.hubspot),
    }
    state = _Merge(mapping, pair, reverse, base, after)
    for rule in mapping.fields:
        state.merge_field(rule)
    return state.decision()
