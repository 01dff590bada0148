"""What the Übersicht and the interface pages show: each interface's health, runs and activity.

Built for many interfaces (1,000 and more): a fixed handful of queries for any
number of them, never one per interface. The last finished run and the open
failures are correlated subqueries that walk the ``(interface_id, …)``
indexes; the activity of the last 48 hours is summed per interface and hour
in the database from the runs' JSON counts (``json_each`` on SQLite and
PostgreSQL), so no run row reaches Python.

The health shown is the stored one (set after every run, see ``app.sync.health``)
sharpened by time: an active interface whose planned run is more than one
interval overdue is a warning, one with nothing finished for more than two
intervals an error (UI.md 5.1). A dry run never counts: it writes nothing.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import JSON, String, case, column, func, select, true, type_coerce
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased, defer

from app.auth.actor import Actor
from app.core.db import SessionFactory
from app.core.errors import NotFound
from app.core.secrets_box import SecretBox
from app.core.tenancy import TenantScope
from app.models import Connection, Interface, MappingVersion, RunItem, SyncRun, Tenant, User
from app.models.base import utcnow
from app.models.enums import ErrorCategory, Health, InterfaceState, ItemStatus, RunStatus
from app.sync import interfaces
from app.sync.engine.state import RunHooks
from app.sync.running import run_now

logger = logging.getLogger(__name__)

FINISHED = (RunStatus.succeeded, RunStatus.warning, RunStatus.failed, RunStatus.aborted)
SYNCED = ("created", "updated", "deleted")  # what "objects synced" counts: records written
HOURS = 24
PREVIEW_ROWS = 50  # records per action a dry-run preview lists
DRY_RUN_STALE = timedelta(hours=1)
HEALTH_ORDER = {Health.error: 0, Health.warning: 1}  # the rest follow, by name


@dataclass(frozen=True, slots=True)
class Flow:
    """One object mapping as a line: which object goes which way."""

    source_object: str
    hubspot_object: str
    direction: str  # to_hubspot, from_hubspot, both


@dataclass(frozen=True, slots=True)
class Activity:
    """Records written per hour over the last 24 hours (oldest first) and the day before."""

    hourly: tuple[int, ...]
    previous: int

    @property
    def total(self) -> int:
        """Records written in the last 24 hours."""
        return sum(self.hourly)

    @property
    def trend(self) -> int | None:
        """Change against the day before in percent (None: nothing the day before)."""
        if not self.previous:
            return None
        return round((self.total - self.previous) * 100 / self.previous)


@dataclass(frozen=True, slots=True)
class Lateness:
    """Why time made an active interface's health worse: ``overdue`` or ``stalled``."""

    kind: str
    minutes: int


@dataclass(slots=True)
class InterfaceOverview:
    """One interface with everything the Übersicht says about it."""

    interface: Interface
    health: Health
    tenant: str | None = None  # the tenant's name, for operators
    source: Connection | None = None
    hubspot: Connection | None = None
    version: int | None = None  # the active mapping version's number
    flows: tuple[Flow, ...] = ()
    lateness: Lateness | None = None
    last_run: SyncRun | None = None
    running: SyncRun | None = None
    progress: dict[str, int] = field(default_factory=dict)  # the running run's records so far
    activity: Activity = field(default_factory=lambda: Activity((0,) * HOURS, 0))
    open_failures: int = 0

    @property
    def reason(self) -> str | None:
        """The stored reason (German, from the run); None when lateness explains the health."""
        return None if self.lateness else self.interface.health_reason

    @property
    def last_synced(self) -> int:
        """Records the last finished run wrote."""
        return synced(self.last_run.counts) if self.last_run else 0

    @property
    def failed_side(self) -> str | None:
        """Which connection the last run's failure points at: ``source``, ``hubspot`` or None."""
        run = self.last_run
        if run is None or run.status is not RunStatus.failed or run.error_category is None:
            return None
        if (run.error_summary or "").startswith("Connector"):
            return "source"
        return None if run.error_category is ErrorCategory.system else "hubspot"


@dataclass(frozen=True, slots=True)
class DryRunReport:
    """A dry run: counts per object and action, and up to 50 records per action."""

    run: SyncRun
    items: dict[str, list[RunItem]]  # by action, "failed" for refused records

    @property
    def stale(self) -> bool:
        """Still "running" long after any dry run ends: its process stopped (no lease reaps it)."""
        running = self.run.status is RunStatus.running
        return running and utcnow() - self.run.started_at > DRY_RUN_STALE


