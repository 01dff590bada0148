"""Retention of run items: payloads and errors are kept only as long as they are needed.

Items of settled records (succeeded, resolved) go after the retention period
(``HUBSYNC_RUN_ITEM_RETENTION_DAYS``, default 30); open failures stay longer,
so the error log can still show and retry them, but never past the maximum
(``HUBSYNC_RUN_ITEM_MAX_RETENTION_DAYS``, default 90). Run summaries (counts)
are kept. Every purge is audited with its counts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.actor import Actor, Permission
from app.core.audit import record_audit
from app.models.enums import ItemStatus
from app.sync.repositories import RetentionRepository

SETTLED = (ItemStatus.succeeded, ItemStatus.resolved)
OPEN = (ItemStatus.failed,)


@dataclass(frozen=True, slots=True)
class PurgeResult:
    """How many items were (or, in a dry run, would be) deleted."""

    settled: int
    failed: int
    dry_run: bool


async def purge_run_items(
    session: AsyncSession,
    *,
    actor: Actor,
    now: datetime,
    retention_days: int,
    max_retention_days: int,
    dry_run: bool = False,
) -> PurgeResult:
    """Delete run items past their retention (a system job for operators)."""
    actor.require(Permission.manage_tenants)
    if not 1 <= retention_days <= max_retention_days:
        raise ValueError("retention must be at least one day and at most the maximum")
    repo = RetentionRepository(session)
    settled_before = now - timedelta(days=retention_days)
    failed_before = now - timedelta(days=max_retention_days)
    if dry_run:
        return PurgeResult(
            await repo.count_items(before=settled_before, statuses=SETTLED),
            await repo.count_items(before=failed_before, statuses=OPEN),
            dry_run=True,
        )
    result = PurgeResult(
        await repo.delete_items(before=settled_before, statuses=SETTLED),
        await repo.delete_items(before=failed_before, statuses=OPEN),
        dry_run=False,
    )
    await record_audit(
        session,
        action="retention.purge",
        actor_label=actor.label,
        actor_id=actor.user_id,
        details={"settled_items": result.settled, "failed_items": result.failed},
    )
    return result
