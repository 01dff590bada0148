"""Telling people that a privacy deletion is stuck, through the notification machinery.

When a request first fails (not on every retry), each active target that
listens to failures of an affected interface gets one queued delivery, sent
by ``app.notify.dispatcher.deliver_due`` like every health message. The
interface's health is not changed: a stuck deletion is not a failed run, so
the delivery carries the interface's current health on both sides. The text
names ids only: the request, the portal and the HubSpot record id, never a
value of the person.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.tenancy import TenantScope
from app.models import DeletionRequest, Interface, NotificationDelivery
from app.models.base import utcnow
from app.models.enums import DeliveryStatus, HealthChange
from app.notify.messages import SUBJECT_MAX_CHARS, Message, one_line
from app.notify.repository import DeliveryRepository, NotificationTargetRepository
from app.sync.repositories import InterfaceRepository, TenantsRepository


async def queue_failure_notices(
    session: AsyncSession,
    request: DeletionRequest,
    *,
    interface_ids: Collection[uuid.UUID],
    reason: str,
    public_url: str | None,
) -> int:
    """Queue one message per listening target of each interface; returns how many."""
    scope = TenantScope.only(request.tenant_id)
    tenant = await TenantsRepository.from_session(session).get_by_id(request.tenant_id)
    tenant_name = tenant.name if tenant else str(request.tenant_id)
    deliveries = DeliveryRepository.from_session(session)
    queued = 0
    for interface_id in interface_ids:
        interface = await InterfaceRepository.scoped(session, scope).get_by_id(interface_id)
        if interface is None:
            continue
        listening = await NotificationTargetRepository.scoped(session, scope).listening(
            interface_id, HealthChange.failed
        )
        message = failure_message(request, interface, tenant_name, reason, public_url)
        for target in listening:
            await deliveries.create(NotificationDelivery(
                tenant_id=request.tenant_id, target_id=target.id, interface_id=interface.id,
                change=HealthChange.failed, health_from=interface.health,
                health_to=interface.health, subject=message.subject, body=message.body,
                status=DeliveryStatus.pending, attempts=0, next_attempt_at=utcnow(),
            ))  # fmt: skip
            queued += 1
    await session.flush()
    return queued


def failure_message(
    request: DeletionRequest,
    interface: Interface,
    tenant_name: str,
    reason: str,
    public_url: str | None,
) -> Message:
    """The German subject and body for a stuck deletion (ids only)."""
    subject = (
        f"[hubsync] {interface.name} ({tenant_name}): Datenschutz-Löschung nicht abgeschlossen"
    )
    lines = [
        "Eine Datenschutz-Löschung aus HubSpot ist im Quellsystem noch nicht ausgeführt.",
        "",
        f"Schnittstelle: {interface.name}",
        f"Kunde: {tenant_name}",
        f"HubSpot-Portal: {request.portal_id}",
        f"HubSpot-Datensatz: {request.hubspot_object_type} {request.hubspot_object_id}",
        f"Löschauftrag: {request.id}",
        f"Grund: {reason}",
        "",
        "hubsync versucht es automatisch erneut "
        f"(nächster Versuch: {_when(request.next_attempt_at)}).",
    ]
    if public_url:
        lines.append(f"Löschprotokoll: {public_url.rstrip('/')}/ui/deletions")
    return Message(subject=one_line(subject)[:SUBJECT_MAX_CHARS], body="\n".join(lines))


def _when(moment: datetime | None) -> str:
    return moment.strftime("%d.%m.%Y %H:%M UTC") if moment else "–"
