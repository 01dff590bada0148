"""Sync history: runs and the per-record tasks behind them, read in the actor's scope."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.actor import Actor
from app.core.errors import NotFound
from app.models import RunItem, SyncRun
from app.sync.interfaces import get_interface
from app.sync.repositories import FailedItemRepository, RunItemRepository, SyncRunRepository


async def list_runs(
    session: AsyncSession, *, actor: Actor, interface_id: uuid.UUID | None = None
) -> Sequence[SyncRun]:
    """The newest runs the actor may see, optionally of one interface."""
    if interface_id is not None:
        await get_interface(session, actor=actor, interface_id=interface_id)
    return await SyncRunRepository.scoped(session, actor.scope).list(interface_id=interface_id)


async def get_run(session: AsyncSession, *, actor: Actor, run_id: uuid.UUID) -> SyncRun:
    """One run in the actor's scope (``NotFound`` for another tenant's)."""
    run = await SyncRunRepository.scoped(session, actor.scope).get_by_id(run_id)
    if run is None:
        raise NotFound("run not found")
    return run


async def list_run_items(
    session: AsyncSession, *, actor: Actor, run_id: uuid.UUID
) -> Sequence[RunItem]:
    """The tasks of one run in the actor's scope."""
    run = await get_run(session, actor=actor, run_id=run_id)
    return await RunItemRepository.scoped(session, actor.scope).list_for_run(run.id)


async def list_open_failures(session: AsyncSession, *, actor: Actor) -> Sequence[RunItem]:
    """Failed tasks that are not yet resolved, newest first: the error log."""
    return await FailedItemRepository.scoped(session, actor.scope).list_open()
