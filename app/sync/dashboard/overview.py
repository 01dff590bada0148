"""What the Übersicht and the interface pages show: each interface's health, runs and activity.

Built for many interfaces (1,000 and more): the health of every visible
interface comes from a few columns of its row and the runs in progress (plain
rows, no ORM objects), so the status counts, the filters and the order cover
them all; the interface rows and everything else — the connections, the
mapping, the last run, the open failures and the activity of the last 48 hours
(``activity``) — is read only for the page shown, a fixed handful of queries
for any number of interfaces.

The health shown is the stored one (set after every run, see ``app.sync.health``)
sharpened by time: an active interface whose planned run is more than one
interval overdue is a warning, one with nothing finished for more than two
intervals an error (UI.md 5.1). A dry run never counts: it writes nothing.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import String, case, func, literal, select, type_coerce
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased, defer

from app.auth.actor import Actor
from app.core.errors import NotFound
from app.core.tenancy import TenantScope
from app.models import Connection, Interface, MappingVersion, RunItem, SyncRun, Tenant, User
from app.models.base import utcnow
from app.models.enums import ErrorCategory, Health, InterfaceState, ItemStatus, RunStatus
from app.sync.dashboard.activity import FINISHED, Activity, activity_of

HEALTH_ORDER = {Health.error: 0, Health.warning: 1}  # the rest follow, by name
STATUS_FILTERS = (*(h.value for h in Health), "running")
ById = dict[uuid.UUID, "InterfaceOverview"]


@dataclass(frozen=True, slots=True)
class Flow:
    """One object mapping as a line: which object goes which way."""

    source_object: str
    hubspot_object: str
    direction: str  # to_hubspot, from_hubspot, both


@dataclass(frozen=True, slots=True)
class Lateness:
    """Why time made an active interface's health worse: ``overdue`` or ``stalled``."""

    kind: str
    minutes: int


@dataclass(slots=True)
class _Line:
    """One interface as the counts, the filters and the order need it (no ORM object)."""

    id: uuid.UUID
    tenant_id: uuid.UUID
    name: str
    state: InterfaceState
    health: Health
    interval_minutes: int
    last_run_at: datetime | None
    next_run_at: datetime | None
    tenant: str | None = None  # the tenant's name, for operators
    running: SyncRun | None = None
    lateness: Lateness | None = None


LINE_COLUMNS = (
    Interface.id,
    Interface.tenant_id,
    Interface.name,
    Interface.state,
    Interface.health,
    Interface.interval_minutes,
    Interface.last_run_at,
    Interface.next_run_at,
)


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
    activity: Activity = field(default_factory=Activity)
    open_failures: int = 0

    @property
    def reason(self) -> str | None:
        """The stored reason (German, from the run); None when lateness explains the health."""
        return None if self.lateness else self.interface.health_reason

    @property
    def last_synced(self) -> int:
        """Records the last finished run wrote."""
        return self.last_run.synced if self.last_run else 0

    @property
    def failed_side(self) -> str | None:
        """Which connection the last run's failure points at: ``source``, ``hubspot`` or None."""
        run = self.last_run
        if run is None or run.status is not RunStatus.failed or run.error_category is None:
            return None
        if (run.error_summary or "").startswith("Connector"):
            return "source"
        return None if run.error_category is ErrorCategory.system else "hubspot"

    @property
    def needs_reconnect(self) -> bool:
        """HubSpot refused the connection's access (revoked, expired, a scope missing):
        only connecting HubSpot again helps."""
        run = self.last_run
        return (
            self.failed_side == "hubspot"
            and run is not None
            and (run.error_category is ErrorCategory.config)
        )


@dataclass(frozen=True, slots=True)
class BoardFilter:
    """Which interfaces the Übersicht lists: a health (or ``running``), a tenant, a page."""

    status: str | None = None
    tenant_id: uuid.UUID | None = None
    page: int = 1


