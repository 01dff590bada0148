"""Sync history: runs by filter, newest first, and one run with what its header names.

The history takes its counts from the run row, never from the run's tasks.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.actor import Actor
from app.auth.repository import UserRepository
from app.core.errors import NotFound
from app.core.repository import TenantRepository
from app.models import Interface, MappingVersion, SyncRun
from app.models.enums import RunStatus, RunTrigger
from app.sync.interfaces import get_interface
from app.sync.keyset import Cursor, Page, cut_page, keyset
from app.sync.repositories import SyncRunRepository

RUN_PAGE = 50


@dataclass(frozen=True, slots=True)
class RunFilter:
    """Which runs the history shows: ``since`` inclusive, ``until`` exclusive."""

    interface_id: uuid.UUID | None = None
    status: RunStatus | None = None
    trigger: RunTrigger | None = None
    since: datetime | None = None
    until: datetime | None = None


@dataclass(frozen=True, slots=True)
class RunDetail:
    """A run with what its header names: interface, mapping version, who started it."""

    run: SyncRun
    interface_name: str
    version_number: int | None
    triggered_by: str | None


class RunHistoryRepository(TenantRepository[SyncRun]):
    """The history's queries: runs by filter, newest first, one page at a time."""

    model = SyncRun

    async def page(
        self, filters: RunFilter, *, before: Cursor | None, after: Cursor | None, limit: int
    ) -> Page[SyncRun]:
        """One page of runs matching ``filters``."""
        statement = self.select()
        for condition in _run_conditions(filters):
            statement = statement.where(condition)
        statement, backwards = keyset(
            statement,
            (SyncRun.started_at, SyncRun.id),
            descending=True,
            before=before,
            after=after,
            limit=limit,
        )
        found = await self.get_all(statement)
        rows, newer, older = cut_page(found, limit=limit, backwards=backwards, started=bool(before))
        return Page(rows=rows, newer=newer, older=older)

    async def mapping_of(self, run_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, dict[str, Any]]:
        """The parsed mapping version each of ``run_ids`` ran with (else the active one)."""
        if not run_ids:
            return {}
        version_id = func.coalesce(SyncRun.mapping_version_id, Interface.active_mapping_version_id)
        statement = (
            select(SyncRun.id, MappingVersion.parsed)
            .join(Interface, Interface.id == SyncRun.interface_id)
            .join(MappingVersion, MappingVersion.id == version_id)
            .where(SyncRun.id.in_(run_ids))
        )
        statement = self.scope.apply(statement, SyncRun)
        result = await self.session.execute(statement)
        return dict(result.all())

    async def version_number(self, version_id: uuid.UUID) -> int | None:
        """The number of a mapping version."""
        statement = select(MappingVersion.number).where(MappingVersion.id == version_id)
        result = await self.session.execute(self.scope.apply(statement, MappingVersion))
        return result.scalar_one_or_none()


def _run_conditions(filters: RunFilter) -> list[Any]:
    conditions: list[Any] = []
    if filters.interface_id is not None:
        conditions.append(SyncRun.interface_id == filters.interface_id)
    if filters.status is not None:
        conditions.append(SyncRun.status == filters.status)
    if filters.trigger is not None:
        conditions.append(SyncRun.trigger == filters.trigger)
    if filters.since is not None:
        conditions.append(SyncRun.started_at >= filters.since)
    if filters.until is not None:
        conditions.append(SyncRun.started_at < filters.until)
    return conditions


async def list_runs(
    session: AsyncSession, *, actor: Actor, interface_id: uuid.UUID | None = None
) -> Sequence[SyncRun]:
    """The newest runs the actor may see, optionally of one interface."""
    if interface_id is not None:
        await get_interface(session, actor=actor, interface_id=interface_id)
    return await SyncRunRepository.scoped(session, actor.scope).list(interface_id=interface_id)


async def page_runs(
    session: AsyncSession,
    *,
    actor: Actor,
    filters: RunFilter,
    before: Cursor | None = None,
    after: Cursor | None = None,
    limit: int = RUN_PAGE,
) -> Page[SyncRun]:
    """One page of the history, newest first, limited to ``filters``."""
    if filters.interface_id is not None:
        await get_interface(session, actor=actor, interface_id=filters.interface_id)
    repo = RunHistoryRepository.scoped(session, actor.scope)
    return await repo.page(filters, before=before, after=after, limit=limit)


async def get_run(session: AsyncSession, *, actor: Actor, run_id: uuid.UUID) -> SyncRun:
    """One run in the actor's scope (``NotFound`` for another tenant's)."""
    run = await SyncRunRepository.scoped(session, actor.scope).get_by_id(run_id)
    if run is None:
        raise NotFound("run not found")
    return run


async def get_runs(
    session: AsyncSession, *, actor: Actor, run_ids: Sequence[uuid.UUID]
) -> list[SyncRun]:
    """Runs in the actor's scope, in one query (``NotFound`` if any is not there)."""
    repo = SyncRunRepository.scoped(session, actor.scope)
    found = await repo.get_all(repo.select().where(SyncRun.id.in_(run_ids)))
    if len(found) != len(set(run_ids)):
        raise NotFound("run not found")
    return list(found)


async def run_detail(session: AsyncSession, *, actor: Actor, run_id: uuid.UUID) -> RunDetail:
    """A run with its interface's name, its mapping version's number and who started it."""
    run = await get_run(session, actor=actor, run_id=run_id)
    interface = await get_interface(session, actor=actor, interface_id=run.interface_id)
    repo = RunHistoryRepository.scoped(session, actor.scope)
    number = None
    if run.mapping_version_id is not None:
        number = await repo.version_number(run.mapping_version_id)
    user = None
    if run.triggered_by_id is not None:
        user = await UserRepository.from_session(session).get_by_id(run.triggered_by_id)
    return RunDetail(run, interface.name, number, user.email if user else None)


async def run_mappings(
    session: AsyncSession, *, actor: Actor, run_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, dict[str, Any]]:
    """The parsed mapping each run ran with (for the payload view)."""
    repo = RunHistoryRepository.scoped(session, actor.scope)
    return await repo.mapping_of(sorted(set(run_ids)))
