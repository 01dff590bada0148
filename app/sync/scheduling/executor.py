"""Runs interfaces in this process, each under its leases: exclusive, bounded, stoppable.

Every real run goes through here (the schedule, run-now from the API, the
command line), so a run always holds its interface's lease and its portal's
lease while it writes. The leases are renewed every third of their TTL; a run
whose lease was lost (this process stalled past the TTL and another took over)
stops after its current batch, and so do all runs when the process shuts down
(SIGTERM): what was committed stays, the next run resumes from the cursor.

After a scheduled run the next one is planned an interval after the planned
time; a run stopped at shutdown is planned for now, so another process resumes
it at its next tick. The next time is stored before the leases are released,
so a process that wins the lease afterwards sees the new time and does not run
the same slot twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select

from app.auth.actor import Actor
from app.core.db import SessionFactory, session_scope
from app.core.errors import Conflict, HubsyncError
from app.core.metrics import METRICS
from app.core.secrets_box import SecretBox
from app.models import Connection, Interface, SyncRun
from app.models.base import utcnow
from app.models.enums import Health, RunStatus, RunTrigger
from app.sync.engine.state import RunHooks, Selection
from app.sync.hubspot_oauth.config import OAuthConfig
from app.sync.running import run_now
from app.sync.scheduling.leases import Leases, interface_lease, portal_lease
from app.sync.scheduling.schedule import next_run_after

logger = logging.getLogger(__name__)

SCHEDULER = Actor.system("scheduler")


def process_holder(kind: str = "serve") -> str:
    """A lease holder name unique to this process: kind, host, pid and a random tag."""
    return f"{kind}:{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


@dataclass(slots=True)
class _Active:
    """One run in progress here: its task and the leases it holds."""

    interface_id: uuid.UUID
    leases: tuple[str, ...]
    task: asyncio.Task[SyncRun | None] | None = None
    run: SyncRun | None = None  # the run row, once it exists
    lost: bool = False


@dataclass(slots=True)
class RunStarted:
    """The outcome of asking for a run: the run row, or why it did not start."""

    run: SyncRun | None = None
    busy: str | None = None  # "interface" or "portal": someone else holds that lease
    took_over_from: str | None = None


@dataclass
class RunExecutor:
    """Starts leased runs in the background and stops them cleanly."""

    sessions: SessionFactory
    box: SecretBox
    leases: Leases
    public_url: str  # for the run links in notifications
    max_concurrent: int = 4
    clock: Callable[[], datetime] = utcnow
    oauth_app: OAuthConfig | None = None  # the settings' HubSpot app: refreshes OAuth tokens
    active: dict[uuid.UUID, _Active] = field(default_factory=dict)
    stopping: bool = False
    _heartbeat: asyncio.Task[None] | None = None
    _portals: set[str] = field(default_factory=set)  # portal leases our runs hold or claim
    _starting: set[uuid.UUID] = field(default_factory=set)  # interfaces being started here

    @property
    def free_slots(self) -> int:
        """How many more runs this process may start now."""
        busy = len(self.active) + len(self._starting)
        return 0 if self.stopping else self.max_concurrent - busy

    def is_running(self, interface_id: uuid.UUID) -> bool:
        """Whether this process runs ``interface_id`` right now."""
        return interface_id in self.active

    async def start(
        self,
        interface_id: uuid.UUID,
        *,
        trigger: RunTrigger,
        actor: Actor = SCHEDULER,
        planned_at: datetime | None = None,
        only: Selection | None = None,
    ) -> RunStarted:
        """Take the interface's and its portal's leases and start the run in the background.

        Answers once the run row exists (or the run could not start). ``planned_at``
        is the schedule slot being served: if the interface is no longer due for
        it once the lease is won, another process ran it already and nothing starts.
        ``only`` makes it a targeted run of chosen records (a retry, a webhook's changes).
        """
        if self.stopping or interface_id in self.active or interface_id in self._starting:
            return RunStarted(busy="interface")
        self._starting.add(interface_id)  # before the first await: one start per interface here
        try:
            return await self._start(interface_id, trigger, actor, planned_at, only)
        finally:
            self._starting.discard(interface_id)

    async def _start(
        self,
        interface_id: uuid.UUID,
        trigger: RunTrigger,
        actor: Actor,
        planned_at: datetime | None,
        only: Selection | None,
    ) -> RunStarted:
        interface = await self._interface(interface_id)
        claimed = await self.leases.acquire(interface_lease(interface_id))
        if claimed is None:
            return RunStarted(busy="interface")
        if claimed.took_over_from:
            METRICS.lease_takeover()
        names = [claimed.name]
        if planned_at is not None and not await self._still_due(interface_id, planned_at):
            await self.leases.release(names)
            return RunStarted(busy="interface")
        portal_name = portal_lease(await self._portal_key(interface))
        if portal_name in self._portals:  # a lease is per process: another run here holds it
            await self.leases.release(names)
            return RunStarted(busy="portal")
        self._portals.add(portal_name)  # before the await: no second run of ours may claim it
        portal = await self.leases.acquire(portal_name)
        if portal is None:
            self._portals.discard(portal_name)
            await self.leases.release(names)
            return RunStarted(busy="portal")
        names.append(portal.name)
        entry = _Active(interface_id, tuple(names))
        self.active[interface_id] = entry
        started: asyncio.Future[SyncRun | None] = asyncio.get_running_loop().create_future()
        hooks = RunHooks(
            worker=self.leases.holder,
            planned_at=planned_at,
            should_stop=lambda: self.stopping or entry.lost,
            on_started=lambda run: _started(entry, started, run),
            only=only,
        )
        entry.task = asyncio.create_task(self._run(entry, trigger, actor, hooks))
        self._ensure_heartbeat()
        waiting: list[asyncio.Future[SyncRun | None]] = [started, entry.task]
        await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
        if started.done():
            return RunStarted(run=started.result(), took_over_from=claimed.took_over_from)
        entry.task.result()  # the run failed before its row existed: raise that error
        return RunStarted(busy="interface")

    async def run(
        self, interface_id: uuid.UUID, *, trigger: RunTrigger, actor: Actor = SCHEDULER
    ) -> SyncRun:
        """Start a run and wait for it to finish (the command line's run)."""
        outcome = await self.start(interface_id, trigger=trigger, actor=actor)
        if outcome.run is None:
            raise Conflict(f"a run of this interface is in progress ({outcome.busy} is busy)")
        entry = self.active.get(interface_id)
        if entry is not None and entry.task is not None:
            await asyncio.shield(entry.task)
        return outcome.run

    async def shutdown(self, grace_s: float) -> None:
        """Ask every run to stop after its current batch and wait up to ``grace_s`` seconds."""
        self.stopping = True
        tasks = [e.task for e in self.active.values() if e.task is not None]
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=grace_s)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        if self._heartbeat is not None:
            self._heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._heartbeat

    async def _run(
        self, entry: _Active, trigger: RunTrigger, actor: Actor, hooks: RunHooks
    ) -> SyncRun | None:
        run: SyncRun | None = None
        refused: str | None = None
        try:
            run = await run_now(
                self.sessions, actor=actor, box=self.box, interface_id=entry.interface_id,
                trigger=trigger, hooks=hooks, public_url=self.public_url, oauth_app=self.oauth_app,
            )  # fmt: skip
            return run
        except HubsyncError as exc:  # e.g. no approved mapping version: the interface says why
            refused = exc.message
            raise
        except Exception:
            logger.exception("run of interface %s could not start", entry.interface_id)
            raise
        finally:
            try:
                await self._plan_next(
                    entry.interface_id, trigger, hooks.planned_at, run, refused=refused
                )
            finally:
                self.active.pop(entry.interface_id, None)
                try:
                    await self.leases.release(entry.leases)
                finally:  # only once released: until then a claim of ours would re-enter the lease
                    self._portals.difference_update(entry.leases)
                if entry.run is not None:
                    _finished(entry.run, self.clock())

    async def _plan_next(
        self,
        interface_id: uuid.UUID,
        trigger: RunTrigger,
        planned_at: datetime | None,
        run: SyncRun | None,
        *,
        refused: str | None = None,
    ) -> None:
        now = self.clock()
        async with session_scope(self.sessions) as session:
            interface = await session.get(Interface, interface_id)
            if interface is None:
                return
            if refused is not None and trigger is RunTrigger.schedule:
                interface.health, interface.health_reason = Health.error, refused[:500]
            if run is not None and run.status is RunStatus.aborted:
                interface.next_run_at = now  # resume from the committed cursor at once
            elif trigger is RunTrigger.schedule:
                interface.next_run_at = next_run_after(planned_at, interface.interval_minutes, now)

    def _ensure_heartbeat(self) -> None:
        if self._heartbeat is None or self._heartbeat.done():
            self._heartbeat = asyncio.create_task(self._beat())

    async def _beat(self) -> None:
        interval = max(self.leases.ttl.total_seconds() / 3, 0.05)
        while self.active:
            await asyncio.sleep(interval)
            entries = list(self.active.values())  # a run started while renewing is judged next beat
            wanted = {name for e in entries for name in e.leases}
            try:
                held = await self.leases.renew(wanted)
            except Exception:  # the database hiccuped: try again next beat, the TTL allows it
                logger.warning("renewing leases failed; retrying", exc_info=True)
                continue
            for entry in entries:
                if not set(entry.leases) <= held:
                    entry.lost = True  # another process took over: stop after this batch

    async def _interface(self, interface_id: uuid.UUID) -> Interface:
        async with session_scope(self.sessions) as session:
            interface = await session.get(Interface, interface_id)
            if interface is None:
                raise Conflict("the interface no longer exists")
            return interface

    async def _still_due(self, interface_id: uuid.UUID, planned_at: datetime) -> bool:
        async with session_scope(self.sessions) as session:
            current = await session.scalar(
                select(Interface.next_run_at).where(Interface.id == interface_id)
            )
        return current is None or current <= planned_at

    async def _portal_key(self, interface: Interface) -> str:
        """The portal's id when the connection knows it (OAuth), else the connection's id."""
        async with session_scope(self.sessions) as session:
            config = await session.scalar(
                select(Connection.config).where(Connection.id == interface.hubspot_connection_id)
            )
        portal_id = (config or {}).get("portal_id")
        return f"hub-{portal_id}" if portal_id else f"connection-{interface.hubspot_connection_id}"


def _started(entry: _Active, future: asyncio.Future[SyncRun | None], run: SyncRun) -> None:
    entry.run = run
    METRICS.run_started()
    if run.planned_at is not None:
        METRICS.queue_delay((run.started_at - run.planned_at).total_seconds())
    if not future.done():
        future.set_result(run)


def _finished(run: SyncRun, now: datetime) -> None:
    ended = run.finished_at or now
    status = run.status if run.status is not RunStatus.running else RunStatus.failed
    METRICS.run_finished(status, run.trigger, (ended - run.started_at).total_seconds(), run.counts)
