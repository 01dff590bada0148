"""Entry points of the privacy deletion flow: a ``contact.privacyDeletion`` event, and retries.

The webhook worker calls ``handle_privacy_deletion`` for each such event it
received; the scheduler calls ``retry_due_deletions`` on every tick, which also
retries the GDPR deletes hubsync asked HubSpot for (``erasure_retry``). A portal
connected by several tenants gets one request per tenant, each with its own
outcomes. Both entry points are idempotent: a request already completed is
left alone, and one that failed part-way resumes where it stopped (settled
systems are not asked again).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.db import SessionFactory
from app.core.errors import NotFound
from app.core.logging import get_logger
from app.core.secrets_box import SecretBox
from app.core.tenancy import TenantScope
from app.models import DeletionRequest, WebhookEvent
from app.models.base import utcnow
from app.models.enums import DeletionState
from app.sync.hubspot_oauth.config import OAuthConfig
from app.sync.privacy.attempt import PrivacyDeletionIncomplete, attempt_request, scoped_session
from app.sync.privacy.erasure_retry import retry_erasure
from app.sync.privacy.outcomes import GDPR_POLICY, combined_policy
from app.sync.privacy.repository import DeletionRequestRepository, PurgeRepository
from app.sync.privacy.targets import (
    EVENT_PREFIX,
    HUBSPOT_OBJECT,
    PRIVACY_EVENT,
    targets_on_portal,
    tenants_of_portal,
)

SYSTEM = TenantScope.all_tenants()
log = get_logger("hubsync.privacy")


@dataclass(frozen=True, slots=True)
class _Event:
    """What a privacy deletion needs of its webhook event: ids and a time, nothing else."""

    id: uuid.UUID
    portal_id: int
    object_id: str
    requested_at: datetime


async def handle_privacy_deletion(
    sessions: SessionFactory,
    event_id: uuid.UUID,
    *,
    box: SecretBox,
    public_url: str | None = None,
    now: datetime | None = None,
) -> None:
    """Carry out the privacy deletion a stored ``contact.privacyDeletion`` event asks for.

    Returns only once every tenant's request for the event is completed; otherwise raises
    ``PrivacyDeletionIncomplete`` (ids and counts only), and the requests keep their retry
    schedule. ``public_url`` links messages about a stuck deletion to the deletion log.

    Raises:
        NotFound: no webhook event has ``event_id``.
        ValueError: the event is not a contact privacy deletion, or names no object.
        PrivacyDeletionIncomplete: some system has not confirmed yet.
    """
    now = now or utcnow()
    event = await _load_event(sessions, event_id)
    requests = await _open_requests(sessions, event, now)
    if not requests:
        await _purge_unclaimed_events(sessions, event)
        log.info("privacy deletion for a portal no tenant connects", portal_id=event.portal_id)
        return
    for request_id, attempts, state in requests:
        if state is not DeletionState.completed:
            await attempt_request(sessions, request_id, seen=attempts, box=box, now=now,
                                  public_url=public_url)  # fmt: skip
    open_ = await _unfinished(sessions, [request_id for request_id, _, _ in requests])
    if open_:
        raise PrivacyDeletionIncomplete(
            f"{open_} of {len(requests)} deletion requests of webhook event {event_id} "
            "are not completed yet; retries are scheduled"
        )


async def retry_due_deletions(
    sessions: SessionFactory,
    *,
    box: SecretBox,
    now: datetime | None = None,
    public_url: str | None = None,
    oauth_app: OAuthConfig | None = None,
) -> int:
    """Attempt every unfinished request whose retry is due (all tenants); returns how many
    completed. A system job: call it periodically, from any number of processes.
    ``oauth_app`` (the settings' HubSpot app) refreshes the tokens of GDPR delete retries."""
    now = now or utcnow()
    async with scoped_session(sessions, SYSTEM) as session:
        due = await DeletionRequestRepository.scoped(session, SYSTEM).due(now)
    completed = 0
    for request_id, attempts, policy in due:
        attempt = (
            partial(retry_erasure, oauth_app=oauth_app) if policy == GDPR_POLICY
            else attempt_request
        )  # fmt: skip
        try:
            state = await attempt(sessions, request_id, seen=attempts, box=box, now=now,
                                  public_url=public_url)  # fmt: skip
        except PrivacyDeletionIncomplete:
            state = DeletionState.failed  # recorded on the request; the next one goes on
        completed += state is DeletionState.completed
        log.info("privacy deletion retried", deletion_request_id=str(request_id),
                 state=state.value if state else "claimed elsewhere")  # fmt: skip
    return completed


async def _load_event(sessions: SessionFactory, event_id: uuid.UUID) -> _Event:
    async with scoped_session(sessions, SYSTEM) as session:
        event = await session.get(WebhookEvent, event_id)
        if event is None:
            raise NotFound("webhook event not found")
        if event.subscription_type != PRIVACY_EVENT or not event.object_id:
            raise ValueError(f"event {event_id} is not a {PRIVACY_EVENT} of one object")
        requested_at = event.occurred_at or event.received_at
        return _Event(event.id, event.portal_id, event.object_id, requested_at)


async def _open_requests(
    sessions: SessionFactory, event: _Event, now: datetime
) -> list[tuple[uuid.UUID, int, DeletionState]]:
    """(id, attempts, state) of the event's request per tenant, creating the missing ones."""
    async with scoped_session(sessions, SYSTEM) as session:
        repo = DeletionRequestRepository.scoped(session, SYSTEM)
        requests = {r.tenant_id: r for r in await repo.for_event(event.id)}
        for tenant_id in await tenants_of_portal(session, event.portal_id):
            if tenant_id not in requests:
                requests[tenant_id] = await repo.create(
                    await _new_request(session, event, tenant_id, now), flush=True
                )
        return [(r.id, r.attempts, r.state) for r in requests.values()]


async def _new_request(
    session: AsyncSession, event: _Event, tenant_id: uuid.UUID, now: datetime
) -> DeletionRequest:
    units = await targets_on_portal(session, tenant_id=tenant_id, portal_id=event.portal_id)
    return DeletionRequest(
        tenant_id=tenant_id, portal_id=event.portal_id, hubspot_object_type=HUBSPOT_OBJECT,
        hubspot_object_id=event.object_id, webhook_event_id=event.id,
        policy=combined_policy(t for unit in units for t in unit.targets),
        state=DeletionState.pending, outcomes={}, requested_at=event.requested_at,
        attempts=0, next_attempt_at=now,
    )  # fmt: skip


async def _purge_unclaimed_events(sessions: SessionFactory, event: _Event) -> None:
    """No tenant holds the portal: nothing to delete, but the events' payloads still go."""
    async with scoped_session(sessions, SYSTEM) as session:
        await PurgeRepository(session, SYSTEM).blank_events(
            event.portal_id, event.object_id, EVENT_PREFIX
        )


async def _unfinished(sessions: SessionFactory, request_ids: Sequence[uuid.UUID]) -> int:
    async with scoped_session(sessions, SYSTEM) as session:
        repo = DeletionRequestRepository.scoped(session, SYSTEM)
        rows = [await repo.get_by_id(request_id) for request_id in request_ids]
    return sum(1 for r in rows if r is not None and r.state is not DeletionState.completed)
