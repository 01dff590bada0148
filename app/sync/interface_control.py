"""An interface's life on the schedule: activate, pause, resume, and its interval.

Only an interface with an approved mapping version goes active; activating or
resuming plans its first run for now. Pausing takes it off the schedule (a run
in progress finishes) and shows ``paused`` as its health. Changing the interval
reschedules at once: one new interval after the last run, or now if that has
passed already. Every change is audited.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.actor import Actor, Permission
from app.core.audit import record_audit
from app.core.errors import InvalidInput
from app.models import Interface, SyncRun
from app.models.base import utcnow
from app.models.enums import Health, InterfaceState, RunStatus
from app.sync.health import health_after
from app.sync.interfaces import check_interval, get_interface
from app.sync.scheduling.schedule import rescheduled
from app.sync.versions import runnable_version

PAUSED_REASON = "Pausiert: läuft erst nach «Fortsetzen» wieder"


async def activate_interface(
    session: AsyncSession, *, actor: Actor, interface_id: uuid.UUID, now: datetime | None = None
) -> Interface:
    """Put an interface with an approved mapping version on the schedule, first run now."""
    interface = await _operable(session, actor, interface_id)
    await runnable_version(session, interface)  # NoApprovedVersion says what to do
    if interface.state is InterfaceState.active:
        return interface
    interface.state = InterfaceState.active
    interface.next_run_at = now or utcnow()
    await _audit(session, actor, interface, "interface.activate")
    return interface


async def pause_interface(
    session: AsyncSession, *, actor: Actor, interface_id: uuid.UUID, now: datetime | None = None
) -> Interface:
    """Take an active interface off the schedule until it is resumed."""
    interface = await _operable(session, actor, interface_id)
    if interface.state is InterfaceState.paused:
        return interface
    if interface.state is not InterfaceState.active:
        raise InvalidInput(f"only an active interface can be paused; it is {interface.state}")
    interface.state = InterfaceState.paused
    interface.next_run_at = None
    interface.health, interface.health_reason = Health.paused, PAUSED_REASON
    interface.health_changed_at = now or utcnow()
    await _audit(session, actor, interface, "interface.pause")
    return interface


async def resume_interface(
    session: AsyncSession, *, actor: Actor, interface_id: uuid.UUID, now: datetime | None = None
) -> Interface:
    """Put a paused interface back on the schedule; it runs now, its health as its last run."""
    interface = await _operable(session, actor, interface_id)
    if interface.state is InterfaceState.active:
        return interface
    if interface.state is not InterfaceState.paused:
        raise InvalidInput(f"only a paused interface can be resumed; it is {interface.state}")
    now = now or utcnow()
    interface.state = InterfaceState.active
    interface.next_run_at = now
    last = await _last_finished_run(session, interface)
    interface.health, interface.health_reason = (
        health_after(last) if last is not None else (Health.never_run, None)
    )
    interface.health_changed_at = now
    await _audit(session, actor, interface, "interface.resume")
    return interface


async def set_interval(
    session: AsyncSession,
    *,
    actor: Actor,
    interface_id: uuid.UUID,
    minutes: int,
    now: datetime | None = None,
) -> Interface:
    """Change how often the interface runs (10–45 minutes) and reschedule it at once."""
    check_interval(minutes)
    interface = await _operable(session, actor, interface_id)
    before = interface.interval_minutes
    interface.interval_minutes = minutes
    interface.next_run_at = rescheduled(interface, minutes, now or utcnow())
    await _audit(session, actor, interface, "interface.interval", {"from": before, "to": minutes})
    return interface


async def _operable(session: AsyncSession, actor: Actor, interface_id: uuid.UUID) -> Interface:
    interface = await get_interface(session, actor=actor, interface_id=interface_id)
    actor.require(Permission.operate_interfaces)
    return interface


async def _last_finished_run(session: AsyncSession, interface: Interface) -> SyncRun | None:
    statement = (
        select(SyncRun)
        .where(
            SyncRun.tenant_id == interface.tenant_id,
            SyncRun.interface_id == interface.id,
            SyncRun.dry_run.is_(False),
            SyncRun.status.not_in([RunStatus.running, RunStatus.aborted]),
        )
        .order_by(SyncRun.started_at.desc())
        .limit(1)
    )
    return (await session.execute(statement)).scalar_one_or_none()


async def _audit(
    session: AsyncSession,
    actor: Actor,
    interface: Interface,
    action: str,
    details: dict[str, Any] | None = None,
) -> None:
    await record_audit(
        session, action=action, actor_label=actor.label, actor_id=actor.user_id,
        tenant_id=interface.tenant_id, target_type="interface", target_id=interface.id,
        details=details,
    )  # fmt: skip
