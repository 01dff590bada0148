"""Retention: settled run items go after the period, open failures after the maximum;
processed webhook events after their own period, events given up on with the failures.

Under a frozen clock: old rows go, new rows stay, counts audited (SECURITY.md §17)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.actor import Actor
from app.core.errors import Forbidden
from app.models import AuditEntry, RunItem, SyncRun, WebhookEvent
from app.models.base import utcnow
from app.models.enums import ItemAction, ItemStatus, SyncDirection, WebhookState
from app.sync.retention import RetentionPolicy, purge_expired
from tests.factories import World


async def add_item(db: AsyncSession, world: World, status: ItemStatus, age_days: int) -> None:
    db.add(RunItem(
        tenant_id=world.a.tenant.id, run_id=world.a.run.id, interface_id=world.a.interface.id,
        object_name="companies", direction=SyncDirection.to_hubspot, action=ItemAction.update,
        status=status, source_key=f"{status}-{age_days}", payload={"name": "Muster AG"},
        created_at=utcnow() - timedelta(days=age_days),
    ))  # fmt: skip


POLICY = RetentionPolicy(item_days=30, max_days=90, webhook_event_days=7)


async def add_event(db: AsyncSession, state: WebhookState, age_days: int) -> None:
    db.add(WebhookEvent(
        portal_id=42, event_id=f"{state}-{age_days}", subscription_type="contact.propertyChange",
        object_id="901", state=state, received_at=utcnow() - timedelta(days=age_days),
        payload={"propertyName": "email", "propertyValue": "anna@muster.ch"},
    ))  # fmt: skip


async def event_ids(db: AsyncSession) -> set[str]:
    return set((await db.execute(select(WebhookEvent.event_id))).scalars())


async def item_keys(db: AsyncSession) -> set[str]:
    return {k for k in (await db.execute(select(RunItem.source_key))).scalars() if k}


async def test_purge_keeps_what_is_still_needed(db: AsyncSession, world: World) -> None:
    for status, age in ((ItemStatus.succeeded, 40), (ItemStatus.succeeded, 10),
                        (ItemStatus.resolved, 31), (ItemStatus.failed, 60),
                        (ItemStatus.failed, 95)):  # fmt: skip
        await add_item(db, world, status, age)
    await db.commit()
    system = Actor.system("test")
    dry = await purge_expired(db, actor=system, now=utcnow(), policy=POLICY, dry_run=True)
    assert (dry.settled, dry.failed) == (2, 1)
    assert len(await item_keys(db)) == 6  # five added plus the world's own failed item
    done = await purge_expired(db, actor=system, now=utcnow(), policy=POLICY)
    await db.commit()
    assert (done.settled, done.failed) == (2, 1)
    assert await item_keys(db) == {"succeeded-10", "failed-60", "K-1"}
    runs = (await db.execute(select(func.count()).select_from(SyncRun))).scalar_one()
    assert runs == 2  # run summaries stay
    audit = (await db.execute(select(AuditEntry).where(AuditEntry.action == "retention.purge"))
             ).scalar_one()  # fmt: skip
    assert audit.details == {"settled_items": 2, "failed_items": 1, "webhook_events": 0}


async def test_only_operators_purge(db: AsyncSession, world: World) -> None:
    admin = Actor(role=world.a.admin.role, tenant_id=world.a.tenant.id, user_id=world.a.admin.id)
    with pytest.raises(Forbidden):
        await purge_expired(db, actor=admin, now=utcnow(), policy=POLICY)


async def test_webhook_events_go_after_their_own_period(db: AsyncSession) -> None:
    for state, age in ((WebhookState.processed, 8), (WebhookState.ignored, 8),
                       (WebhookState.processed, 6), (WebhookState.failed, 30),
                       (WebhookState.failed, 91), (WebhookState.received, 100),
                       (WebhookState.processing, 100)):  # fmt: skip
        await add_event(db, state, age)
    await db.commit()
    system = Actor.system("test")
    dry = await purge_expired(db, actor=system, now=utcnow(), policy=POLICY, dry_run=True)
    assert dry.webhook_events == 3
    assert len(await event_ids(db)) == 7
    done = await purge_expired(db, actor=system, now=utcnow(), policy=POLICY)
    await db.commit()
    assert done.webhook_events == 3
    # younger than its period, given up on but within the maximum, or not yet processed
    assert await event_ids(db) == {"processed-6", "failed-30", "received-100", "processing-100"}


def test_a_policy_outside_its_bounds_is_refused() -> None:
    with pytest.raises(ValueError, match="at most the maximum"):
        RetentionPolicy(item_days=30, max_days=20, webhook_event_days=7)
    with pytest.raises(ValueError, match="webhook event retention"):
        RetentionPolicy(item_days=30, max_days=90, webhook_event_days=0)
