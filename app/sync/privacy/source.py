"""The person in the source system: a target's privacy policy carried out by its connector.

- ``delete``: the connector's delete. Where the object's deletions are soft
  (``ObjectInfo.detects_deletes``: the sql connector stamps its ``soft_delete``
  column, the rest connector sets its ``deleted_flag``), the row would keep the
  person's data, so every mapped field except the key is blanked first and the
  row is deleted after. A hard delete needs no blanking (and NOT NULL columns
  would refuse it).
- ``anonymize``: every mapped field except the key blanked; the row stays. A
  blank write that *created* a record (the person was gone already: writes
  upsert) is undone by deleting that record again.
- ``ignore``: nothing (the caller records the reason).

Only mapped fields are known to hubsync: columns the mapping does not name are
left as they are. Per-record reasons a source gives may quote the record, so
only the number of refused records is reported, never the reasons.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from app.connectors.base import Connector, WriteOutcome, WriteResult
from app.sync.engine.deletion import DeletionEvent, DeletionStep, plan_deletion
from app.sync.mapping.model import ObjectMapping, PrivacyAction
from app.sync.privacy.targets import Target


@dataclass(frozen=True, slots=True)
class SourceResult:
    """How many of the person's records the step reached, and how many the source refused."""

    records: int
    refused: int

    @property
    def ok(self) -> bool:
        """Whether the source confirmed the step for every record."""
        return self.refused == 0


async def apply_in_source(
    connector: Connector[Any], target: Target, keys: Sequence[str]
) -> SourceResult:
    """Carry out ``target``'s step for the records with ``keys`` (no keys: nothing to do).

    Raises:
        ConnectorError: the source could not be reached, or refused the whole call.
    """
    step, name = target.plan.step, target.mapping.source.object
    if not keys or step is DeletionStep.ignore:
        return SourceResult(len(keys), 0)
    refused: set[str] = set()
    if step is DeletionStep.anonymize or await _deletes_softly(connector, name):
        written = await connector.write(name, _blanked(target.mapping, keys))
        refused |= _refused(keys, written)
        created = [
            k for k, r in zip(keys, written, strict=True) if r.outcome is WriteOutcome.created
        ]
        if step is DeletionStep.anonymize and created:
            refused |= _refused(created, await connector.delete(name, created))
    if step is DeletionStep.delete:
        refused |= _refused(keys, await connector.delete(name, keys))
    return SourceResult(len(keys), len(refused))


def _blank_values(mapping: ObjectMapping) -> dict[str, Any]:
    """Every mapped source field except the key, blank: what anonymising writes."""
    anonymizing = mapping.model_copy(update={"on_privacy_deletion": PrivacyAction.anonymize})
    return dict(plan_deletion(anonymizing, DeletionEvent.privacy_deletion).values)


def _blanked(mapping: ObjectMapping, keys: Sequence[str]) -> list[dict[str, Any]]:
    blanks = _blank_values(mapping)
    return [{mapping.source.key: key, **blanks} for key in keys]


async def _deletes_softly(connector: Connector[Any], object_name: str) -> bool:
    """Whether a delete may leave the row in place (unknown objects count as soft: be safe)."""
    info = next((o for o in await connector.discover() if o.name == object_name), None)
    return info is None or info.detects_deletes


def _refused(keys: Sequence[str], results: Sequence[WriteResult]) -> set[str]:
    return {key for key, result in zip(keys, results, strict=True) if not result.ok}
