"""``hubsync serve`` purges once a day under a lease: one process of several, on a frozen clock."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import AuditEntry, WebhookEvent
from app.models.base import utcnow
from app.models.enums import WebhookState
from app.sync.retention import (
    PURGE_ACTION,
    PURGE_LEASE,
    PurgeResult,
    RetentionPolicy,
    purge_when_due,
)
from app.sync.scheduling.leases import Leases
from app.web import WebState, build_scheduler
from tests.sync.scheduling.test_scheduler import TTL, Clock

POLICY = RetentionPolicy(item_days=30, max_days=90, webhook_event_days=7)


async def purges(db: AsyncSession) -> int:
    statement = (
        select(func.count()).select_from(AuditEntry).where(AuditEntry.action == PURGE_ACTION)
    )
    return int((await db.execute(statement)).scalar_one())


async def add_event(db: AsyncSession, event_id: str, received_days_ago: int) -> None:
    db.add(WebhookEvent(
        portal_id=7, event_id=event_id, subscription_type="company.propertyChange",
        state=WebhookState.processed, received_at=utcnow() - timedelta(days=received_days_ago),
    ))  # fmt: skip
    await db.commit()


async def test_the_purge_runs_once_a_day(db: AsyncSession, web: WebState) -> None:
    clock = Clock()
    leases = Leases(web.session_factory, "process-1", TTL, clock)
    await add_event(db, "old", 8)

    first = await purge_when_due(web.session_factory, leases, POLICY, now=clock.now)
    assert first is not None
    assert first.counts["webhook_events"] == 1
    await add_event(db, "old-too", 9)
    again = await purge_when_due(
        web.session_factory, leases, POLICY, now=clock.now + timedelta(hours=23)
    )
    assert again is None  # the day is not over
    next_day = await purge_when_due(
        web.session_factory, leases, POLICY, now=clock.now + timedelta(days=1, minutes=1)
    )
    assert next_day is not None
    assert next_day.counts["webhook_events"] == 1
    assert await purges(db) == 2
    released = await Leases(web.session_factory, "process-2", TTL, clock).acquire(PURGE_LEASE)
    assert released is not None  # the lease is given back after each purge


async def test_a_process_without_the_lease_leaves_it_to_the_holder(
    db: AsyncSession, web: WebState
) -> None:
    clock = Clock()
    holder = Leases(web.session_factory, "process-1", TTL, clock)
    assert await holder.acquire(PURGE_LEASE) is not None  # process 1 is purging
    other = Leases(web.session_factory, "process-2", TTL, clock)
    assert await purge_when_due(web.session_factory, other, POLICY, now=clock.now) is None
    assert await purges(db) == 0


async def test_serve_runs_the_purge_as_a_scheduler_job(db: AsyncSession, web: WebState) -> None:
    job, seconds = build_scheduler(web).jobs["retention"]
    await add_event(db, "old", 8)
    await add_event(db, "recent", 1)
    result = await job()
    assert isinstance(result, PurgeResult)
    assert result.counts["webhook_events"] == 1
    assert seconds <= 3600  # looked at hourly: a purge is at most an hour past its day
    remaining = set((await db.execute(select(WebhookEvent.event_id))).scalars())
    assert remaining == {"recent"}
