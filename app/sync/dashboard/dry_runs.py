"""Dry runs of an interface: started in the background, read back as a preview.

A dry run is the same pipeline with writes replaced by a report; the preview
lists up to 50 records per action (and the refused ones), read with one ranked
query.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import String, case, func, select, type_coerce
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.actor import Actor
from app.core.db import SessionFactory
from app.core.errors import NotFound
from app.core.secrets_box import SecretBox
from app.models import RunItem, SyncRun
from app.models.base import utcnow
from app.models.enums import ItemStatus, RunStatus
from app.sync import interfaces
from app.sync.engine.state import RunHooks
from app.sync.hubspot_oauth.config import OAuthConfig
from app.sync.running import run_now

logger = logging.getLogger(__name__)

PREVIEW_ROWS = 50  # records per action a dry-run preview lists
DRY_RUN_STALE = timedelta(hours=1)


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


_DRY_RUNS: set[asyncio.Task[SyncRun]] = set()  # keeps running previews referenced


async def start_dry_run(
    sessions: SessionFactory,
    *,
    actor: Actor,
    box: SecretBox,
    interface_id: uuid.UUID,
    public_url: str,
    oauth_app: OAuthConfig | None = None,
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
            oauth_app=oauth_app,
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
