"""Running an interface now: its approved mapping, its two connections, the run engine.

The engine (``app.sync.engine.runner``) takes plain inputs; this service turns
an interface row into them — the approved mapping version, the source
connector built from the connection's settings and decrypted secrets, the
HubSpot client — and records the outcome on the interface (last run, health).
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.actor import Actor, Permission
from app.connectors.hubspot.auth import StaticTokenProvider
from app.connectors.hubspot.client import HubSpotClient
from app.connectors.registry import connector_class
from app.core.db import SessionFactory, session_scope
from app.core.errors import InvalidInput
from app.core.metrics import METRICS
from app.core.secrets_box import SecretBox
from app.core.tenancy import bind_scope
from app.models import Connection, Interface, SyncRun
from app.models.enums import RunStatus, RunTrigger
from app.sync.connections import get_connection, open_connection_secrets
from app.sync.engine.runner import run_interface
from app.sync.engine.state import RunHooks
from app.sync.health import apply_run_health
from app.sync.hubspot_oauth.config import OAuthConfig
from app.sync.hubspot_oauth.grant import OAuthGrant, oauth_grant
from app.sync.interfaces import get_interface
from app.sync.mapping.model import MappingTable
from app.sync.privacy.suppressions import KEY_PURPOSE as SUPPRESSION_KEY_PURPOSE
from app.sync.versions import runnable_version, version_table


@dataclass(frozen=True, slots=True)
class RunPlan:
    """Everything a run needs, read from the database before any system is called."""

    tenant_id: uuid.UUID
    interface_id: uuid.UUID
    version_id: uuid.UUID
    table: MappingTable
    connector: str
    source_settings: dict[str, Any]
    hubspot: HubSpotAccess


@dataclass(frozen=True, slots=True)
class HubSpotAccess:
    """Where an interface's portal is and the token to call it with."""

    base_url: str
    token: str = field(repr=False)
    oauth: OAuthGrant | None = None  # OAuth connections: tokens refresh and are stored

    def client(self) -> HubSpotClient:
        """A HubSpot client for this portal (use it as an async context manager)."""
        if self.oauth is not None:
            return self.oauth.client(self.base_url, on_response=METRICS.hubspot_call)
        return HubSpotClient(
            StaticTokenProvider(self.token), base_url=self.base_url,
            on_response=METRICS.hubspot_call,
        )  # fmt: skip


async def hubspot_access(
    session: AsyncSession,
    *,
    actor: Actor,
    box: SecretBox,
    interface: Interface,
    oauth_app: OAuthConfig | None = None,
) -> HubSpotAccess:
    """The interface's HubSpot connection, its access token decrypted (never for display).

    ``oauth_app`` is the settings' HubSpot app: an OAuth connection of that app
    refreshes its tokens with the app's current secret (see ``oauth_grant``).
    """
    portal = await get_connection(
        session, actor=actor, connection_id=interface.hubspot_connection_id
    )
    return portal_access(session, portal, box, oauth_app=oauth_app)


def portal_access(
    session: AsyncSession,
    portal: Connection,
    box: SecretBox,
    *,
    oauth_app: OAuthConfig | None = None,
) -> HubSpotAccess:
    """A HubSpot connection's access, its token decrypted; the caller scoped ``portal``."""
    secrets = open_connection_secrets(portal, box)
    token = secrets.get("access_token")
    if not token:
        raise InvalidInput(f"the HubSpot connection {portal.name!r} has no access token")
    base_url = str(portal.config.get("base_url", "https://api.hubapi.com"))
    oauth = oauth_grant(session, portal, secrets, box, settings_app=oauth_app)
    return HubSpotAccess(base_url=base_url, token=str(token), oauth=oauth)


async def run_now(
    sessions: SessionFactory,
    *,
    actor: Actor,
    box: SecretBox,
    interface_id: uuid.UUID,
    trigger: RunTrigger = RunTrigger.manual,
    dry_run: bool = False,
    hooks: RunHooks | None = None,
    public_url: str,
    oauth_app: OAuthConfig | None = None,
) -> SyncRun:
    """Run one interface in the foreground and record its health; returns the run.

    Exclusive runs (one per interface, one writer per portal) are the
    executor's job (``app.sync.scheduling.executor``), which calls this.
    ``public_url`` is where hubsync is reached, for the run link in notifications;
    ``oauth_app`` the settings' HubSpot app (``OAuthConfig.from_settings``), whose
    secret refreshes the tokens of the connections it connected.
    """
    plan = await _plan(
        sessions, actor=actor, box=box, interface_id=interface_id, oauth_app=oauth_app
    )
    source = await asyncio.to_thread(  # first use imports connectors and drivers: not on the loop
        lambda: connector_class(plan.connector).from_settings(plan.source_settings)
    )
    async with source, plan.hubspot.client() as hubspot:
        run = await run_interface(
            table=plan.table, connector=source, hubspot=hubspot, sessions=sessions,
            tenant_id=plan.tenant_id, interface_id=plan.interface_id, trigger=trigger,
            dry_run=dry_run, mapping_version_id=plan.version_id, triggered_by_id=actor.user_id,
            hooks=hooks, suppression_keys=box.purpose_keys(SUPPRESSION_KEY_PURPOSE),
        )  # fmt: skip
    if not dry_run and run.status is not RunStatus.aborted:  # a stop at shutdown is no verdict
        await _record_health(
            sessions, actor=actor, interface_id=interface_id, run=run, public_url=public_url
        )
    return run


async def _plan(
    sessions: SessionFactory,
    *,
    actor: Actor,
    box: SecretBox,
    interface_id: uuid.UUID,
    oauth_app: OAuthConfig | None,
) -> RunPlan:
    async with session_scope(sessions) as session:
        bind_scope(session, actor.scope)
        interface = await get_interface(session, actor=actor, interface_id=interface_id)
        actor.require(Permission.operate_interfaces)
        version = await runnable_version(session, interface)
        source = await get_connection(
            session, actor=actor, connection_id=interface.source_connection_id
        )
        hubspot = await hubspot_access(
            session, actor=actor, box=box, interface=interface, oauth_app=oauth_app
        )
        return RunPlan(
            tenant_id=interface.tenant_id, interface_id=interface.id, version_id=version.id,
            table=version_table(version), connector=source.connector,
            source_settings={**source.config, **open_connection_secrets(source, box)},
            hubspot=hubspot,
        )  # fmt: skip


async def _record_health(
    sessions: SessionFactory,
    *,
    actor: Actor,
    interface_id: uuid.UUID,
    run: SyncRun,
    public_url: str,
) -> None:
    async with session_scope(sessions) as session:
        bind_scope(session, actor.scope)
        interface = await get_interface(session, actor=actor, interface_id=interface_id)
        await apply_run_health(session, interface, run, public_url=public_url)
