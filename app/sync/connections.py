"""Connections: settings plus credentials that are encrypted before they touch the database."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.actor import Actor, Permission
from app.core.audit import record_audit
from app.core.errors import Conflict, InvalidInput, NotFound
from app.core.secrets_box import SecretBox
from app.core.tenancy import TenantScope
from app.models import Connection
from app.models.base import utcnow
from app.models.enums import ConnectionKind
from app.sync.repositories import ConnectionRepository
from app.sync.tenants import get_tenant


async def create_connection(
    session: AsyncSession,
    *,
    actor: Actor,
    box: SecretBox,
    tenant_id: uuid.UUID,
    name: str,
    kind: ConnectionKind,
    connector: str,
    config: dict[str, Any],
    secrets: dict[str, Any] | None = None,
) -> Connection:
    """Create a connection; ``secrets`` are stored only encrypted and bound to the row."""
    actor.require(Permission.manage_connections)
    await get_tenant(session, actor=actor, tenant_id=tenant_id)
    repo = ConnectionRepository.scoped(session, TenantScope.only(tenant_id))
    if not name.strip():
        raise InvalidInput("name must not be empty")
    if any(c.name == name for c in await repo.list()):
        raise Conflict(f"a connection named {name!r} exists already")
    connection = Connection(
        id=uuid.uuid4(),
        tenant_id=tenant_id,
        name=name.strip(),
        kind=kind,
        connector=connector,
        config=config,
    )
    if secrets:
        _store_secrets(connection, box, secrets)
    await repo.create(connection, flush=True)
    await record_audit(
        session,
        action="connection.create",
        actor_label=actor.label,
        actor_id=actor.user_id,
        tenant_id=tenant_id,
        target_type="connection",
        target_id=connection.id,
        details={"connector": connector, "secret_fields": sorted(secrets or {})},
    )
    return connection


async def set_connection_secrets(
    session: AsyncSession,
    *,
    actor: Actor,
    box: SecretBox,
    connection_id: uuid.UUID,
    secrets: dict[str, Any],
) -> Connection:
    """Replace a connection's credentials (write-only: they are never read back out)."""
    connection = await get_connection(session, actor=actor, connection_id=connection_id)
    actor.require(Permission.manage_connections)
    _store_secrets(connection, box, secrets)
    await record_audit(
        session,
        action="connection.secrets_set",
        actor_label=actor.label,
        actor_id=actor.user_id,
        tenant_id=connection.tenant_id,
        target_type="connection",
        target_id=connection.id,
        details={"secret_fields": sorted(secrets)},
    )
    return connection


def open_connection_secrets(connection: Connection, box: SecretBox) -> dict[str, Any]:
    """Decrypt a connection's credentials for a connector (never for display)."""
    if connection.secrets_encrypted is None:
        return {}
    data: dict[str, Any] = box.decrypt(str(connection.id), connection.secrets_encrypted)
    return data


async def rotate_connection_secrets(session: AsyncSession, *, actor: Actor, box: SecretBox) -> int:
    """Re-encrypt every stored connection secret under the newest key; returns the count."""
    actor.require(Permission.manage_connections)
    rotated = 0
    for connection in await ConnectionRepository.scoped(session, actor.scope).list_with_secrets():
        if connection.secrets_encrypted:
            connection.secrets_encrypted = box.rotate(connection.secrets_encrypted)
            rotated += 1
    await record_audit(
        session,
        action="secrets.rotate",
        actor_label=actor.label,
        actor_id=actor.user_id,
        details={"connections": rotated},
    )
    return rotated


def _store_secrets(connection: Connection, box: SecretBox, secrets: dict[str, Any]) -> None:
    connection.secrets_encrypted = box.encrypt(str(connection.id), secrets)
    connection.secrets_set_at = utcnow()


async def list_connections(session: AsyncSession, *, actor: Actor) -> Sequence[Connection]:
    """The connections the actor may see."""
    return await ConnectionRepository.scoped(session, actor.scope).list()


async def get_connection(
    session: AsyncSession, *, actor: Actor, connection_id: uuid.UUID
) -> Connection:
    """One connection in the actor's scope (``NotFound`` for another tenant's)."""
    connection = await ConnectionRepository.scoped(session, actor.scope).get_by_id(connection_id)
    if connection is None:
        raise NotFound("connection not found")
    return connection
