"""The scheduler inside ``hubsync serve``: every tick, reap dead runs and start the due ones.

An APScheduler ``AsyncIOScheduler`` calls ``tick`` every few seconds (and the
notification delivery job, when one is given). The database is the schedule:
an interface is due when it is active and its ``next_run_at`` has come (or was
never set), so a restart keeps the schedule and every process sees the same
one; leases decide which process runs what. ``tick`` takes an explicit ``now``,
so tests drive it with a fake clock instead of waiting.

Each tick also retries the privacy deletion requests whose next attempt is due
(``retry_due_deletions``; any number of processes may, each attempt is claimed
once), so a deletion a system refused is carried out as soon as it can be.

Reaping: a run still ``running`` whose worker no longer holds the interface's
lease (the process died, or stalled past the TTL) is marked ``aborted``, the
interface is planned for now, and the next tick — in any process — resumes it
from the last committed cursor.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy import or_, select, update

from app.core.db import SessionFactory, session_scope
from app.core.metrics import METRICS
from app.models import Interface, SyncRun
from app.models.base import utcnow
from app.models.enums import InterfaceState, RunStatus, RunTrigger
from app.sync.privacy.handler import retry_due_deletions
from app.sync.scheduling.executor import RunExecutor
from app.sync.scheduling.leases import interface_lease

logger = logging.getLogger(__name__)

ABORTED = "the process running it stopped (its lease expired); the next run resumes from there"


@dataclass(frozen=True, slots=True)
class TickReport:
    """What one tick did: runs started, due interfaces left waiting, runs reaped, privacy
    deletion requests completed by a retry."""

    started: list[uuid.UUID]
    waiting: int
    aborted: list[uuid.UUID]
    deletions: int = 0


class Scheduler:
    """Starts due interfaces through the executor on a fixed tick."""

    def __init__(
        self,
        sessions: SessionFactory,
        executor: RunExecutor,
        *,
        tick_seconds: float,
        clock: Callable[[], datetime] = utcnow,
        jobs: dict[str, tuple[Callable[[], Awaitable[object]], float]] | None = None,
        on_aborted: Callable[[SyncRun], Awaitable[None]] | None = None,
    ) -> None:
        self.sessions = sessions
        self.executor = executor
        self.tick_seconds = tick_seconds
        self.clock = clock
        self.jobs = jobs or {}
        self.on_aborted = on_aborted
        self._aps: AsyncIOScheduler | None = None

    def start(self) -> None:
        """Start ticking (and the extra jobs) on the running event loop."""
        aps = AsyncIOScheduler(timezone="UTC")
        aps.add_job(self._tick_job, "interval", seconds=self.tick_seconds, id="tick",
                    max_instances=1, coalesce=True, next_run_time=self.clock())  # fmt: skip
        for name, (job, seconds) in self.jobs.items():
            aps.add_job(job, "interval", seconds=seconds, id=name, max_instances=1, coalesce=True)
        aps.start()
        self._aps = aps

    async def stop(self, grace_s: float) -> None:
        """Stop ticking, then let running runs checkpoint within ``grace_s`` seconds."""
        if self._aps is not None:
            self._aps.shutdown(wait=False)
            self._aps = None
        await self.executor.shutdown(grace_s)

    async def _tick_job(self) -> None:
        try:
            await self.tick()
        except Exception:  # one bad tick must not stop the schedule
            logger.exception("scheduler tick failed")

    async def tick(self, now: datetime | None = None) -> TickReport:
        """Reap dead runs, then start as many due interfaces as this process has room for."""
        now = now or self.clock()
        aborted = await self.reap(now)
        due = await self._due(now)
        started: list[uuid.UUID] = []
        for interface_id, planned in due:
            if self.executor.free_slots <= 0:
                break
            if self.executor.is_running(interface_id):
                continue
            try:
                outcome = await self.executor.start(
                    interface_id, trigger=RunTrigger.schedule, planned_at=planned or now
                )
            except Exception:  # refused to start; the executor planned the next slot and said why
                logger.warning("interface %s could not start", interface_id, exc_info=True)
                continue
            if outcome.run is not None:
                started.append(interface_id)
        deletions = await self._retry_deletions(now)
        return TickReport(started, len(due) - len(started), aborted, deletions)

    async def _retry_deletions(self, now: datetime) -> int:
        """The due privacy deletion retries; a failing one must not stop the schedule."""
        try:
            return await retry_due_deletions(self.sessions, box=self.executor.box, now=now,
                                             public_url=self.executor.public_url,
                                             oauth_app=self.executor.oauth_app)  # fmt: skip
        except Exception:
            logger.exception("privacy deletion retries failed")
            return 0

    async def reap(self, now: datetime) -> list[uuid.UUID]:
        """Mark ``aborted`` the runs whose worker lost its lease; plan their interfaces now."""
        async with session_scope(self.sessions) as session:
            running = (
                await session.execute(
                    select(SyncRun.id, SyncRun.interface_id, SyncRun.worker).where(
                        SyncRun.status == RunStatus.running, SyncRun.dry_run.is_(False)
                    )
                )
            ).all()
        if not running:
            return []
        holders = await self.executor.leases.live_holders(
            {interface_lease(r.interface_id) for r in running}
        )
        dead = [r for r in running if holders.get(interface_lease(r.interface_id)) != r.worker]
        reaped: list[uuid.UUID] = []
        for row in dead:
            run = await self._abort(row.id, row.interface_id, now)
            if run is not None:
                reaped.append(run.id)
                logger.warning("run %s aborted: %s", run.id, ABORTED)
                METRICS.run_reaped(run.trigger)
                if self.on_aborted is not None:
                    await self.on_aborted(run)
        return reaped

    async def _abort(
        self, run_id: uuid.UUID, interface_id: uuid.UUID, now: datetime
    ) -> SyncRun | None:
        async with session_scope(self.sessions) as session:
            marked = await session.execute(
                update(SyncRun)
                .where(SyncRun.id == run_id, SyncRun.status == RunStatus.running)
                .values(status=RunStatus.aborted, finished_at=now, error_summary=ABORTED)
            )
            if not getattr(marked, "rowcount", 0):
                return None  # another process reaped it first
            await session.execute(
                update(Interface)
                .where(Interface.id == interface_id, Interface.state == InterfaceState.active)
                .values(next_run_at=now)
            )
            return await session.get(SyncRun, run_id)

    async def _due(self, now: datetime) -> list[tuple[uuid.UUID, datetime | None]]:
        limit = max(self.executor.free_slots * 4, 1)
        async with session_scope(self.sessions) as session:
            rows = await session.execute(
                select(Interface.id, Interface.next_run_at)
                .where(
                    Interface.state == InterfaceState.active,
                    or_(Interface.next_run_at.is_(None), Interface.next_run_at <= now),
                )
                .order_by(Interface.next_run_at.is_not(None), Interface.next_run_at)
                .limit(limit)
            )
            return [(row.id, row.next_run_at) for row in rows]
