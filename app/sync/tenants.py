"""Tenants: created by operators, visible to their own users."""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.actor import Actor, Permission
from app.core.audit import record_audit
from app.core.errors import Conflict, InvalidInput, NotFound
from app.models import Tenant
from app.sync.repositories import TenantsRepository

SLUG_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")


async def create_tenant(session: AsyncSession, *, actor: Actor, slug: str, name: str) -> Tenant:
    """Create a tenant with a unique URL-safe slug."""
    actor.require(Permission.manage_tenants)
    if not SLUG_PATTERN.fullmatch(slug):
        raise InvalidInput(
            "slug must be 2-63 characters: lower-case letters, digits and '-', "
            "starting with a letter or digit"
        )
    if not name.strip():
        raise InvalidInput("name must not be empty")
    tenants = TenantsRepository.from_session(session)
    if await tenants.get_by_slug(slug) is not None:
        raise Conflict(f"tenant {slug!r} exists already")
    tenant = await tenants.create(Tenant(slug=slug, name=name.strip()), flush=True)
    await record_audit(
        session,
        action="tenant.create",
        actor_label=actor.label,
        actor_id=actor.user_id,
        tenant_id=tenant.id,
        target_type="tenant",
        target_id=tenant.id,
    )
    return tenant


async def list_tenants(session: AsyncSession, *, actor: Actor) -> Sequence[Tenant]:
    """All tenants for operators; one's own tenant for everyone else."""
    return await TenantsRepository.from_session(session).list_all(actor.scope.tenant_id)


async def get_tenant(session: AsyncSession, *, actor: Actor, tenant_id: uuid.UUID) -> Tenant:
    """One tenant, if the actor may see it (else ``NotFound``)."""
    tenant = await TenantsRepository.from_session(session).get_by_id(tenant_id)
    if tenant is None or not actor.scope.allows(tenant.id):
        raise NotFound("tenant not found")
    return tenant


async def get_tenant_by_slug(session: AsyncSession, *, actor: Actor, slug: str) -> Tenant:
    """One tenant by slug, if the actor may see it (else ``NotFound``)."""
    tenant = await TenantsRepository.from_session(session).get_by_slug(slug)
    if tenant is None or not actor.scope.allows(tenant.id):
        raise NotFound(f"tenant {slug!r} not found")
    return tenant