def synced(counts: dict[str, Any]) -> int:
    """Records created, updated or deleted according to a run's counts."""
    return sum(int(per.get(k) or 0) for per in counts.values() for k in SYNCED)


def outcome_totals(counts: dict[str, Any]) -> dict[str, int]:
    """A run's counts summed over its objects, per outcome."""
    totals: dict[str, int] = {}
    for per_object in counts.values():
        for outcome, n in per_object.items():
            totals[outcome] = totals.get(outcome, 0) + int(n or 0)
    return totals


async def overview(
    session: AsyncSession,
    *,
    actor: Actor,
    interface_id: uuid.UUID | None = None,
    now: datetime | None = None,
) -> list[InterfaceOverview]:
    """Every interface the actor may see (or just one: ``NotFound`` for another tenant's),
    errors and warnings first."""
    scope, now = actor.scope, now or utcnow()
    rows = await _interfaces(session, actor, interface_id)
    if not rows:
        return []
    by_id = {row.interface.id: row for row in rows}
    await _add_connections(session, scope, by_id)
    await _add_versions(session, scope, by_id)
    await _add_last_runs(session, scope, by_id, interface_id)
    await _add_running(session, scope, by_id, interface_id)
    await _add_activity(session, scope, by_id, interface_id, now)
    if scope.tenant_id is None:
        await _add_tenants(session, rows)
    for row in rows:
        _apply_lateness(row, now)
    return sorted(rows, key=lambda r: (HEALTH_ORDER.get(r.health, 2), r.interface.name))


async def interface_overview(
    session: AsyncSession, *, actor: Actor, interface_id: uuid.UUID, now: datetime | None = None
) -> InterfaceOverview:
    """One interface's overview (``NotFound`` for another tenant's)."""
    return (await overview(session, actor=actor, interface_id=interface_id, now=now))[0]


async def _interfaces(
    session: AsyncSession, actor: Actor, interface_id: uuid.UUID | None
) -> list[InterfaceOverview]:
    if interface_id is None:
        found = await interfaces.list_interfaces(session, actor=actor)
    else:  # NotFound for another tenant's
        found = [await interfaces.get_interface(session, actor=actor, interface_id=interface_id)]
    return [InterfaceOverview(interface=i, health=i.health) for i in found]


async def _add_connections(
    session: AsyncSession, scope: TenantScope, by_id: dict[uuid.UUID, InterfaceOverview]
) -> None:
    ids = {c for r in by_id.values() for c in (r.interface.source_connection_id,
                                                r.interface.hubspot_connection_id)}  # fmt: skip
    statement = (
        scope.apply(select(Connection), Connection)
        .where(Connection.id.in_(ids))
        .options(defer(Connection.secrets_encrypted, raiseload=True))  # never needed here
    )
    connections = {c.id: c for c in (await session.execute(statement)).scalars()}
    for row in by_id.values():
        row.source = connections.get(row.interface.source_connection_id)
        row.hubspot = connections.get(row.interface.hubspot_connection_id)


async def _add_versions(
    session: AsyncSession, scope: TenantScope, by_id: dict[uuid.UUID, InterfaceOverview]
) -> None:
    ids = [r.interface.active_mapping_version_id for r in by_id.values()]
    statement = scope.apply(
        select(MappingVersion.interface_id, MappingVersion.number, MappingVersion.parsed),
        MappingVersion,
    ).where(MappingVersion.id.in_([i for i in ids if i is not None]))
    for interface_id, number, parsed in (await session.execute(statement)).all():
        row = by_id[interface_id]
        row.version = number
        row.flows = tuple(
            Flow(o["source"]["object"], o["hubspot"]["object"], o.get("direction", "to_hubspot"))
            for o in parsed.get("objects", [])
        )


async def _add_last_runs(
    session: AsyncSession,
    scope: TenantScope,
    by_id: dict[uuid.UUID, InterfaceOverview],
    interface_id: uuid.UUID | None,
) -> None:
    run = aliased(SyncRun)
    last = (
        select(run.id)
        .where(run.interface_id == Interface.id, run.dry_run.is_(False), run.status.in_(FINISHED))
        .order_by(run.started_at.desc(), run.id.desc())
        .limit(1)
        .correlate(Interface)
        .scalar_subquery()
    )
    failures = (
        select(func.count())
        .select_from(RunItem)
        .where(RunItem.interface_id == Interface.id, RunItem.status == ItemStatus.failed)
        .correlate(Interface)
        .scalar_subquery()
    )
    statement = scope.apply(select(Interface.id, last, failures), Interface)
    if interface_id is not None:
        statement = statement.where(Interface.id == interface_id)
    last_ids = {}
    for row_id, last_id, failed in (await session.execute(statement)).all():
        by_id[row_id].open_failures = int(failed or 0)
        if last_id is not None:
            last_ids[last_id] = row_id
    if last_ids:
        runs = await session.execute(select(SyncRun).where(SyncRun.id.in_(last_ids)))
        for found in runs.scalars():
            by_id[found.interface_id].last_run = found


