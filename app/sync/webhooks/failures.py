"""Webhook events hubsync gave up on, for the error log, and putting them back in the queue.

An event fails for good after the worker's last attempt (``app.sync.webhooks.worker``).
The error log shows each distinct error once per event type, with how many events
it stopped and when the last of them arrived; the messages are hubsync's own and
carry no personal data. Events of a portal no tenant has connected belong to no
tenant: only operators see them. A retry puts the events back in the worker's
queue, due now, with a fresh count of attempts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.actor import Actor, Permission
from app.core.audit import record_audit
from app.models import WebhookEvent
from app.models.base import utcnow
from app.models.enums import WebhookState

SHOWN = 10  # distinct errors listed; the rest are counted


@dataclass(frozen=True, slots=True)
class FailedEvents:
    """Events of one type that failed with the same error."""

    subscription_type: str
    error: str
    count: int
    last_received: datetime


def _visible(statement: Any, actor: Actor) -> Any:
    """``statement`` limited to the events the actor may see."""
    tenant_id = actor.scope.tenant_id
    failed = statement.where(WebhookEvent.state == WebhookState.failed)
    return failed if tenant_id is None else failed.where(WebhookEvent.tenant_id == tenant_id)


async def failed_events(
    session: AsyncSession, *, actor: Actor, limit: int = SHOWN
) -> list[FailedEvents]:
    """The failed events the actor may see, one line per type and error, newest first."""
    last = func.max(WebhookEvent.received_at)
    statement = _visible(
        select(WebhookEvent.subscription_type, WebhookEvent.last_error, func.count(), last),
        actor,
    )
    grouped = statement.group_by(WebhookEvent.subscription_type, WebhookEvent.last_error)
    rows = await session.execute(grouped.order_by(last.desc()).limit(limit))
    return [FailedEvents(kind, error or "", count, at) for kind, error, count, at in rows.all()]


async def retry_failed_events(
    session: AsyncSession, *, actor: Actor, subscription_type: str, error: str
) -> int:
    """Queue the failed events of one type and error again, due now; how many."""
    actor.require(Permission.operate_interfaces)
    statement = _visible(update(WebhookEvent), actor).where(
        WebhookEvent.subscription_type == subscription_type,
        WebhookEvent.last_error == error if error else WebhookEvent.last_error.is_(None),
    )
    requeue = statement.values(
        state=WebhookState.received, attempts=0, next_attempt_at=utcnow(), last_error=None
    )
    result = await session.execute(requeue.execution_options(synchronize_session=False))
    count = int(getattr(result, "rowcount", 0) or 0)
    await record_audit(
        session, action="webhooks.retried", actor_label=actor.label, actor_id=actor.user_id,
        tenant_id=actor.scope.tenant_id, target_type="webhook_events",
        details={"subscription_type": subscription_type, "events": count},
    )  # fmt: skip
    return count
