"""Reading the audit log (Änderungsprotokoll): filtered, tenant-scoped, newest first.

Writing stays in ``app.core.audit``. The log holds ids and labels, never values
or personal data beyond the actor label it stored, so entries are shown as kept.
Pages are cut by keyset (``created_at``, ``id``), not by offset, so a page stays
stable while new entries arrive.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.actor import Actor, Permission
from app.core.errors import NotFound
from app.core.repository import RepositoryBase
from app.models import AuditEntry
from app.sync.keyset import Cursor, Page, cut_page, keyset

PAGE_SIZE = 50


@dataclass(frozen=True, slots=True)
class AuditFilter:
    """Which entries to list: one action, a time window [since, until), one tenant."""

    action: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    tenant_id: uuid.UUID | None = None


class AuditLogRepository(RepositoryBase[AuditEntry]):
    """Audit entries by tenant, action and time, in keyset pages."""

    model = AuditEntry

    def filtered(self, tenant_id: uuid.UUID | None, wanted: AuditFilter) -> Select[AuditEntry]:
        """A SELECT limited to one tenant (None: all) and the filter's action and window."""
        statement = select(AuditEntry)
        if tenant_id is not None:
            statement = statement.where(AuditEntry.tenant_id == tenant_id)
        if wanted.action:
            statement = statement.where(AuditEntry.action == wanted.action)
        if wanted.since is not None:
            statement = statement.where(AuditEntry.created_at >= wanted.since)
        if wanted.until is not None:
            statement = statement.where(AuditEntry.created_at < wanted.until)
        return statement

    async def actions(self, tenant_id: uuid.UUID | None) -> list[str]:
        """The distinct actions logged for one tenant (None: all), sorted."""
        statement = select(AuditEntry.action).distinct()
        if tenant_id is not None:
            statement = statement.where(AuditEntry.tenant_id == tenant_id)
        result = await self.session.execute(statement)
        return sorted(result.scalars())


def _tenant_of(actor: Actor, wanted: AuditFilter) -> uuid.UUID | None:
    """The tenant to list: the actor's own, or for operators the one asked for (or all)."""
    actor.require(Permission.manage_users)
    scope = actor.scope
    if wanted.tenant_id is not None and not scope.allows(wanted.tenant_id):
        raise NotFound("tenant not found")
    return scope.tenant_id if scope.tenant_id is not None else wanted.tenant_id


async def list_audit_entries(
    session: AsyncSession,
    *,
    actor: Actor,
    wanted: AuditFilter,
    before: Cursor | None = None,
    after: Cursor | None = None,
    limit: int = PAGE_SIZE,
) -> Page[AuditEntry]:
    """One page of the log the actor may read (admins: their tenant; operators: all)."""
    repo = AuditLogRepository.from_session(session)
    statement, backwards = keyset(
        repo.filtered(_tenant_of(actor, wanted), wanted),
        (AuditEntry.created_at, AuditEntry.id),
        descending=True, before=before, after=after, limit=limit,
    )  # fmt: skip
    found = await repo.get_all(statement)
    if backwards and len(found) <= limit:  # reached the newest entries: the first page
        return await list_audit_entries(session, actor=actor, wanted=wanted, limit=limit)
    rows, newer, older = cut_page(found, limit=limit, backwards=backwards, started=bool(before))
    return Page(rows=rows, newer=newer, older=older)


async def audit_actions(
    session: AsyncSession, *, actor: Actor, tenant_id: uuid.UUID | None = None
) -> list[str]:
    """The actions that occur in the log the actor may read, for the filter."""
    tenant = _tenant_of(actor, AuditFilter(tenant_id=tenant_id))
    return await AuditLogRepository.from_session(session).actions(tenant)
