"""When an interface runs next: pure arithmetic on planned times, testable with any clock.

A run is planned for ``next_run_at``; once it has run, the next one is planned
an interval after the *planned* time, not after the finish, so the schedule
does not drift by the run's duration. A process that was down (or a run that
overran) does not trigger a burst of catch-up runs: a next time already in the
past becomes "now".
"""

from __future__ import annotations

from datetime import datetime, timedelta

from app.models import Interface
from app.models.enums import InterfaceState


def next_run_after(planned: datetime | None, interval_minutes: int, now: datetime) -> datetime:
    """The run after one planned at ``planned`` (None: unplanned, e.g. a manual run)."""
    following = (planned or now) + timedelta(minutes=interval_minutes)
    return max(following, now)


def rescheduled(interface: Interface, interval_minutes: int, now: datetime) -> datetime | None:
    """The next run after the interval changed: one new interval after the last run, or now."""
    if interface.state is not InterfaceState.active:
        return None
    if interface.last_run_at is None:
        return now
    return max(interface.last_run_at + timedelta(minutes=interval_minutes), now)


def is_due(interface: Interface, now: datetime) -> bool:
    """Whether an interface should run now (active, and planned for now or earlier)."""
    if interface.state is not InterfaceState.active:
        return False
    return interface.next_run_at is None or interface.next_run_at <= now
