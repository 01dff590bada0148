"""SQL for the domain's tenant-owned tables; every query is limited to a tenant scope."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import ColumnElement, delete, exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from app.core.repository import RepositoryBase, TenantRepository
from app.models import (
    AuditEntry,
    Connection,
    Interface,
    MappingVersion,
    RunItem,
    SyncRun,
    Tenant,
    WebhookEvent,
)
from app.models.enums import Health, ItemStatus, RunStatus, WebhookState


class TenantsRepository(RepositoryBase[Tenant]):
    """Tenants by slug or id."""

    model = Tenant

    async def get_by_slug(self, slug: str) -> Tenant | None:
        """The tenant called ``slug``."""
        return await self.get_one_or_none(select(Tenant).where(Tenant.slug == slug))

    async def get_by_id(self, tenant_id: uuid.UUID) -> Tenant | None:
        """The tenant with ``tenant_id``."""
        return await self.session.get(Tenant, tenant_id)

    async def list_all(self, only: uuid.UUID | None = None) -> Sequence[Tenant]:
        """Every tenant by slug, or just ``only``."""
        statement = select(Tenant).order_by(Tenant.slug)
        if only is not None:
            statement = statement.where(Tenant.id == only)
        return await self.get_all(statement)


class ConnectionRepository(TenantRepository[Connection]):
    """Connections in a tenant scope."""

    model = Connection

    async def list(self) -> Sequence[Connection]:
        """The scope's connections by name."""
        return await self.get_all(self.select().order_by(Connection.name))

    async def list_with_secrets(self) -> Sequence[Connection]:
        """The scope's connections that hold encrypted credentials."""
        return await self.get_all(
            self.select().where(Connection.secrets_encrypted.is_not(None)).order_by(Connection.id)
        )

    async def get_by_name(self, name: str) -> Connection | None:
        """The scope's connection called ``name`` (names are unique per tenant)."""
        return await self.get_one_or_none(self.select().where(Connection.name == name))


class InterfaceChoice(NamedTuple):
    """What a filter or a blocker list needs of an interface, without loading the row."""

    id: uuid.UUID
    name: str
    health: Health
    next_run_at: datetime | None


class InterfaceRepository(TenantRepository[Interface]):
    """Interfaces in a tenant scope."""

    model = Interface

    async def list(self) -> Sequence[Interface]:
        """The scope's interfaces by name."""
        return await self.get_all(self.select().order_by(Interface.name))

    async def choices(self) -> Sequence[InterfaceChoice]:
        """The scope's interfaces by name, as four plain columns (filter menus of 1,000s)."""
        statement = (
            self.select()
            .with_only_columns(
                Interface.id, Interface.name, Interface.health, Interface.next_run_at
            )
            .order_by(Interface.name)
        )
        result = await self.session.execute(statement)
        return [InterfaceChoice(*row) for row in result.all()]

    async def with_name(self, name: str, tenant_slug: str | None = None) -> Sequence[Interface]:
        """The scope's interfaces called ``name``, optionally only of the tenant ``tenant_slug``.

        Names are unique per tenant, so a one-tenant scope finds at most one.
        """
        statement = self.select().where(Interface.name == name)
        if tenant_slug is not None:
            statement = statement.join(Tenant, Tenant.id == Interface.tenant_id).where(
                Tenant.slug == tenant_slug
            )
        return await self.get_all(statement)


class MappingVersionRepository(TenantRepository[MappingVersion]):
    """Mapping versions in a tenant scope; rows are only ever added, never updated."""

    model = MappingVersion

    async def list_for_interface(self, interface_id: uuid.UUID) -> Sequence[MappingVersion]:
        """The versions of one interface, newest first."""
        statement = (
            self.select()
            .where(MappingVersion.interface_id == interface_id)
            .order_by(MappingVersion.number.desc())
        )
        return await self.get_all(statement)

    async def latest(self, interface_id: uuid.UUID) -> MappingVersion | None:
        """The interface's highest-numbered version."""
        statement = (
            self.select()
            .where(MappingVersion.interface_id == interface_id)
            .order_by(MappingVersion.number.desc())
            .limit(1)
        )
        return await self.get_one_or_none(statement)

    async def get_by_number(self, interface_id: uuid.UUID, number: int) -> MappingVersion | None:
        """Version ``number`` of one interface."""
        statement = self.select().where(
            MappingVersion.interface_id == interface_id, MappingVersion.number == number
        )
        return await self.get_one_or_none(statement)