async def _add_running(
    session: AsyncSession,
    scope: TenantScope,
    by_id: dict[uuid.UUID, InterfaceOverview],
    interface_id: uuid.UUID | None,
) -> None:
    statement = scope.apply(select(SyncRun), SyncRun).where(
        SyncRun.status == RunStatus.running, SyncRun.dry_run.is_(False)
    )
    if interface_id is not None:
        statement = statement.where(SyncRun.interface_id == interface_id)
    running = {}
    for run in (await session.execute(statement.order_by(SyncRun.started_at))).scalars():
        if run.interface_id in by_id:
            by_id[run.interface_id].running = run
            running[run.id] = by_id[run.interface_id]
    if running:
        for run_id, counts in (await run_progress(session, list(running))).items():
            running[run_id].progress = counts


async def run_progress(
    session: AsyncSession, run_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, dict[str, int]]:
    """Records each running run has handled so far, by outcome (its items, grouped)."""
    outcome = case(
        (RunItem.status == ItemStatus.failed, "failed"), else_=type_coerce(RunItem.action, String)
    )
    statement = (
        select(RunItem.run_id, outcome, func.count())
        .where(RunItem.run_id.in_(run_ids))
        .group_by(RunItem.run_id, outcome)
    )
    words = {"create": "created", "update": "updated", "delete": "deleted", "skip": "skipped"}
    progress: dict[uuid.UUID, dict[str, int]] = {run_id: {} for run_id in run_ids}
    for run_id, action, count in (await session.execute(statement)).all():
        key = words.get(str(action), str(action))
        progress[run_id][key] = progress[run_id].get(key, 0) + int(count)
    return progress


async def _add_activity(
    session: AsyncSession,
    scope: TenantScope,
    by_id: dict[uuid.UUID, InterfaceOverview],
    interface_id: uuid.UUID | None,
    now: datetime,
) -> None:
    since = now - timedelta(hours=2 * HOURS)
    bucket = case(
        *[(SyncRun.started_at < since + timedelta(hours=h + 1), h) for h in range(2 * HOURS - 1)],
        else_=2 * HOURS - 1,
    )
    per_object = func.json_each(SyncRun.counts).table_valued(
        column("key", String), column("value", JSON)
    )
    created, updated, deleted = (
        func.coalesce(per_object.c.value[k].as_integer(), 0) for k in SYNCED
    )
    written = created + updated + deleted
    statement = (
        scope.apply(select(SyncRun.interface_id, bucket, func.sum(written)), SyncRun)
        .select_from(SyncRun)
        .join(per_object, true())
        .where(SyncRun.started_at >= since, SyncRun.status.in_(FINISHED))
        .where(SyncRun.dry_run.is_(False))
        .group_by(SyncRun.interface_id, bucket)
    )
    if interface_id is not None:
        statement = statement.where(SyncRun.interface_id == interface_id)
    hours: dict[uuid.UUID, list[int]] = {}
    for row_id, hour, count in (await session.execute(statement)).all():
        hours.setdefault(row_id, [0] * 2 * HOURS)[int(hour)] += int(count or 0)
    for row_id, values in hours.items():
        if row_id in by_id:
            by_id[row_id].activity = Activity(tuple(values[HOURS:]), sum(values[:HOURS]))


async def _add_tenants(session: AsyncSession, rows: list[InterfaceOverview]) -> None:
    ids = {r.interface.tenant_id for r in rows}
    found = await session.execute(select(Tenant.id, Tenant.name).where(Tenant.id.in_(ids)))
    names = dict(found.all())
    for row in rows:
        row.tenant = names.get(row.interface.tenant_id)


def _apply_lateness(row: InterfaceOverview, now: datetime) -> None:
    interface = row.interface
    if interface.state is not InterfaceState.active or row.running is not None:
        return
    interval = timedelta(minutes=interface.interval_minutes)
    last, planned = interface.last_run_at, interface.next_run_at
    if last is not None and now - last > 2 * interval:
        row.health, row.lateness = Health.error, Lateness("stalled", _minutes(now - last))
    elif planned is not None and now - planned > interval and row.health is not Health.error:
        row.health, row.lateness = Health.warning, Lateness("overdue", _minutes(now - planned))


