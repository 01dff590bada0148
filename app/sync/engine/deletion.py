"""What a deletion on one side of a record pair does on the other, as data for the engine.

- a source record deleted → the mapping's ``on_delete.source_deleted`` in HubSpot;
- a HubSpot record archived → ``on_delete.hubspot_deleted`` in the source;
- a HubSpot privacy (GDPR) deletion → ``on_privacy_deletion`` in the source.

A deletion never reaches a side the object mapping does not write to (a
``to_hubspot`` mapping leaves the source alone): such events are ignored with
a reason. Privacy deletions are the exception — they are a legal duty that
the mapping names explicitly. ``flag`` sets ``flag_field`` to ``flag_value``
on the acting side (in HubSpot as its string form); ``anonymize`` blanks every
source field the mapping maps, except the record's key, which the link needs.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from app.sync.engine.hashing import Side, canonical
from app.sync.mapping.model import DeletionAction, Direction, ObjectMapping, PrivacyAction


class DeletionEvent(enum.StrEnum):
    """What happened to one side of a pair."""

    source_deleted = "source_deleted"
    hubspot_archived = "hubspot_archived"
    privacy_deletion = "privacy_deletion"


class DeletionStep(enum.StrEnum):
    """What to do on the other side (``archive`` in the source: the connector's delete)."""

    archive = "archive"
    delete = "delete"
    flag = "flag"
    gdpr_delete = "gdpr_delete"  # in HubSpot: erased for good, as a privacy deletion request
    anonymize = "anonymize"
    ignore = "ignore"


@dataclass(frozen=True, slots=True)
class DeletionPlan:
    """The step to carry out on ``side``, with the field values it writes (flag, anonymize)."""

    side: Side
    step: DeletionStep
    values: Mapping[str, Any] = field(default_factory=dict)
    reason: str = ""  # why an event is ignored although the policy says otherwise

    @property
    def fields(self) -> tuple[str, ...]:
        """The fields the step writes: the flag field, or the fields to blank."""
        return tuple(self.values)


def plan_deletion(mapping: ObjectMapping, event: DeletionEvent) -> DeletionPlan:
    """The step the mapping's policies prescribe for ``event``, on the other side."""
    if event == DeletionEvent.privacy_deletion:
        return _privacy(mapping)
    if event == DeletionEvent.source_deleted:
        side, action, flow = Side.hubspot, mapping.on_delete.source_deleted, Direction.to_hubspot
    else:
        side, action, flow = Side.source, mapping.on_delete.hubspot_deleted, Direction.from_hubspot
    if action != DeletionAction.ignore and not mapping.direction.includes(flow):
        reason = f"{mapping.name} flows {mapping.direction} only"
        return DeletionPlan(side, DeletionStep.ignore, reason=reason)
    return DeletionPlan(side, DeletionStep(action), _flag(mapping, side, action))


def _flag(mapping: ObjectMapping, side: Side, action: DeletionAction) -> dict[str, Any]:
    rules = mapping.on_delete
    if action != DeletionAction.flag or rules.flag_field is None:
        return {}
    value = canonical(rules.flag_value) if side is Side.hubspot else rules.flag_value
    return {rules.flag_field: value}


def _privacy(mapping: ObjectMapping) -> DeletionPlan:
    action = mapping.on_privacy_deletion
    if action != PrivacyAction.anonymize:
        return DeletionPlan(Side.source, DeletionStep(action))
    key = mapping.source.key
    fields = [r.source for r in mapping.fields if r.source is not None and r.source != key]
    return DeletionPlan(Side.source, DeletionStep.anonymize, dict.fromkeys(fields))
