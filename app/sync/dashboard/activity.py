"""Records written per hour: the Übersicht's sparkline and trend, summed in the database.

Each finished run stores what it wrote (``sync_runs.synced``), so the last 48
hours of any number of interfaces are one grouped query over the
``(interface_id, started_at)`` index; the hour of a run is plain arithmetic on
its start in SQL (per dialect), never a row per run in Python.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Integer, func, literal, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from app.core.tenancy import TenantScope
from app.models import SyncRun
from app.models.base import UTCDateTime
from app.models.enums import RunStatus

HOURS = 24
FINISHED = (RunStatus.succeeded, RunStatus.warning, RunStatus.failed, RunStatus.aborted)


@dataclass(frozen=True, slots=True)
class Activity:
    """Records written per hour over the last 24 hours (oldest first) and the day before."""

    hourly: tuple[int, ...] = (0,) * HOURS
    previous: int = 0

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


class hours_since(FunctionElement[int]):
    """Whole hours from the second argument (a time) to the first (a time column)."""

    type = Integer()
    inherit_cache = True


@compiles(hours_since, "postgresql")
def _hours_since_postgresql(element: hours_since, compiler: Any, **kw: Any) -> str:
    at, since = (compiler.process(c, **kw) for c in element.clauses)
    return f"CAST(floor(extract(epoch FROM ({at} - {since})) / 3600) AS INTEGER)"


@compiles(hours_since, "sqlite")
def _hours_since_sqlite(element: hours_since, compiler: Any, **kw: Any) -> str:
    at, since = (compiler.process(c, **kw) for c in element.clauses)
    return f"CAST((julianday({at}) - julianday({since})) * 24 AS INTEGER)"


async def activity_of(
    session: AsyncSession, scope: TenantScope, interface_ids: Collection[uuid.UUID], now: datetime
) -> dict[uuid.UUID, Activity]:
    """The activity of each of ``interface_ids`` that wrote anything in the last 48 hours."""
    since = now - timedelta(hours=2 * HOURS)
    hour = hours_since(SyncRun.started_at, literal(since, UTCDateTime()))
    written: Any = select(SyncRun.interface_id, hour, func.sum(SyncRun.synced))
    statement = (
        scope.apply(written, SyncRun)
        .where(SyncRun.interface_id.in_(interface_ids), SyncRun.started_at >= since)
        .where(SyncRun.status.in_(FINISHED), SyncRun.dry_run.is_(False))
        .group_by(SyncRun.interface_id, hour)
    )
    hours: dict[uuid.UUID, list[int]] = {}
    for interface_id, index, count in (await session.execute(statement)).all():
        hours.setdefault(interface_id, [0] * 2 * HOURS)[min(int(index), 2 * HOURS - 1)] += int(
            count or 0
        )
    return {i: Activity(tuple(v[HOURS:]), sum(v[:HOURS])) for i, v in hours.items()}
