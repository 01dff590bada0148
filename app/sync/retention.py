"""Retention: hubsync keeps what it holds about records only as long as it is needed.

- Run items of settled records (succeeded, resolved) go after the retention period
  (``HUBSYNC_RUN_ITEM_RETENTION_DAYS``, default 30); open failures stay longer, so
  the error log can still show and retry them, but never past the maximum
  (``HUBSYNC_RUN_ITEM_MAX_RETENTION_DAYS``, default 90). Run summaries (counts) stay.
- HubSpot's webhook events, whose payloads can name a person and a changed value:
  processed and ignored ones go after ``HUBSYNC_WEBHOOK_EVENT_RETENTION_DAYS``
  (default 7); those the worker gave up on stay as long as open failures, for the
  error log and its retry; events still waiting for the worker never go.

``hubsync purge`` runs it by hand (``--dry-run`` counts); ``hubsync serve`` runs it
once a day under a lease, so that one process of several does it. Every purge is
audited with its counts (SECURITY.md §17).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.actor import Actor, Permission
from app.core.audit import record_audit
from app.core.db import SessionFactory, session_scope
from app.core.settings import Settings
from app.models.base import utcnow
from app.models.enums import ItemStatus, WebhookState
from app.sync.repositories import AuditRepository, RetentionRepository
from app.sync.scheduling.leases import Leases

SETTLED = (ItemStatus.succeeded, ItemStatus.resolved)
OPEN = (ItemStatus.failed,)
DONE_EVENTS = (WebhookState.processed, WebhookState.ignored)
FAILED_EVENTS = (WebhookState.failed,)
PURGE_ACTION = "retention.purge"
PURGE_LEASE = "retention:purge"
PURGE_EVERY = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class RetentionPolicy:
    """How many days each kind of row is kept."""

    item_days: int
    max_days: int
    webhook_event_days: int

    def __post_init__(self) -> None:
        if not 1 <= self.item_days <= self.max_days:
            raise ValueError("retention must be at least one day and at most the maximum")
        if not 1 <= self.webhook_event_days <= self.max_days:
            raise ValueError(
                "webhook event retention must be at least one day and at most the maximum"
            )

    @classmethod
    def from_settings(cls, settings: Settings) -> RetentionPolicy:
        """The policy the settings (``HUBSYNC_*_RETENTION_DAYS``) describe."""
        return cls(
            settings.run_item_retention_days,
            settings.run_item_max_retention_days,
            settings.webhook_event_retention_days,
        )


@dataclass(frozen=True, slots=True)
class PurgeResult:
    """How many rows were (or, in a dry run, would be) deleted."""

    settled: int
    failed: int
    webhook_events: int
    dry_run: bool

    def audit_details(self) -> dict[str, int]:
        """The counts as the audit log keeps them."""
        return {
            "settled_items": self.settled,
            "failed_items": self.failed,
            "webhook_events": self.webhook_events,
        }


async def purge_expired(
    session: AsyncSession,
    *,
    actor: Actor,
    now: datetime,
    policy: RetentionPolicy,
    dry_run: bool = False,
) -> PurgeResult:
    """Delete run items and webhook events past their retention (a system job for operators)."""
    actor.require(Permission.manage_tenants)
    repo = RetentionRepository(session)
    settled_before = now - timedelta(days=policy.item_days)
    failed_before = now - timedelta(days=policy.max_days)
    events_before = now - timedelta(days=policy.webhook_event_days)
    if dry_run:
        return PurgeResult(
            await repo.count_items(before=settled_before, statuses=SETTLED),
            await repo.count_items(before=failed_before, statuses=OPEN),
            await repo.count_events(before=events_before, states=DONE_EVENTS)
            + await repo.count_events(before=failed_before, states=FAILED_EVENTS),
            dry_run=True,
        )
    result = PurgeResult(
        await repo.delete_items(before=settled_before, statuses=SETTLED),
        await repo.delete_items(before=failed_before, statuses=OPEN),
        await repo.delete_events(before=events_before, states=DONE_EVENTS)
        + await repo.delete_events(before=failed_before, states=FAILED_EVENTS),
        dry_run=False,
    )
    await record_audit(
        session,
        action=PURGE_ACTION,
        actor_label=actor.label,
        actor_id=actor.user_id,
        details=result.audit_details(),
    )
    return result


async def purge_when_due(
    sessions: SessionFactory,
    leases: Leases,
    policy: RetentionPolicy,
    *,
    now: datetime | None = None,
) -> PurgeResult | None:
    """The daily purge of ``hubsync serve``: run when the last one (by any process, or by
    hand) is a day old; None when it was not due or another process holds the lease."""
    now = now or utcnow()
    if await leases.acquire(PURGE_LEASE) is None:
        return None
    try:
        async with session_scope(sessions) as session:
            last = await AuditRepository(session).latest_for(PURGE_ACTION, None)
            if last is not None and now - last.created_at < PURGE_EVERY:
                return None
            return await purge_expired(
                session, actor=Actor.system("scheduler"), now=now, policy=policy
            )
    finally:
        await leases.release([PURGE_LEASE])
