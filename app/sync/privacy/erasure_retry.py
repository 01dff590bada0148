"""Another attempt at a GDPR delete in HubSpot that HubSpot did not confirm (``erasure``).

Claimed like every attempt (one conditional UPDATE counts it and schedules the
next), then HubSpot is asked again with the HubSpot connection of the
interface that asked first. The portal's webhook events about the contact are
emptied once more: one may have arrived since. hubsync's other rows about the
pair went with the first attempt.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from app.auth.actor import Actor
from app.core.db import SessionFactory
from app.core.secrets_box import SecretBox
from app.core.tenancy import TenantScope
from app.models import DeletionRequest
from app.models.enums import DeletionState
from app.sync.hubspot_oauth.config import OAuthConfig
from app.sync.interfaces import get_interface
from app.sync.privacy.attempt import scoped_session
from app.sync.privacy.erasure import conclude, gdpr_delete, request_interface
from app.sync.privacy.outcomes import HUBSPOT, SystemState, error_text, hubspot_outcome, retry_delay
from app.sync.privacy.repository import DeletionRequestRepository, PurgeRepository
from app.sync.privacy.settle import AUDIT_ACTOR, settle_attempt
from app.sync.privacy.targets import EVENT_PREFIX
from app.sync.running import hubspot_access

SYSTEM = TenantScope.all_tenants()
ACTOR = Actor.system(AUDIT_ACTOR)


async def retry_erasure(
    sessions: SessionFactory,
    request_id: uuid.UUID,
    *,
    seen: int,
    box: SecretBox,
    now: datetime,
    public_url: str | None = None,
    oauth_app: OAuthConfig | None = None,
) -> DeletionState | None:
    """Claim attempt ``seen + 1`` of a GDPR delete request and ask HubSpot again; the
    request's state after it, or None when another process claimed it first. ``oauth_app``
    is the settings' HubSpot app, whose secret refreshes an OAuth connection's tokens."""
    async with scoped_session(sessions, SYSTEM) as session:
        repo = DeletionRequestRepository.scoped(session, SYSTEM)
        if not await repo.claim(request_id, seen=seen, retry_at=now + retry_delay(seen + 1)):
            return None
        request = await repo.get_by_id(request_id)
    if request is None:
        return None
    target = request.outcomes[HUBSPOT]
    state, reason = await _ask_hubspot(sessions, box, request, target, oauth_app)
    hubspot = hubspot_outcome(target, state, at=now, reason=reason)
    async with scoped_session(sessions, SYSTEM) as session:
        events = await PurgeRepository(session, SYSTEM).blank_events(
            request.portal_id, request.hubspot_object_id, EVENT_PREFIX
        )
        counts = {"record_links": 0, "run_items": 0, "webhook_events": events}
        conclusion = conclude(request, hubspot=hubspot, purged=counts, now=now)
        return await settle_attempt(session, conclusion, public_url=public_url)


async def _ask_hubspot(
    sessions: SessionFactory,
    box: SecretBox,
    request: DeletionRequest,
    target: dict[str, Any],
    oauth_app: OAuthConfig | None,
) -> tuple[SystemState, str | None]:
    """HubSpot's GDPR delete through the asking interface's connection; a failure to get
    there (the interface or its token gone) is a failure like HubSpot's refusal."""
    try:
        async with scoped_session(sessions, TenantScope.only(request.tenant_id)) as session:
            interface = await get_interface(
                session, actor=ACTOR, interface_id=request_interface(target)
            )
            access = await hubspot_access(
                session, actor=ACTOR, box=box, interface=interface, oauth_app=oauth_app
            )
        async with access.client() as client:
            return await gdpr_delete(client, request.hubspot_object_id)
    except Exception as exc:  # noqa: BLE001 - recorded without its text (it may quote a record)
        return SystemState.failed, error_text(exc)
