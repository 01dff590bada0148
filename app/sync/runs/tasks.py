"""A run's tasks: 100 at a time in the order they were done, and one task by id."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.actor import Actor
from app.core.errors import NotFound
from app.core.repository import TenantRepository
from app.models import RunItem
from app.models.enums import ItemAction, ItemStatus
from app.sync.keyset import Cursor, Page, cut_page, keyset, prefix
from app.sync.repositories import FailedItemRepository, RunItemRepository
from app.sync.runs.history import get_run

ITEM_PAGE = 100


@dataclass(frozen=True, slots=True)
class ItemFilter:
    """Which tasks of a run show: by object, action, status and source-key prefix."""

    object_name: str | None = None
    action: ItemAction | None = None
    status: ItemStatus | None = None
    key: str | None = None


class TaskRepository(TenantRepository[RunItem]):
    """A run's tasks in order (index ``run_id, created_at, id``), and tasks by id."""

    model = RunItem

    async def page_for_run(
        self,
        run_id: uuid.UUID,
        filters: ItemFilter,
        *,
        before: Cursor | None,
        after: Cursor | None,
        limit: int,
    ) -> Page[RunItem]:
        """One page of a run's tasks in the order they were done."""
        statement = self.select().where(RunItem.run_id == run_id)
        if filters.object_name is not None:
            statement = statement.where(RunItem.object_name == filters.object_name)
        if filters.action is not None:
            statement = statement.where(RunItem.action == filters.action)
        if filters.status is not None:
            statement = statement.where(RunItem.status == filters.status)
        if filters.key:
            statement = statement.where(prefix(RunItem.source_key, filters.key))
        # "after" in this ascending list means later tasks: the keyset's "before" side
        statement, backwards = keyset(
            statement,
            (RunItem.created_at, RunItem.id),
            descending=False,
            before=after,
            after=before,
            limit=limit,
        )
        found = await self.get_all(statement)
        rows, earlier, later = cut_page(
            found, limit=limit, backwards=backwards, started=bool(after)
        )
        return Page(rows=rows, newer=later, older=earlier)

    async def by_ids(self, item_ids: Sequence[uuid.UUID]) -> Sequence[RunItem]:
        """The tasks with ``item_ids`` in the scope, newest first."""
        if not item_ids:
            return []
        statement = (
            self.select()
            .where(RunItem.id.in_(item_ids))
            .order_by(RunItem.created_at.desc(), RunItem.id.desc())
        )
        return await self.get_all(statement)


async def list_run_items(
    session: AsyncSession, *, actor: Actor, run_id: uuid.UUID
) -> Sequence[RunItem]:
    """The tasks of one run in the actor's scope."""
    run = await get_run(session, actor=actor, run_id=run_id)
    return await RunItemRepository.scoped(session, actor.scope).list_for_run(run.id)


async def page_run_items(
    session: AsyncSession,
    *,
    actor: Actor,
    run_id: uuid.UUID,
    filters: ItemFilter,
    before: Cursor | None = None,
    after: Cursor | None = None,
    limit: int = ITEM_PAGE,
) -> Page[RunItem]:
    """One page of a run's tasks in the order they were done.

    ``after`` pages forward (later tasks), ``before`` back; the page's ``newer``
    cursor leads on to later tasks and ``older`` back to earlier ones.
    """
    run = await get_run(session, actor=actor, run_id=run_id)
    repo = TaskRepository.scoped(session, actor.scope)
    return await repo.page_for_run(run.id, filters, before=before, after=after, limit=limit)


async def list_open_failures(session: AsyncSession, *, actor: Actor) -> Sequence[RunItem]:
    """Failed tasks that are not yet resolved, newest first."""
    return await FailedItemRepository.scoped(session, actor.scope).list_open()


async def get_item(session: AsyncSession, *, actor: Actor, item_id: uuid.UUID) -> RunItem:
    """One task in the actor's scope (``NotFound`` for another tenant's)."""
    item = await TaskRepository.scoped(session, actor.scope).get_by_id(item_id)
    if item is None:
        raise NotFound("task not found")
    return item