def _minutes(delta: timedelta) -> int:
    return int(delta.total_seconds() // 60)


async def user_emails(
    session: AsyncSession, ids: Sequence[uuid.UUID | None]
) -> dict[uuid.UUID, str]:
    """The email of each user in ``ids`` (authors and approvers of versions), in one query."""
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = await session.execute(select(User.id, User.email).where(User.id.in_(wanted)))
    return dict(rows.all())


# ---- dry runs: started in the background, read back as a preview


_DRY_RUNS: set[asyncio.Task[SyncRun]] = set()  # keeps running previews referenced


async def start_dry_run(
    sessions: SessionFactory,
    *,
    actor: Actor,
    box: SecretBox,
    interface_id: uuid.UUID,
    public_url: str,
) -> SyncRun:
    """Start a dry run in the background; answers with its run row once that exists.

    Errors before the run starts (no approved version, no access token, the
    actor's role) are raised here; errors during it end the run ``failed``.
    """
    started: asyncio.Future[SyncRun] = asyncio.get_running_loop().create_future()

    def on_started(run: SyncRun) -> None:
        if not started.done():
            started.set_result(run)

    task = asyncio.create_task(
        run_now(
            sessions,
            actor=actor,
            box=box,
            interface_id=interface_id,
            dry_run=True,
            hooks=RunHooks(on_started=on_started),
            public_url=public_url,
        )
    )
    _DRY_RUNS.add(task)
    task.add_done_callback(_dry_run_done)
    await asyncio.wait([started, task], return_when=asyncio.FIRST_COMPLETED)
    if started.done():
        return started.result()
    return task.result()  # raises why it could not start


def _dry_run_done(task: asyncio.Task[SyncRun]) -> None:
    _DRY_RUNS.discard(task)
    if not task.cancelled() and task.exception() is not None:
        logger.warning("dry run ended with an error", exc_info=task.exception())


async def dry_run_report(
    session: AsyncSession, *, actor: Actor, interface_id: uuid.UUID, run_id: uuid.UUID
) -> DryRunReport:
    """A dry run of the interface with up to 50 records per action (``NotFound`` otherwise)."""
    await interfaces.get_interface(session, actor=actor, interface_id=interface_id)
    run = await interface_run(
        session, actor=actor, interface_id=interface_id, run_id=run_id, dry_run=True
    )
    if run is None:
        raise NotFound("dry run not found")
    kind = case(
        (RunItem.status == ItemStatus.failed, "failed"), else_=type_coerce(RunItem.action, String)
    )
    rank = func.row_number().over(partition_by=kind, order_by=(RunItem.created_at, RunItem.id))
    ranked = select(RunItem.id, rank.label("rank")).where(RunItem.run_id == run.id).subquery()
    rows = await session.execute(
        select(RunItem)
        .join(ranked, ranked.c.id == RunItem.id)
        .where(ranked.c.rank <= PREVIEW_ROWS)
        .order_by(RunItem.object_name, RunItem.created_at, RunItem.id)
    )
    items: dict[str, list[RunItem]] = {}
    for item in rows.scalars():
        key = "failed" if item.status is ItemStatus.failed else item.action.value
        items.setdefault(key, []).append(item)
    return DryRunReport(run=run, items=items)


async def interface_run(
    session: AsyncSession,
    *,
    actor: Actor,
    interface_id: uuid.UUID,
    run_id: uuid.UUID,
    dry_run: bool = False,
) -> SyncRun | None:
    """One run (or dry run) of the interface in the actor's scope, if there is one."""
    statement = actor.scope.apply(select(SyncRun), SyncRun).where(
        SyncRun.id == run_id, SyncRun.interface_id == interface_id, SyncRun.dry_run.is_(dry_run)
    )
    return (await session.execute(statement)).scalar_one_or_none()


async def latest_dry_run(
    session: AsyncSession, *, actor: Actor, interface_id: uuid.UUID
) -> SyncRun | None:
    """The interface's newest dry run, if any."""
    statement = (
        actor.scope.apply(select(SyncRun), SyncRun)
        .where(SyncRun.interface_id == interface_id, SyncRun.dry_run.is_(True))
        .order_by(SyncRun.started_at.desc(), SyncRun.id.desc())
        .limit(1)
    )
    return (await session.execute(statement)).scalar_one_or_none()


async def drain_dry_runs() -> None:
    """Wait for the dry runs this process started (at shutdown, and in tests)."""
    while _DRY_RUNS:
        await asyncio.wait(list(_DRY_RUNS))
