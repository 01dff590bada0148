"""Run counts per object and outcome, their JSON, and the run status they give."""

from __future__ import annotations

import pytest

from app.models.enums import ItemAction, ItemStatus, RunStatus
from app.sync.engine.counts import Outcome, RunCounts, run_status

ZEROS = dict.fromkeys(("created", "updated", "unchanged", "deleted", "skipped", "failed"), 0)


class TestRunCounts:
    def test_to_json_has_every_outcome_per_object(self) -> None:
        counts = RunCounts()
        counts.add("companies", Outcome.created, 3)
        counts.add("contacts", Outcome.unchanged)
        assert counts.to_json() == {
            "companies": {**ZEROS, "created": 3},
            "contacts": {**ZEROS, "unchanged": 1},
        }
        assert list(counts.to_json()["companies"]) == list(ZEROS)

    def test_empty(self) -> None:
        assert RunCounts().to_json() == {}

    @pytest.mark.parametrize(
        ("action", "status", "outcome"),
        [
            (ItemAction.create, ItemStatus.succeeded, "created"),
            (ItemAction.update, ItemStatus.succeeded, "updated"),
            (ItemAction.unchanged, ItemStatus.succeeded, "unchanged"),
            (ItemAction.delete, ItemStatus.succeeded, "deleted"),
            (ItemAction.skip, ItemStatus.succeeded, "skipped"),
            (ItemAction.create, ItemStatus.failed, "failed"),
            (ItemAction.delete, ItemStatus.failed, "failed"),
        ],
    )
    def test_add_item(self, action: ItemAction, status: ItemStatus, outcome: str) -> None:
        counts = RunCounts()
        counts.add_item("companies", action, status)
        assert counts.to_json() == {"companies": {**ZEROS, outcome: 1}}

    def test_addition_sums_per_object_and_outcome(self) -> None:
        first, second = RunCounts(), RunCounts()
        first.add("companies", Outcome.created, 2)
        second.add("companies", Outcome.created, 3)
        second.add("contacts", Outcome.failed)
        total = first + second
        assert total.to_json() == {
            "companies": {**ZEROS, "created": 5},
            "contacts": {**ZEROS, "failed": 1},
        }
        assert first.to_json() == {"companies": {**ZEROS, "created": 2}}  # operands untouched

    def test_total_over_objects(self) -> None:
        counts = RunCounts()
        counts.add("companies", Outcome.failed, 2)
        counts.add("contacts", Outcome.failed)
        counts.add("contacts", Outcome.created)
        assert counts.total(Outcome.failed) == 3


class TestRunStatus:
    def test_succeeded_without_failures(self) -> None:
        counts = RunCounts()
        counts.add("companies", Outcome.created)
        assert run_status(counts) is RunStatus.succeeded

    def test_warning_when_items_failed(self) -> None:
        counts = RunCounts()
        counts.add("companies", Outcome.created)
        counts.add("companies", Outcome.failed)
        assert run_status(counts) is RunStatus.warning

    def test_failed_when_the_run_could_not_proceed(self) -> None:
        assert run_status(RunCounts(), could_not_proceed=True) is RunStatus.failed
