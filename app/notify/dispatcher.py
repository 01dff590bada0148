"""Sending queued notifications, with retries, from any number of processes at once.

Each due delivery is first *claimed*: one conditional UPDATE counts the attempt
and schedules the next one, but only if the row is still pending with the
number of attempts this process saw. Of two processes that saw the same row,
exactly one claims it, so a message is never sent twice; a process that dies
while sending leaves the row scheduled for its retry. The network call happens
outside any transaction; its outcome is written in a second short one.

Retries back off exponentially (30 s, 1 min, 2 min, 4 min, 8 min); after
``MAX_ATTEMPTS`` the delivery is ``failed`` with its ``last_error``. A missing
SMTP host fails e-mail deliveries at once: waiting does not configure it.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager, nullcontext
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.db import SessionFactory, session_scope
from app.core.logging import get_logger
from app.core.metrics import METRICS
from app.core.settings import Settings
from app.core.tenancy import TenantScope, bind_scope
from app.models import Interface, NotificationDelivery, SyncRun
from app.models.base import utcnow
from app.models.enums import NotificationKind
from app.notify.email import send_email
from app.notify.errors import NotifyError
from app.notify.messages import Notice, run_url
from app.notify.repository import DeliveryRepository
from app.notify.webhook import post_webhook
from app.sync.health import health_after

MAX_ATTEMPTS = 6
FIRST_RETRY_DELAY = timedelta(seconds=30)

log = get_logger("hubsync.notify")


@dataclass(frozen=True, slots=True)
class _Claimed:
    """A delivery this process has claimed for one attempt, with everything to send it."""

    delivery_id: uuid.UUID
    attempt: int
    kind: NotificationKind
    address: str
    notice: Notice


def retry_delay(attempt: int) -> timedelta:
    """How long to wait after failed attempt number ``attempt`` (1-based): 30 s, doubling."""
    return FIRST_RETRY_DELAY * (1 << (attempt - 1))


async def deliver_due(
    sessions: SessionFactory,
    settings: Settings,
    *,
    now: datetime | None = None,
    http: httpx.AsyncClient | None = None,
) -> int:
    """Send every pending delivery due at ``now`` (all tenants); returns how many were sent.

    A system job: call it periodically (the scheduler) from any number of processes.
    ``http`` shares a caller's client for webhooks; by default one is made per call.
    """
    now = now or utcnow()
    async with _system_session(sessions) as session:
        due = await DeliveryRepository.from_session(session).due(now, below_attempts=MAX_ATTEMPTS)
    sent = 0
    client: AbstractAsyncContextManager[httpx.AsyncClient] = (
        nullcontext(http) if http is not None else httpx.AsyncClient()
    )
    async with client as http_client:
        for delivery_id, seen in due:
            claimed = await _claim(sessions, settings, delivery_id, seen=seen, now=now)
            if claimed is not None:
                sent += await _attempt(sessions, settings, http_client, claimed)
    return sent


async def send_notice(
    settings: Settings,
    http: httpx.AsyncClient,
    *,
    kind: NotificationKind,
    address: str,
    notice: Notice,
) -> None:
    """Send ``notice`` to ``address`` by the transport of ``kind``; raises ``NotifyError``."""
    if kind is NotificationKind.email:
        await send_email(settings, to=address, notice=notice)
    else:
        await post_webhook(http, address, notice)


async def _claim(
    sessions: SessionFactory,
    settings: Settings,
    delivery_id: uuid.UUID,
    *,
    seen: int,
    now: datetime,
) -> _Claimed | None:
    attempt = seen + 1
    async with _system_session(sessions) as session:
        repo = DeliveryRepository.from_session(session)
        if not await repo.claim(delivery_id, seen=seen, retry_at=now + retry_delay(attempt)):
            return None  # another process claimed it first
        delivery, target, interface, run = await repo.with_context(delivery_id)
        return _Claimed(
            delivery_id=delivery_id, attempt=attempt, kind=target.kind, address=target.address,
            notice=_notice(delivery, interface, run, public_url=settings.public_url),
        )  # fmt: skip


async def _attempt(
    sessions: SessionFactory,
    settings: Settings,
    http: httpx.AsyncClient,
    claimed: _Claimed,
) -> int:
    error: NotifyError | None = None
    try:
        await send_notice(
            settings, http, kind=claimed.kind, address=claimed.address, notice=claimed.notice
        )
    except NotifyError as exc:
        error = exc
    METRICS.notification_sent(claimed.kind, error is None)
    async with _system_session(sessions) as session:
        repo = DeliveryRepository.from_session(session)
        if error is None:
            await repo.mark_sent(claimed.delivery_id, attempt=claimed.attempt, at=utcnow())
            return 1
        give_up = error.permanent or claimed.attempt >= MAX_ATTEMPTS
        await repo.mark_failed(
            claimed.delivery_id, attempt=claimed.attempt, error=error.message, give_up=give_up
        )
    log.warning(  # no address: e-mail addresses are personal, webhook URLs secret
        "notification not delivered",
        delivery_id=str(claimed.delivery_id), kind=claimed.kind.value,
        attempt=claimed.attempt, gave_up=give_up, error_type=type(error).__name__,
    )  # fmt: skip
    return 0


def _notice(
    delivery: NotificationDelivery, interface: Interface, run: SyncRun | None, *, public_url: str
) -> Notice:
    return Notice(
        subject=delivery.subject,
        body=delivery.body,
        change=delivery.change.value,
        interface_id=interface.id,
        interface=interface.name,
        health=delivery.health_to,
        reason=health_after(run)[1] if run is not None else interface.health_reason,
        run_url=run_url(public_url, run.id) if run is not None else None,
    )


@asynccontextmanager
async def _system_session(sessions: SessionFactory) -> AsyncIterator[AsyncSession]:
    """One unit of work in the all-tenants scope: deliveries are a system job."""
    async with session_scope(sessions) as session:
        bind_scope(session, TenantScope.all_tenants())
        yield session
