"""Where a deleted HubSpot contact may live on hubsync's side: the portal's interfaces.

Every interface whose HubSpot connection points at the event's portal and
whose approved mapping maps contacts is a place the person may be; each such
object mapping is one *target*, with the step its ``on_privacy_deletion``
policy prescribes in the source (``plan_deletion``). An interface without an
approved mapping never ran, so it holds nobody and is passed over.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.tenancy import TenantScope
from app.models import Connection
from app.sync.engine.deletion import DeletionEvent, DeletionPlan, plan_deletion
from app.sync.mapping.model import CONTACT_OBJECTS, ObjectMapping
from app.sync.privacy.repository import PortalRepository
from app.sync.repositories import ConnectionRepository, InterfaceRepository
from app.sync.versions import NoApprovedVersion, runnable_version, version_table

PRIVACY_EVENT = "contact.privacyDeletion"
EVENT_PREFIX = "contact."  # the webhook types about contacts, whose payloads get purged
HUBSPOT_OBJECT = "contacts"


@dataclass(frozen=True, slots=True)
class Target:
    """One object mapping of one interface that maps contacts, and its policy's step."""

    interface_id: uuid.UUID
    interface: str
    mapping: ObjectMapping
    plan: DeletionPlan

    @property
    def key(self) -> str:
        """This target's key in a request's outcomes."""
        return f"{self.interface_id}:{self.mapping.name}"


@dataclass(frozen=True, slots=True)
class InterfaceTargets:
    """An interface on the portal, its source connection and its contact targets."""

    interface_id: uuid.UUID
    name: str
    source: Connection
    targets: tuple[Target, ...]


async def tenants_of_portal(session: AsyncSession, portal_id: int) -> list[uuid.UUID]:
    """The tenants with a HubSpot connection to ``portal_id`` (session in the system scope)."""
    connections = await PortalRepository(session, TenantScope.all_tenants()).hubspot_connections(
        portal_id
    )
    return sorted({c.tenant_id for c in connections})


async def targets_on_portal(
    session: AsyncSession, *, tenant_id: uuid.UUID, portal_id: int
) -> list[InterfaceTargets]:
    """The tenant's interfaces on ``portal_id`` that map contacts, by name."""
    scope = TenantScope.only(tenant_id)
    portals = await PortalRepository(session, scope).hubspot_connections(portal_id)
    connection_ids = {c.id for c in portals}
    found: list[InterfaceTargets] = []
    for interface in await InterfaceRepository.scoped(session, scope).list():
        if interface.hubspot_connection_id not in connection_ids:
            continue
        try:
            table = version_table(await runnable_version(session, interface))
        except NoApprovedVersion:
            continue
        targets = tuple(
            Target(
                interface.id, interface.name, m, plan_deletion(m, DeletionEvent.privacy_deletion)
            )
            for m in table.objects
            if m.hubspot.object in CONTACT_OBJECTS
        )
        source = await ConnectionRepository.scoped(session, scope).get_by_id(
            interface.source_connection_id
        )
        if targets and source is not None:
            found.append(InterfaceTargets(interface.id, interface.name, source, targets))
    return found
