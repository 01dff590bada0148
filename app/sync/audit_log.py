"""Reading the audit log (Änderungsprotokoll): filtered, tenant-scoped, newest first.

Writing stays in ``app.core.audit``. The log holds ids and labels, never values
or personal data beyond the actor label it stored, so entries are shown as kept.
Pages are cut by keyset (``created_at``, ``id``), not by offset, so a page stays
stable while new entries arrive.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Select, and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.actor import Actor, Permission
from app.core.errors import InvalidInput, NotFound
from app.core.repository import RepositoryBase
from app.models import AuditEntry

PAGE_SIZE = 50


@dataclass(frozen=True, slots=True)
class AuditCursor:
    """A position in the log: an entry's time and id (ties broken by id)."""

    created_at: datetime
    entry_id: uuid.UUID

    def encode(self) -> str:
        """The cursor as a URL-safe string, e.g. ``1741352700000000-<uuid>``."""
        micros = int(self.created_at.timestamp() * 1_000_000)
        return f"{micros}-{self.entry_id}"

    @classmethod
    def decode(cls, text: str) -> AuditCursor:
        """Parse ``encode``'s output; anything else is ``InvalidInput``."""
        micros, _, entry_id = text.partition("-")
        try:
            when = datetime.fromtimestamp(int(micros) / 1_000_000, tz=UTC)
            return cls(created_at=when, entry_id=uuid.UUID(entry_id))
        except ValueError:
            raise InvalidInput("invalid page cursor") from None

    @classmethod
    def of(cls, entry: AuditEntry) -> AuditCursor:
        """The cursor pointing at ``entry``."""
        return cls(created_at=entry.created_at, entry_id=entry.id)


@dataclass(frozen=True, slots=True)
class AuditFilter:
    """Which entries to list: one action, a time window [since, until), one tenant."""

    action: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    tenant_id: uuid.UUID | None = None


@dataclass(frozen=True, slots=True)
class AuditPage:
    """One page of entries, newest first, with cursors to the neighbouring pages."""

    entries: Sequence[AuditEntry]
    newer: AuditCursor | None
    older: AuditCursor | None


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

    async def older_than(
        self, statement: Select[AuditEntry], cursor: AuditCursor | None, limit: int
    ) -> Sequence[AuditEntry]:
        """Up to ``limit`` entries before ``cursor`` (from the newest when None), newest first."""
        if cursor is not None:
            statement = statement.where(
                or_(
                    AuditEntry.created_at < cursor.created_at,
                    and_(
                        AuditEntry.created_at == cursor.created_at,
                        AuditEntry.id < cursor.entry_id,
                    ),
                )
            )
        order = (AuditEntry.created_at.desc(), AuditEntry.id.desc())
        return await self.get_all(statement.order_by(*order).limit(limit))

    async def newer_than(
        self, statement: Select[AuditEntry], cursor: AuditCursor, limit: int
    ) -> Sequence[AuditEntry]:
        """Up to ``limit`` entries right after ``cursor``, newest first."""
        statement = statement.where(
            or_(
                AuditEntry.created_at > cursor.created_at,
                and_(
                    AuditEntry.created_at == cursor.created_at,
                    AuditEntry.id > cursor.entry_id,
                ),
            )
        )
        order = (AuditEntry.created_at.asc(), AuditEntry.id.asc())
        rows = await self.get_all(statement.order_by(*order).limit(limit))
        return list(reversed(rows))

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
    before: AuditCursor | None = None,
    after: AuditCursor | None = None,
    limit: int = PAGE_SIZE,
) -> AuditPage:
    """One page of the log the actor may read (admins: their tenant; operators: all)."""
    repo = AuditLogRepository.from_session(session)
    statement = repo.filtered(_tenant_of(actor, wanted), wanted)
    if after is not None and before is None:
        rows = await repo.newer_than(statement, after, limit + 1)
        if len(rows) > limit:  # not yet at the top: a full page below the newer ones
            rows = rows[-limit:]
            return AuditPage(rows, newer=AuditCursor.of(rows[0]), older=AuditCursor.of(rows[-1]))
        before = None  # reached the newest entries: show the first page
    rows = await repo.older_than(statement, before, limit + 1)
    more_older, rows = len(rows) > limit, rows[:limit]
    return AuditPage(
        entries=rows,
        newer=AuditCursor.of(rows[0]) if rows and before is not None else None,
        older=AuditCursor.of(rows[-1]) if rows and more_older else None,
    )


async def audit_actions(
    session: AsyncSession, *, actor: Actor, tenant_id: uuid.UUID | None = None
) -> list[str]:
    """The actions that occur in the log the actor may read, for the filter."""
    tenant = _tenant_of(actor, AuditFilter(tenant_id=tenant_id))
    return await AuditLogRepository.from_session(session).actions(tenant)
