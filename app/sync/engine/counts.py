"""A run's counts per object and outcome, and the status they give the run."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from app.models.enums import ItemAction, ItemStatus, RunStatus


class Outcome(enum.StrEnum):
    """What happened to one record in a run, as counted."""

    created = "created"
    updated = "updated"
    unchanged = "unchanged"
    deleted = "deleted"
    skipped = "skipped"
    failed = "failed"


_OUTCOMES = tuple(Outcome)  # iterating the enum each time is slow on the per-record path
_BY_ACTION = {
    ItemAction.create: Outcome.created,
    ItemAction.update: Outcome.updated,
    ItemAction.unchanged: Outcome.unchanged,
    ItemAction.delete: Outcome.deleted,
    ItemAction.skip: Outcome.skipped,
}


@dataclass(slots=True)
class RunCounts:
    """Counts per object mapping and outcome; ``to_json`` is what ``SyncRun.counts`` stores."""

    objects: dict[str, dict[Outcome, int]] = field(default_factory=dict)

    def add(self, object_name: str, outcome: Outcome, n: int = 1) -> None:
        """Count ``n`` records of ``object_name`` with ``outcome``."""
        per_object = self.objects.get(object_name)
        if per_object is None:  # not setdefault: building the row costs more than the count
            per_object = self.objects[object_name] = dict.fromkeys(_OUTCOMES, 0)
        per_object[outcome] += n

    def add_item(self, object_name: str, action: ItemAction, status: ItemStatus) -> None:
        """Count one run item: a failed one as ``failed`` whatever it meant to do."""
        self.add(object_name, Outcome.failed if status is ItemStatus.failed else _BY_ACTION[action])

    def total(self, outcome: Outcome) -> int:
        """Records with ``outcome`` over all objects."""
        return sum(per_object[outcome] for per_object in self.objects.values())

    def __add__(self, other: RunCounts) -> RunCounts:
        total = RunCounts()
        for counts in (self, other):
            for object_name, per_object in counts.objects.items():
                for outcome, n in per_object.items():
                    total.add(object_name, outcome, n)
        return total

    def to_json(self) -> dict[str, dict[str, int]]:
        """``{object: {outcome: n}}`` with every outcome present, in a fixed order."""
        return {
            object_name: {str(outcome): per_object[outcome] for outcome in Outcome}
            for object_name, per_object in self.objects.items()
        }


def run_status(counts: RunCounts, *, could_not_proceed: bool = False) -> RunStatus:
    """``failed`` if the run could not proceed, ``warning`` if items failed, else ``succeeded``."""
    if could_not_proceed:
        return RunStatus.failed
    return RunStatus.warning if counts.total(Outcome.failed) else RunStatus.succeeded
