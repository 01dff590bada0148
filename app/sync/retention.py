"""Retention: hubsync keeps what it holds about records only as long as it is needed.

- Run items of settled records (succeeded, resolved) go after the retention period
  (``HUBSYNC_RUN_ITEM_RETENTION_DAYS``, default 30); open failures stay longer, so
  the error log can still show and retry them, but never past the maximum
  (``HUBSYNC_RUN_ITEM_MAX_RETENTION_DAYS``, default 90).
- HubSpot's webhook events, whose payloads can name a person and a changed value:
  processed and ignored ones go after ``HUBSYNC_WEBHOOK_EVENT_RETENTION_DAYS``
  (default 7); those the worker gave up on stay as long as open failures, for the
  error log and its retry; events still waiting for the worker never go.
- Run summaries (counts only) after ``HUBSYNC_RUN_RETENTION_DAYS`` (default 395,
  13 months), each interface's latest run kept; the audit log after
  ``HUBSYNC_AUDIT_RETENTION_DAYS`` (default 730, two years).

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
from app.sync.repositories import (
    AuditRepository,
    Expired,
    RetentionRepository,
    expired_audit,
    expired_events,
    expired_items,
    expired_runs,
)
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
    run_days: int = 395
    audit_days: int = 730

    def __post_init__(self) -> None:
        if not 1 <= self.item_days <= self.max_days:
            raise ValueError("retention must be at least one day and at most the maximum")
        if not 1 <= self.webhook_event_days <= self.max_days:
            raise ValueError(
                "webhook event retention must be at least one day and at most the maximum"
            )
        if self.run_days < self.max_days:
            raise ValueError("run retention must be at least the maximum run item retention")
        if self.audit_days < 1:
            raise ValueError("audit retention must be at least one day")

    @classmethod
    def from_settings(cls, settings: Settings) -> RetentionPolicy:
        """The policy the settings (``HUBSYNC_*_RETENTION_DAYS``) describe."""
        return cls(
            settings.run_item_retention_days,
            settings.run_item_max_retention_days,
            settings.webhook_event_retention_days,
            settings.run_retention_days,
            settings.audit_retention_days,
        )

    def expired(self, now: datetime) -> dict[str, list[Expired]]:
        """What is past its retention at ``now``, by the name the audit log counts it under
        (items before runs: a run's deletion takes its items along)."""

        def ago(days: int) -> datetime:
            return now - timedelta(days=days)

        return {
            "settled_items": [expired_items(ago(self.item_days), SETTLED)],
            "failed_items": [expired_items(ago(self.max_days), OPEN)],
            "webhook_events": [
                expired_events(ago(self.webhook_event_days), DONE_EVENTS),
                expired_events(ago(self.max_days), FAILED_EVENTS),
            ],
            "runs": [expired_runs(ago(self.run_days))],
            "audit_entries": [expired_audit(ago(self.audit_days))],
        }


@dataclass(frozen=True, slots=True)
class PurgeResult:
    """How many rows of each kind were (or, in a dry run, would be) deleted."""

    counts: dict[str, int]
    dry_run: bool

    def summary(self) -> str:
        """The counts in one line, for the command line."""
        return ", ".join(f"{n} {kind.replace('_', ' ')}" for kind, n in self.counts.items())


async def purge_expired(
    session: AsyncSession,
    *,
    actor: Actor,
    now: datetime,
    policy: RetentionPolicy,
    dry_run: bool = False,
) -> PurgeResult:
    """Delete what is past its retention (a system job for operators); audited."""
    actor.require(Permission.manage_tenants)
    repo = RetentionRepository(session)
    act = repo.count if dry_run else repo.delete
    counts = {
        kind: sum([await act(rows) for rows in expired])
        for kind, expired in policy.expired(now).items()
    }
    if not dry_run:
        await record_audit(
            session,
            action=PURGE_ACTION,
            actor_label=actor.label,
            actor_id=actor.user_id,
            details=counts,
        )
    return PurgeResult(counts, dry_run)


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
