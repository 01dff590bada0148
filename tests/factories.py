"""Builders for test data: two tenants with users, tokens, connections, interfaces and runs."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import timedelta

from argon2 import PasswordHasher
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.credentials import new_api_token, sha256_hex
from app.models import (
    ApiToken,
    Connection,
    Interface,
    MappingVersion,
    RunItem,
    SyncRun,
    Tenant,
    User,
)
from app.models.base import utcnow
from app.models.enums import (
    ConnectionKind,
    ErrorCategory,
    Health,
    InterfaceState,
    ItemAction,
    ItemStatus,
    Role,
    RunStatus,
    RunTrigger,
    SyncDirection,
)
from app.sync.error_groups import cause_digest
from app.sync.mapping.loader import load_mapping

PASSWORD = "correct horse battery staple"
MAPPING_YAML = """\
objects:
  - name: companies
    source: {object: customers, key: customer_no}
    hubspot: {object: companies, match: erp_customer_no}
    fields:
      - {source: customer_no, hubspot: erp_customer_no}
      - {source: name, hubspot: name}
"""
PASSWORD_HASH = PasswordHasher().hash(PASSWORD)


async def add_user(db: AsyncSession, *, email: str, role: Role, tenant: Tenant | None) -> User:
    """A user whose password is ``PASSWORD`` (hashed once per test session)."""
    user = User(
        email=email, password_hash=PASSWORD_HASH, role=role, tenant_id=tenant.id if tenant else None
    )
    db.add(user)
    await db.flush()
    return user


async def add_token(db: AsyncSession, user: User) -> str:
    """An API token for ``user``; returns its value."""
    value = new_api_token()
    db.add(
        ApiToken(
            user_id=user.id,
            tenant_id=user.tenant_id,
            name="test",
            prefix=value[:10],
            token_hash=sha256_hex(value),
        )
    )
    await db.flush()
    return value


@dataclass
class TenantWorld:
    """One tenant with an admin, a viewer, their tokens, two connections, an interface, a run."""

    tenant: Tenant
    admin: User
    viewer: User
    admin_token: str
    viewer_token: str
    source: Connection
    hubspot: Connection
    interface: Interface
    version: MappingVersion
    run: SyncRun
    item: RunItem
    ids: dict[str, uuid.UUID] = field(default_factory=dict)


@dataclass
class World:
    """Tenants A and B plus an operator: the fixture for isolation and role tests."""

    a: TenantWorld
    b: TenantWorld
    operator: User
    operator_token: str


async def build_tenant(db: AsyncSession, slug: str) -> TenantWorld:
    """Create one tenant and everything a route with an id can point at."""
    tenant = Tenant(slug=slug, name=f"Tenant {slug.upper()}")
    db.add(tenant)
    await db.flush()
    admin = await add_user(db, email=f"admin@{slug}.example.com", role=Role.admin, tenant=tenant)
    viewer = await add_user(db, email=f"viewer@{slug}.example.com", role=Role.viewer, tenant=tenant)
    source = Connection(
        tenant_id=tenant.id,
        name="erp",
        kind=ConnectionKind.source,
        connector="sql",
        config={"url_host": "erp.example.com"},
    )
    hubspot = Connection(
        tenant_id=tenant.id,
        name="hubspot",
        kind=ConnectionKind.hubspot,
        connector="hubspot",
        config={},
        hub_id=1000 + len(slug),
    )
    db.add_all([source, hubspot])
    await db.flush()
    interface = Interface(
        tenant_id=tenant.id,
        name=f"{slug}-companies",
        source_connection_id=source.id,
        hubspot_connection_id=hubspot.id,
        state=InterfaceState.active,
        health=Health.warning,
        health_reason="1 record failed in the last run",
        last_run_at=utcnow(),
        next_run_at=utcnow() + timedelta(minutes=15),
    )
    db.add(interface)
    await db.flush()
    version = await add_approved_version(db, interface, approver=admin)
    run = SyncRun(
        tenant_id=tenant.id,
        interface_id=interface.id,
        trigger=RunTrigger.schedule,
        status=RunStatus.warning,
        counts={"companies": {"create": 1, "failed": 1}},
    )
    db.add(run)
    await db.flush()
    item = RunItem(
        tenant_id=tenant.id,
        run_id=run.id,
        interface_id=interface.id,
        object_name="companies",
        direction=SyncDirection.to_hubspot,
        action=ItemAction.create,
        status=ItemStatus.failed,
        source_key="K-1",
        error_message="Property values were not valid",
        error_cause=cause_digest("Property values were not valid"),
        http_status=400,
        error_category=ErrorCategory.data,
        payload={"name": "ACME"},
    )
    db.add(item)
    await db.flush()
    return TenantWorld(
        tenant=tenant,
        admin=admin,
        viewer=viewer,
        admin_token=await add_token(db, admin),
        viewer_token=await add_token(db, viewer),
        source=source,
        hubspot=hubspot,
        interface=interface,
        version=version,
        run=run,
        item=item,
    )


async def add_approved_version(
    db: AsyncSession, interface: Interface, *, approver: User
) -> MappingVersion:
    """Version 1 of ``interface`` (``MAPPING_YAML``), approved and active."""
    version = MappingVersion(
        tenant_id=interface.tenant_id,
        interface_id=interface.id,
        number=1,
        yaml_text=MAPPING_YAML,
        parsed=load_mapping(MAPPING_YAML).model_dump(mode="json"),
        approved_by_id=approver.id,
        approved_at=utcnow(),
    )
    db.add(version)
    await db.flush()
    interface.active_mapping_version_id = version.id
    await db.flush()
    return version


async def build_world(db: AsyncSession) -> World:
    """Tenants A and B and an operator, committed."""
    a = await build_tenant(db, "tenant-a")
    b = await build_tenant(db, "tenant-b")
    operator = await add_user(db, email="operator@example.com", role=Role.operator, tenant=None)
    operator_token = await add_token(db, operator)
    await db.commit()
    return World(a=a, b=b, operator=operator, operator_token=operator_token)


def bearer(token: str) -> dict[str, str]:
    """The Authorization header for an API token."""
    return {"Authorization": f"Bearer {token}"}
