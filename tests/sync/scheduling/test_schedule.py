"""Interval arithmetic with a fixed clock: no drift, no catch-up bursts, reschedules at once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.models import Interface
from app.models.enums import InterfaceState
from app.sync.scheduling.schedule import is_due, next_run_after, rescheduled

NOW = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)


def interface(state: InterfaceState = InterfaceState.active, **values: object) -> Interface:
    return Interface(name="x", state=state, interval_minutes=15, **values)


def test_the_next_run_follows_the_planned_time_not_the_finish() -> None:
    planned = NOW - timedelta(minutes=2)  # the run took two minutes
    assert next_run_after(planned, 15, NOW) == planned + timedelta(minutes=15)


def test_a_slot_long_past_becomes_now_instead_of_a_burst_of_catch_up_runs() -> None:
    assert next_run_after(NOW - timedelta(hours=5), 15, NOW) == NOW


def test_an_unplanned_run_plans_the_next_one_interval_from_now() -> None:
    assert next_run_after(None, 45, NOW) == NOW + timedelta(minutes=45)


@pytest.mark.parametrize(
    ("last_run_minutes_ago", "minutes", "expected_minutes_from_now"),
    [(None, 20, 0), (5, 20, 15), (5, 10, 5), (30, 10, 0)],
)
def test_a_new_interval_reschedules_from_the_last_run(
    last_run_minutes_ago: int | None, minutes: int, expected_minutes_from_now: int
) -> None:
    last = NOW - timedelta(minutes=last_run_minutes_ago) if last_run_minutes_ago else None
    found = rescheduled(interface(last_run_at=last), minutes, NOW)
    assert found == NOW + timedelta(minutes=expected_minutes_from_now)


def test_a_paused_interface_is_neither_rescheduled_nor_due() -> None:
    paused = interface(InterfaceState.paused, next_run_at=NOW - timedelta(minutes=1))
    assert rescheduled(paused, 20, NOW) is None
    assert not is_due(paused, NOW)


@pytest.mark.parametrize(
    ("next_in_minutes", "due"), [(None, True), (-1, True), (0, True), (1, False)]
)
def test_an_active_interface_is_due_when_its_time_has_come(
    next_in_minutes: int | None, due: bool
) -> None:
    planned = None if next_in_minutes is None else NOW + timedelta(minutes=next_in_minutes)
    assert is_due(interface(next_run_at=planned), NOW) is due
