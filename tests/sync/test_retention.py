"""Run-item retention: settled items go after the period, open failures after the maximum."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.actor import Actor
from app.core.errors import Forbidden
from app.models import AuditEntry, RunItem, SyncRun
from app.models.base import utcnow
from app.models.enums import ItemAction, ItemStatus, SyncDirection
from app.sync.retention import purge_run_items
from tests.factories import World


async def add_item(db: AsyncSession, world: World, status: ItemStatus, age_days: int) -> None:
    db.add(RunItem(
        tenant_id=world.a.tenant.id, run_id=world.a.run.id, interface_id=world.a.interface.id,
        object_name="companies", direction=SyncDirection.to_hubspot, action=ItemAction.update,
        status=status, source_key=f"{status}-{age_days}", payload={"name": "Muster AG"},
        created_at=utcnow() - timedelta(days=age_days),
    ))  # fmt: skip


async def item_keys(db: AsyncSession) -> set[str]:
    return {k for k in (await db.execute(select(RunItem.source_key))).scalars() if k}


async def test_purge_keeps_what_is_still_needed(db: AsyncSession, world: World) -> None:
    for status, age in ((ItemStatus.succeeded, 40), (ItemStatus.succeeded, 10),
                        (ItemStatus.resolved, 31), (ItemStatus.failed, 60),
                        (ItemStatus.failed, 95)):  # fmt: skip
        await add_item(db, world, status, age)
    await db.commit()
    system = Actor.system("test")
    dry = await purge_run_items(db, actor=system, now=utcnow(), retention_days=30,
                                max_retention_days=90, dry_run=True)  # fmt: skip
    assert (dry.settled, dry.failed) == (2, 1)
    assert len(await item_keys(db)) == 6  # five added plus the world's own failed item
    done = await purge_run_items(db, actor=system, now=utcnow(), retention_days=30,
                                 max_retention_days=90)  # fmt: skip
    await db.commit()
    assert (done.settled, done.failed) == (2, 1)
    assert await item_keys(db) == {"succeeded-10", "failed-60", "K-1"}
    runs = (await db.execute(select(func.count()).select_from(SyncRun))).scalar_one()
    assert runs == 2  # run summaries stay
    audit = (await db.execute(select(AuditEntry).where(AuditEntry.action == "retention.purge"))
             ).scalar_one()  # fmt: skip
    assert audit.details == {"settled_items": 2, "failed_items": 1}


async def test_only_operators_purge(db: AsyncSession, world: World) -> None:
    admin = Actor(role=world.a.admin.role, tenant_id=world.a.tenant.id, user_id=world.a.admin.id)
    with pytest.raises(Forbidden):
        await purge_run_items(db, actor=admin, now=utcnow(), retention_days=30,
                              max_retention_days=90)  # fmt: skip
