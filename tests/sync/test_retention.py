"""Retention: settled run items go after the period, open failures after the maximum;
processed webhook events after their own period, events given up on with the failures;
run summaries after 13 months (each interface's latest kept), the audit log after two years.

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
from app.models.enums import (
    ItemAction,
    ItemStatus,
    RunStatus,
    RunTrigger,
    SyncDirection,
    WebhookState,
)
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
    assert (dry.counts["settled_items"], dry.counts["failed_items"]) == (2, 1)
    assert len(await item_keys(db)) == 6  # five added plus the world's own failed item
    done = await purge_expired(db, actor=system, now=utcnow(), policy=POLICY)
    await db.commit()
    assert (done.counts["settled_items"], done.counts["failed_items"]) == (2, 1)
    assert await item_keys(db) == {"succeeded-10", "failed-60", "K-1"}
    runs = (await db.execute(select(func.count()).select_from(SyncRun))).scalar_one()
    assert runs == 2  # run summaries stay
    audit = (await db.execute(select(AuditEntry).where(AuditEntry.action == "retention.purge"))
             ).scalar_one()  # fmt: skip
    assert audit.details == {
        "settled_items": 2, "failed_items": 1, "webhook_events": 0, "runs": 0, "audit_entries": 0
    }  # fmt: skip


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
    assert dry.counts["webhook_events"] == 3
    assert len(await event_ids(db)) == 7
    done = await purge_expired(db, actor=system, now=utcnow(), policy=POLICY)
    await db.commit()
    assert done.counts["webhook_events"] == 3
    # younger than its period, given up on but within the maximum, or not yet processed
    assert await event_ids(db) == {"processed-6", "failed-30", "received-100", "processing-100"}


def test_a_policy_outside_its_bounds_is_refused() -> None:
    with pytest.raises(ValueError, match="at most the maximum"):
        RetentionPolicy(item_days=30, max_days=20, webhook_event_days=7)
    with pytest.raises(ValueError, match="webhook event retention"):
        RetentionPolicy(item_days=30, max_days=90, webhook_event_days=0)


async def add_run(db: AsyncSession, world: World, age_days: int, status: RunStatus) -> SyncRun:
    run = SyncRun(tenant_id=world.a.tenant.id, interface_id=world.a.interface.id,
                  trigger=RunTrigger.schedule, status=status,
                  started_at=utcnow() - timedelta(days=age_days))  # fmt: skip
    db.add(run)
    await db.flush()
    return run


async def test_run_summaries_go_after_13_months_but_each_interfaces_latest_stays(
    db: AsyncSession, world: World
) -> None:
    old = await add_run(db, world, 500, RunStatus.succeeded)
    db.add(RunItem(tenant_id=world.a.tenant.id, run_id=old.id, interface_id=world.a.interface.id,
                   object_name="companies", direction=SyncDirection.to_hubspot,
                   action=ItemAction.update, status=ItemStatus.succeeded, source_key="old",
                   created_at=utcnow()))  # fmt: skip
    stuck = await add_run(db, world, 450, RunStatus.running)
    kept = await add_run(db, world, 10, RunStatus.succeeded)
    lonely = SyncRun(tenant_id=world.b.tenant.id, interface_id=world.b.interface.id,
                     trigger=RunTrigger.schedule, status=RunStatus.failed,
                     started_at=utcnow() - timedelta(days=600))  # fmt: skip
    await db.delete(world.b.run)
    db.add(lonely)  # tenant B's interface ran last 600 days ago: its latest run stays
    db.add(AuditEntry(action="interface.update", actor_label="t", details={},
                      created_at=utcnow() - timedelta(days=731)))  # fmt: skip
    await db.commit()
    system = Actor.system("test")

    done = await purge_expired(db, actor=system, now=utcnow(), policy=POLICY)
    await db.commit()

    assert (done.counts["runs"], done.counts["audit_entries"]) == (1, 1)
    left = set((await db.execute(select(SyncRun.id))).scalars())
    assert {old.id, stuck.id, kept.id, lonely.id} & left == {stuck.id, kept.id, lonely.id}
    assert "old" not in await item_keys(db)  # the run's items went with it
    actions = set((await db.execute(select(AuditEntry.action))).scalars())
    assert "interface.update" not in actions
    assert "retention.purge" in actions  # the purge itself is audited after the purge


def test_runs_are_kept_at_least_as_long_as_their_items() -> None:
    with pytest.raises(ValueError, match="at least the maximum run item retention"):
        RetentionPolicy(item_days=30, max_days=90, webhook_event_days=7, run_days=60)
