"""Notification targets: who is told about health changes, managed through the API.

A target belongs to one tenant and listens to one interface or to all of the
tenant's interfaces, for some changes or (an empty list) all of them. Audit
entries name the kind, never the address: e-mail addresses are personal data
and webhook URLs are credentials.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.actor import Actor, Permission
from app.core.audit import record_audit
from app.core.errors import Conflict, InvalidInput, NotFound
from app.core.settings import Settings
from app.core.tenancy import TenantScope
from app.models import NotificationTarget
from app.models.enums import HealthChange, NotificationKind, Role
from app.notify.addresses import check_address
from app.notify.dispatcher import send_notice
from app.notify.errors import NotifyError
from app.notify.messages import trial_notice
from app.notify.repository import NotificationTargetRepository
from app.sync.interfaces import get_interface
from app.sync.tenants import get_tenant


async def list_targets(session: AsyncSession, *, actor: Actor) -> Sequence[NotificationTarget]:
    """The targets the actor may see (operators: every tenant's)."""
    actor.require(Permission.read)
    return await NotificationTargetRepository.scoped(session, actor.scope).list()


async def get_target(
    session: AsyncSession, *, actor: Actor, target_id: uuid.UUID
) -> NotificationTarget:
    """One target in the actor's scope (``NotFound`` for another tenant's)."""
    target = await NotificationTargetRepository.scoped(session, actor.scope).get_by_id(target_id)
    if target is None:
        raise NotFound("notification target not found")
    return target


async def create_target(
    session: AsyncSession,
    *,
    actor: Actor,
    settings: Settings,
    kind: NotificationKind,
    address: str,
    tenant_id: uuid.UUID | None = None,
    interface_id: uuid.UUID | None = None,
    changes: Sequence[HealthChange] = (),
) -> NotificationTarget:
    """Add a recipient; admins add to their own tenant, operators name the tenant or interface."""
    actor.require(Permission.operate_interfaces)
    owner = await _owning_tenant(
        session, actor=actor, tenant_id=tenant_id, interface_id=interface_id
    )
    address = check_address(kind, address, settings=settings)
    repo = NotificationTargetRepository.scoped(session, TenantScope.only(owner))
    if any((t.kind, t.address, t.interface_id) == (kind, address, interface_id)
           for t in await repo.list()):  # fmt: skip
        raise Conflict("this address is a notification target already")
    target = await repo.create(
        NotificationTarget(tenant_id=owner, interface_id=interface_id, kind=kind, address=address,
                           changes=list(dict.fromkeys(c.value for c in changes)), active=True),
        flush=True,
    )  # fmt: skip
    await _audit(session, actor, "notification_target.create", target)
    return target


async def delete_target(session: AsyncSession, *, actor: Actor, target_id: uuid.UUID) -> None:
    """Remove a recipient and the messages still queued for it."""
    target = await get_target(session, actor=actor, target_id=target_id)
    actor.require(Permission.operate_interfaces)
    await NotificationTargetRepository.scoped(session, actor.scope).remove(target)
    await _audit(session, actor, "notification_target.delete", target)


async def send_test(
    session: AsyncSession, *, actor: Actor, settings: Settings, target_id: uuid.UUID
) -> str | None:
    """Send a test message to a target now; returns the error, or None when it was delivered."""
    target = await get_target(session, actor=actor, target_id=target_id)
    actor.require(Permission.operate_interfaces)
    tenant = await get_tenant(session, actor=actor, tenant_id=target.tenant_id)
    interface = (
        await get_interface(session, actor=actor, interface_id=target.interface_id)
        if target.interface_id
        else None
    )
    notice = trial_notice(tenant_name=tenant.name, interface=interface,
                          public_url=settings.public_url)  # fmt: skip
    try:
        async with httpx.AsyncClient() as http:
            await send_notice(settings, http, kind=target.kind, address=target.address,
                              notice=notice)  # fmt: skip
    except NotifyError as exc:
        return exc.message
    return None


async def _owning_tenant(
    session: AsyncSession,
    *,
    actor: Actor,
    tenant_id: uuid.UUID | None,
    interface_id: uuid.UUID | None,
) -> uuid.UUID:
    if actor.role is not Role.operator:
        tenant_id = actor.tenant_id  # tenant users add to their own tenant only
    if interface_id is not None:
        interface = await get_interface(session, actor=actor, interface_id=interface_id)
        if tenant_id not in (None, interface.tenant_id):
            raise NotFound("interface not found")
        return interface.tenant_id
    if tenant_id is None:
        raise InvalidInput("name the tenant_id (or an interface_id) the target belongs to")
    return (await get_tenant(session, actor=actor, tenant_id=tenant_id)).id


async def _audit(
    session: AsyncSession, actor: Actor, action: str, target: NotificationTarget
) -> None:
    await record_audit(
        session,
        action=action,
        actor_label=actor.label,
        actor_id=actor.user_id,
        tenant_id=target.tenant_id,
        target_type="notification_target",
        target_id=target.id,
        details={
            "kind": target.kind.value,
            "interface_id": str(target.interface_id) if target.interface_id else None,
            "changes": target.changes,
        },
    )