class AuditRepository(RepositoryBase[AuditEntry]):
    """Reading the audit log back (writing goes through ``app.core.audit``)."""

    model = AuditEntry

    async def latest_for(self, action: str, target_id: uuid.UUID | None) -> AuditEntry | None:
        """The newest entry of ``action`` on ``target_id`` (None: on no target, a system job)."""
        on_target = (
            AuditEntry.target_id.is_(None) if target_id is None
            else AuditEntry.target_id == str(target_id)
        )  # fmt: skip
        statement = (
            select(AuditEntry)
            .where(AuditEntry.action == action, on_target)
            .order_by(AuditEntry.created_at.desc())
            .limit(1)
        )
        return await self.get_one_or_none(statement)


class SyncRunRepository(TenantRepository[SyncRun]):
    """Sync runs in a tenant scope, newest first."""

    model = SyncRun

    async def list(
        self, *, interface_id: uuid.UUID | None = None, limit: int = 50
    ) -> Sequence[SyncRun]:
        """The newest runs, optionally of one interface."""
        statement = self.select().order_by(SyncRun.started_at.desc(), SyncRun.id.desc())
        if interface_id is not None:
            statement = statement.where(SyncRun.interface_id == interface_id)
        return await self.get_all(statement.limit(limit))


class RunItemRepository(TenantRepository[RunItem]):
    """Per-record tasks of runs in a tenant scope."""

    model = RunItem

    async def list_for_run(self, run_id: uuid.UUID, *, limit: int = 100) -> Sequence[RunItem]:
        """The first ``limit`` tasks of ``run_id``."""
        statement = (
            self.select()
            .where(RunItem.run_id == run_id)
            .order_by(RunItem.created_at, RunItem.id)
            .limit(limit)
        )
        return await self.get_all(statement)


class FailedItemRepository(TenantRepository[RunItem]):
    """Open failed tasks in a tenant scope: the error log's rows."""

    model = RunItem

    async def list_open(self, *, limit: int = 100) -> Sequence[RunItem]:
        """The newest failed, not yet resolved tasks."""
        statement = (
            self.select()
            .where(RunItem.status == ItemStatus.failed)
            .order_by(RunItem.created_at.desc(), RunItem.id.desc())
            .limit(limit)
        )
        return await self.get_all(statement)


class RetentionRepository:
    """Bulk deletion of rows past their retention (across tenants: a system job)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def count(self, expired: Expired) -> int:
        """How many rows ``expired`` names."""
        statement = select(func.count()).select_from(expired.model).where(*expired.conditions)
        return int((await self.session.execute(statement)).scalar_one())

    async def delete(self, expired: Expired) -> int:
        """Delete the rows ``expired`` names; returns how many went."""
        result = await self.session.execute(delete(expired.model).where(*expired.conditions))
        return int(getattr(result, "rowcount", 0) or 0)


class Expired(NamedTuple):
    """The rows of one table past their retention: the table and the WHERE terms."""

    model: type[RunItem] | type[WebhookEvent] | type[SyncRun] | type[AuditEntry]
    conditions: tuple[ColumnElement[bool], ...]


def expired_items(before: datetime, statuses: Sequence[ItemStatus]) -> Expired:
    """Run items of ``statuses`` created before ``before``."""
    return Expired(RunItem, (RunItem.created_at < before, RunItem.status.in_(statuses)))


def expired_events(before: datetime, states: Sequence[WebhookState]) -> Expired:
    """Webhook events in ``states`` received before ``before``."""
    conditions = (WebhookEvent.received_at < before, WebhookEvent.state.in_(states))
    return Expired(WebhookEvent, conditions)


def expired_runs(before: datetime) -> Expired:
    """Finished runs started before ``before``, each interface's latest kept (the
    dashboard's last run); their items go with them."""
    newer = aliased(SyncRun)
    later = exists().where(
        newer.interface_id == SyncRun.interface_id, newer.started_at > SyncRun.started_at
    )
    conditions = (SyncRun.started_at < before, SyncRun.status != RunStatus.running, later)
    return Expired(SyncRun, conditions)


def expired_audit(before: datetime) -> Expired:
    """Audit entries written before ``before``."""
    return Expired(AuditEntry, (AuditEntry.created_at < before,))
