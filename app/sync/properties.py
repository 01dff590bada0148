"""Creating the HubSpot properties a stored mapping version needs, in its interface's portal.

The planning and creating is ``app.sync.mapping.hubspot_properties``; this
service finds the version (another tenant's is ``NotFound``), checks the
caller may change connected systems, and opens the interface's HubSpot
connection as a run does.
"""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.actor import Actor, Permission
from app.connectors.hubspot.errors import HubSpotError
from app.core.audit import record_audit
from app.core.errors import HubsyncError
from app.core.secrets_box import SecretBox
from app.sync.hubspot_oauth.config import OAuthConfig
from app.sync.interfaces import get_interface
from app.sync.mapping.hubspot_properties import PlannedProperty, create_missing_properties
from app.sync.running import hubspot_access
from app.sync.versions import get_version, version_table


class HubSpotFailed(HubsyncError):
    """HubSpot refused or failed a call (its message is passed on)."""

    status_code = 502


async def create_version_properties(
    session: AsyncSession,
    *,
    actor: Actor,
    box: SecretBox,
    version_id: uuid.UUID,
    dry_run: bool = False,
    oauth_app: OAuthConfig | None = None,
) -> list[PlannedProperty]:
    """Create the custom properties ``version``'s table needs and its portal lacks (operators).

    ``oauth_app`` is the settings' HubSpot app, whose secret refreshes OAuth tokens."""
    version = await get_version(session, actor=actor, version_id=version_id)
    actor.require(Permission.manage_connections)
    interface = await get_interface(session, actor=actor, interface_id=version.interface_id)
    access = await hubspot_access(
        session, actor=actor, box=box, interface=interface, oauth_app=oauth_app
    )
    try:
        async with access.client() as client:
            planned = await create_missing_properties(
                version_table(version), client.properties, dry_run=dry_run
            )
    except HubSpotError as exc:
        raise HubSpotFailed(f"HubSpot: {exc}") from None
    if planned and not dry_run:
        await record_audit(
            session, action="hubspot.properties.create", actor_label=actor.label,
            actor_id=actor.user_id, tenant_id=version.tenant_id, target_type="mapping_version",
            target_id=version.id, details={"properties": [p.describe() for p in planned]},
        )  # fmt: skip
    return planned
