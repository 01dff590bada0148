"""Failed items on request: retried on their own, or marked resolved.

A retry starts one background run per interface (trigger ``retry``) that
handles only the chosen failed records, each as it is now on its side — for
records bound for HubSpot the source record read again by key (corrected in the
source since, or gone: then the deletion policy applies), for records bound for
the source the HubSpot record read again by id — and reads nothing else, so the
cursor stays where it is. The payload kept with a failure is what was sent then,
for the error log, never what a retry sends. Processing a record again settles
its earlier failures; a record that fails again gets a new failed item. Marking
as resolved is for failures that need no retry (fixed by hand, or obsolete);
both are audited.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.actor import Actor, Permission
from app.core.audit import record_audit
from app.core.db import SessionFactory, session_scope
from app.core.errors import Conflict, NotFound
from app.models import RunItem, SyncRun
from app.models.enums import ItemStatus, RunTrigger
from app.sync.engine.state import Selection
from app.sync.scheduling.executor import RunExecutor


async def retry_items(
    sessions: SessionFactory, executor: RunExecutor, *, actor: Actor, item_ids: Sequence[uuid.UUID]
) -> list[SyncRun]:
    """Start a retry run for the failed items ``item_ids``, one per interface; the runs.

    Takes a session factory, not the caller's session: the choice is committed
    (and audited) before the runs start, which write from their own sessions.
    """
    actor.require(Permission.operate_interfaces)
    async with session_scope(sessions) as session:
        items = await _failed_items(session, actor, item_ids)
        wanted: dict[uuid.UUID, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
        for item in items:
            if item.source_key:
                wanted[item.interface_id][item.object_name].add(item.source_key)
        for interface_id in wanted:
            await _audit(session, actor, "run_items.retry", items, interface_id)
    started: list[SyncRun] = []
    for interface_id, keys in wanted.items():
        only = Selection(source_keys={name: frozenset(found) for name, found in keys.items()})
        outcome = await executor.start(
            interface_id, trigger=RunTrigger.retry, actor=actor, only=only
        )
        if outcome.run is None:
            raise Conflict(f"a run cannot start now: the {outcome.busy} is busy with another run")
        started.append(outcome.run)
    return started


async def resolve_items(
    session: AsyncSession, *, actor: Actor, item_ids: Sequence[uuid.UUID]
) -> int:
    """Mark the failed items ``item_ids`` resolved (no retry); how many were marked."""
    actor.require(Permission.operate_interfaces)
    items = await _failed_items(session, actor, item_ids)
    await session.execute(
        update(RunItem)
        .where(RunItem.id.in_([i.id for i in items]), RunItem.status == ItemStatus.failed)
        .values(status=ItemStatus.resolved)
    )
    for interface_id in {i.interface_id for i in items}:
        await _audit(session, actor, "run_items.resolve", items, interface_id)
    return len(items)


async def _failed_items(
    session: AsyncSession, actor: Actor, item_ids: Sequence[uuid.UUID]
) -> list[RunItem]:
    """The failed items among ``item_ids`` the actor may see; unknown or foreign ids: 404."""
    wanted = set(item_ids)
    if not wanted:
        return []
    statement = actor.scope.apply(select(RunItem).where(RunItem.id.in_(wanted)), RunItem)
    found = list((await session.scalars(statement)).all())
    if len(found) != len(wanted):
        raise NotFound("run item not found")
    return [item for item in found if item.status is ItemStatus.failed]


async def _audit(
    session: AsyncSession,
    actor: Actor,
    action: str,
    items: Sequence[RunItem],
    interface_id: uuid.UUID,
) -> None:
    mine = [i for i in items if i.interface_id == interface_id]
    await record_audit(
        session, action=action, actor_label=actor.label, actor_id=actor.user_id,
        tenant_id=mine[0].tenant_id, target_type="interface", target_id=interface_id,
        details={"items": len(mine)},
    )  # fmt: skip
