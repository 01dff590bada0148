"""Interfaces: creation with validated connections and interval, listing, lookup."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.actor import Actor, Permission
from app.core.audit import record_audit
from app.core.errors import Conflict, InvalidInput, NotFound
from app.core.tenancy import TenantScope
from app.models import Interface
from app.models.enums import ConnectionKind
from app.models.interface import MAX_INTERVAL_MINUTES, MIN_INTERVAL_MINUTES
from app.sync.connections import get_connection
from app.sync.repositories import InterfaceChoice, InterfaceRepository


def check_interval(minutes: int) -> int:
    """Refuse a sync interval outside the allowed range, naming the range."""
    if not MIN_INTERVAL_MINUTES <= minutes <= MAX_INTERVAL_MINUTES:
        raise InvalidInput(
            f"interval must be between {MIN_INTERVAL_MINUTES} and {MAX_INTERVAL_MINUTES} "
            f"minutes, got {minutes}"
        )
    return minutes


async def create_interface(
    session: AsyncSession,
    *,
    actor: Actor,
    name: str,
    source_connection_id: uuid.UUID,
    hubspot_connection_id: uuid.UUID,
    interval_minutes: int = 15,
) -> Interface:
    """Create a draft interface between two connections of the same tenant."""
    actor.require(Permission.manage_connections)
    check_interval(interval_minutes)
    source = await get_connection(session, actor=actor, connection_id=source_connection_id)
    hubspot = await get_connection(session, actor=actor, connection_id=hubspot_connection_id)
    if source.tenant_id != hubspot.tenant_id:
        raise NotFound("connection not found")
    if source.kind != ConnectionKind.source or hubspot.kind != ConnectionKind.hubspot:
        raise InvalidInput("an interface joins one source connection and one HubSpot connection")
    repo = InterfaceRepository.scoped(session, TenantScope.only(source.tenant_id))
    if any(i.name == name for i in await repo.list()):
        raise Conflict(f"an interface named {name!r} exists already")
    interface = await repo.create(
        Interface(
            tenant_id=source.tenant_id,
            name=name,
            source_connection_id=source.id,
            hubspot_connection_id=hubspot.id,
            interval_minutes=interval_minutes,
        ),
        flush=True,
    )
    await record_audit(
        session,
        action="interface.create",
        actor_label=actor.label,
        actor_id=actor.user_id,
        tenant_id=interface.tenant_id,
        target_type="interface",
        target_id=interface.id,
    )
    return interface


async def list_interfaces(session: AsyncSession, *, actor: Actor) -> Sequence[Interface]:
    """The interfaces the actor may see."""
    return await InterfaceRepository.scoped(session, actor.scope).list()


async def interface_choices(session: AsyncSession, *, actor: Actor) -> Sequence[InterfaceChoice]:
    """Id, name, health and next run of the interfaces the actor may see (filter menus)."""
    return await InterfaceRepository.scoped(session, actor.scope).choices()


async def get_interface(
    session: AsyncSession, *, actor: Actor, interface_id: uuid.UUID
) -> Interface:
    """One interface in the actor's scope (``NotFound`` for another tenant's)."""
    interface = await InterfaceRepository.scoped(session, actor.scope).get_by_id(interface_id)
    if interface is None:
        raise NotFound("interface not found")
    return interface


async def find_interface(
    session: AsyncSession, *, actor: Actor, name: str, tenant: str | None = None
) -> Interface:
    """The interface called ``name`` (``tenant`` slug when several tenants use the name)."""
    named = await InterfaceRepository.scoped(session, actor.scope).with_name(name, tenant)
    if not named:
        raise NotFound(f"interface {name!r} not found")
    if len(named) > 1:
        raise InvalidInput(f"several tenants have an interface {name!r}: name the tenant")
    return named[0]