@dataclass(frozen=True, slots=True)
class Board:
    """One page of the Übersicht and what its filters and pager need to know."""

    rows: list[InterfaceOverview]  # this page's, complete
    matching: int  # interfaces the filters match, over all pages
    total: int  # interfaces of the tenant filter, any status
    counts: Counter[str]  # of those, per health and "running"
    tenants: list[tuple[str, uuid.UUID]]  # every tenant with a visible interface, by name
    page: int
    pages: int
    per_page: int

    @property
    def first(self) -> int:
        """The position of this page's first row among all matching (counting from 1)."""
        return (self.page - 1) * self.per_page + 1


def outcome_totals(counts: dict[str, Any]) -> dict[str, int]:
    """A run's counts summed over its objects, per outcome."""
    totals: dict[str, int] = {}
    for per_object in counts.values():
        for outcome, n in per_object.items():
            totals[outcome] = totals.get(outcome, 0) + int(n or 0)
    return totals


async def board(
    session: AsyncSession,
    *,
    actor: Actor,
    filters: BoardFilter,
    per_page: int,
    now: datetime | None = None,
    figures: bool = True,
) -> Board:
    """One page of the interfaces the actor may see, errors and warnings first, with the
    health counts and tenants of all of them. Without ``figures`` the rows lack activity,
    open failures and progress (the Schnittstellen list shows none of them)."""
    now = now or utcnow()
    everything = await _lines(session, actor.scope, None, now)
    tenants = sorted({(line.tenant or "", line.tenant_id) for line in everything})
    lines = [line for line in everything if filters.tenant_id in (None, line.tenant_id)]
    counts = Counter(line.health.value for line in lines)
    counts["running"] = sum(1 for line in lines if line.running is not None)
    shown = [line for line in lines if _matches(line, filters.status)]
    pages = max(1, -(-len(shown) // per_page))
    page = min(max(filters.page, 1), pages)
    paged = shown[(page - 1) * per_page : page * per_page]
    rows = await _complete(session, actor.scope, paged, now, figures=figures)
    return Board(rows, len(shown), len(lines), counts, tenants, page, pages, per_page)


async def overview(
    session: AsyncSession,
    *,
    actor: Actor,
    interface_id: uuid.UUID | None = None,
    now: datetime | None = None,
) -> list[InterfaceOverview]:
    """Every interface the actor may see (or just one: ``NotFound`` for another tenant's),
    complete, errors and warnings first."""
    now = now or utcnow()
    lines = await _lines(session, actor.scope, interface_id, now)
    if interface_id is not None and not lines:
        raise NotFound("interface not found")
    return await _complete(session, actor.scope, lines, now)


async def interface_overview(
    session: AsyncSession, *, actor: Actor, interface_id: uuid.UUID, now: datetime | None = None
) -> InterfaceOverview:
    """One interface's overview (``NotFound`` for another tenant's)."""
    return (await overview(session, actor=actor, interface_id=interface_id, now=now))[0]


def _matches(line: _Line, status: str | None) -> bool:
    if status == "running":
        return line.running is not None
    return status is None or line.health.value == status


async def _lines(
    session: AsyncSession, scope: TenantScope, interface_id: uuid.UUID | None, now: datetime
) -> list[_Line]:
    """The interfaces as plain rows with their health, lateness, run in progress and
    tenant, sorted: no ORM object for the many the page does not show."""
    columns: Any = select(*LINE_COLUMNS)
    statement = scope.apply(columns, Interface)
    if interface_id is not None:
        statement = statement.where(Interface.id == interface_id)
    lines = [_Line(*row) for row in (await session.execute(statement)).all()]
    await _add_running(session, scope, {line.id: line for line in lines}, interface_id)
    if scope.tenant_id is None:
        await _add_tenants(session, lines)
    for line in lines:
        _apply_lateness(line, now)
    return sorted(lines, key=lambda line: (HEALTH_ORDER.get(line.health, 2), line.name))


async def _complete(
    session: AsyncSession,
    scope: TenantScope,
    lines: Sequence[_Line],
    now: datetime,
    *,
    figures: bool = True,
) -> list[InterfaceOverview]:
    """``lines`` as overviews with their interface rows and every detail the page shows."""
    if not lines:
        return []
    statement = scope.apply(select(Interface), Interface).where(
        Interface.id.in_([line.id for line in lines])
    )
    found = {i.id: i for i in (await session.execute(statement)).scalars()}
    rows = [
        InterfaceOverview(
            interface=found[line.id],
            health=line.health,
            tenant=line.tenant,
            lateness=line.lateness,
            running=line.running,
        )
        for line in lines
    ]
    by_id = {r.interface.id: r for r in rows}
    await _add_connections(session, scope, by_id)
    await _add_versions(session, scope, by_id)
    await _add_last_runs(session, scope, by_id, failures=figures)
    if figures:
        await _add_figures(session, scope, by_id, now)
    return rows


async def _add_figures(
    session: AsyncSession, scope: TenantScope, by_id: ById, now: datetime
) -> None:
    """The activity of ``by_id`` and the progress of their runs in progress."""
    for interface_id, found in (await activity_of(session, scope, list(by_id), now)).items():
        by_id[interface_id].activity = found
    running = {r.running.id: r for r in by_id.values() if r.running is not None}
    if running:
        for run_id, counts in (await run_progress(session, list(running))).items():
            running[run_id].progress = counts


async def _add_connections(session: AsyncSession, scope: TenantScope, by_id: ById) -> None:
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


async def _add_versions(session: AsyncSession, scope: TenantScope, by_id: ById) -> None:
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
    session: AsyncSession, scope: TenantScope, by_id: ById, *, failures: bool
) -> None:
    """Each interface's last finished run and (with ``failures``) its open failures."""
    run = aliased(SyncRun)
    last = (
        select(run.id)
        .where(run.interface_id == Interface.id, run.dry_run.is_(False), run.status.in_(FINISHED))
        .order_by(run.started_at.desc(), run.id.desc())
        .limit(1)
        .correlate(Interface)
        .scalar_subquery()
    )
    failed = (
        select(func.count())
        .select_from(RunItem)
        .where(RunItem.interface_id == Interface.id, RunItem.status == ItemStatus.failed)
        .where(RunItem.error_cause.is_not(None))  # the error log's partial index covers it
        .correlate(Interface)
        .scalar_subquery()
    )
    columns = (Interface.id, last, failed if failures else literal(0))
    statement = scope.apply(select(*columns), Interface)
    statement = statement.where(Interface.id.in_(list(by_id)))
    last_ids = {}
    for row_id, last_id, count in (await session.execute(statement)).all():
        by_id[row_id].open_failures = int(count or 0)
        if last_id is not None:
            last_ids[last_id] = row_id
    if last_ids:
        runs = await session.execute(select(SyncRun).where(SyncRun.id.in_(last_ids)))
        for found in runs.scalars():
            by_id[found.interface_id].last_run = found


async def _add_running(
    session: AsyncSession,
    scope: TenantScope,
    by_id: dict[uuid.UUID, _Line],
    interface_id: uuid.UUID | None,
) -> None:
    statement = scope.apply(select(SyncRun), SyncRun).where(
        SyncRun.status == RunStatus.running, SyncRun.dry_run.is_(False)
    )
    if interface_id is not None:
        statement = statement.where(SyncRun.interface_id == interface_id)
    for run in (await session.execute(statement.order_by(SyncRun.started_at))).scalars():
        if run.interface_id in by_id:
            by_id[run.interface_id].running = run


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


async def _add_tenants(session: AsyncSession, lines: list[_Line]) -> None:
    ids = {line.tenant_id for line in lines}
    found = await session.execute(select(Tenant.id, Tenant.name).where(Tenant.id.in_(ids)))
    names = dict(found.all())
    for line in lines:
        line.tenant = names.get(line.tenant_id)


def _apply_lateness(line: _Line, now: datetime) -> None:
    if line.state is not InterfaceState.active or line.running is not None:
        return
    interval = timedelta(minutes=line.interval_minutes)
    last, planned = line.last_run_at, line.next_run_at
    if last is not None and now - last > 2 * interval:
        line.health, line.lateness = Health.error, Lateness("stalled", _minutes(now - last))
    elif planned is not None and now - planned > interval and line.health is not Health.error:
        line.health, line.lateness = Health.warning, Lateness("overdue", _minutes(now - planned))


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
