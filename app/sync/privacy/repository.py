"""SQL of privacy deletions: the requests (tombstones) and the purge of hubsync's own rows.

The requests are tenant-owned and scoped like every other table; the webhook
events are not (they arrive before a tenant is known) and are purged by portal
and object id. Every method only flushes: the caller's frame commits.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, delete, func, or_, select, true, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.repository import TenantRepository
from app.core.tenancy import TenantScope
from app.models import (
    Connection,
    DeletionRequest,
    PrivacySuppression,
    RecordLink,
    RunItem,
    WebhookEvent,
)
from app.models.enums import ConnectionKind, DeletionState


class DeletionRequestRepository(TenantRepository[DeletionRequest]):
    """Privacy deletion requests in a tenant scope."""

    model = DeletionRequest

    async def for_event(self, webhook_event_id: uuid.UUID) -> Sequence[DeletionRequest]:
        """The requests a webhook event started (one per tenant holding the portal)."""
        return await self.get_all(
            self.select().where(DeletionRequest.webhook_event_id == webhook_event_id)
        )

    def log(
        self,
        *,
        state: DeletionState | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> Select[DeletionRequest]:
        """The deletion log, newest first, optionally one state and a window [since, until)."""
        statement = self.select().order_by(
            DeletionRequest.requested_at.desc(), DeletionRequest.id.desc()
        )
        if state is not None:
            statement = statement.where(DeletionRequest.state == state)
        if since is not None:
            statement = statement.where(DeletionRequest.requested_at >= since)
        if until is not None:
            statement = statement.where(DeletionRequest.requested_at < until)
        return statement

    async def due(self, now: datetime) -> list[tuple[uuid.UUID, int, str]]:
        """(id, attempts, policy) of unfinished requests whose next attempt is due, oldest
        first."""
        rows = await self.get_all(
            self.select()
            .where(
                DeletionRequest.state != DeletionState.completed,
                DeletionRequest.next_attempt_at <= now,
            )
            .order_by(DeletionRequest.next_attempt_at, DeletionRequest.id)
        )
        return [(row.id, row.attempts, row.policy) for row in rows]

    async def claim(self, request_id: uuid.UUID, *, seen: int, retry_at: datetime) -> bool:
        """Count an attempt and schedule the next, unless finished or claimed since ``seen``."""
        result = await self.session.execute(
            update(DeletionRequest)
            .where(
                DeletionRequest.id == request_id,
                DeletionRequest.state != DeletionState.completed,
                DeletionRequest.attempts == seen,
            )
            .values(attempts=seen + 1, next_attempt_at=retry_at)
            .execution_options(synchronize_session=False)
        )
        return _rowcount(result) == 1

    async def settle(self, request_id: uuid.UUID, *, attempt: int, values: dict[str, Any]) -> bool:
        """Write attempt ``attempt``'s outcome, unless a later attempt has claimed the request."""
        result = await self.session.execute(
            update(DeletionRequest)
            .where(DeletionRequest.id == request_id, DeletionRequest.attempts == attempt)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        return _rowcount(result) == 1


class SuppressionRepository(TenantRepository[PrivacySuppression]):
    """The privacy suppression list in a tenant scope."""

    model = PrivacySuppression

    async def active_hashes(
        self, interface_id: uuid.UUID, object_name: str, among: Collection[str] | None = None
    ) -> set[str]:
        """The hashes of the active entries of one interface and object mapping (only those
        in ``among`` when given)."""
        statement = select(PrivacySuppression.key_hash).where(
            self._scoped(),
            PrivacySuppression.interface_id == interface_id,
            PrivacySuppression.object_name == object_name,
            PrivacySuppression.lifted_at.is_(None),
        )
        if among is not None:
            statement = statement.where(PrivacySuppression.key_hash.in_(list(among)))
        return set((await self.session.scalars(statement)).all())

    async def add(self, entries: Sequence[PrivacySuppression]) -> None:
        """Store new entries (flushed, so a duplicate active one fails here)."""
        self.session.add_all(entries)
        await self.session.flush()

    def log(
        self, *, request_id: uuid.UUID | None = None, active: bool | None = None
    ) -> Select[PrivacySuppression]:
        """The entries, newest first; optionally one request's, only active or only lifted."""
        statement = self.select().order_by(
            PrivacySuppression.created_at.desc(), PrivacySuppression.id.desc()
        )
        if request_id is not None:
            statement = statement.where(PrivacySuppression.deletion_request_id == request_id)
        if active is not None:
            lifted = PrivacySuppression.lifted_at
            statement = statement.where(lifted.is_(None) if active else lifted.is_not(None))
        return statement

    async def active_per_request(self, request_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, int]:
        """How many active entries each of ``request_ids`` left (requests without: absent)."""
        if not request_ids:
            return {}
        request = PrivacySuppression.deletion_request_id
        rows = await self.session.execute(
            select(request, func.count())
            .where(self._scoped(), request.in_(list(request_ids)),
                   PrivacySuppression.lifted_at.is_(None))
            .group_by(request)
        )  # fmt: skip
        return {row[0]: int(row[1]) for row in rows if row[0] is not None}

    async def lift(
        self, entry_ids: Collection[uuid.UUID], *, at: datetime, by: str, reason: str
    ) -> set[uuid.UUID]:
        """Lift the active ones of ``entry_ids``: the ids lifted (not those lifted before)."""
        if not entry_ids:
            return set()
        result = await self.session.execute(
            update(PrivacySuppression)
            .where(
                self._scoped(),
                PrivacySuppression.id.in_(list(entry_ids)),
                PrivacySuppression.lifted_at.is_(None),
            )
            .values(lifted_at=at, lifted_by=by, lift_reason=reason)
            .returning(PrivacySuppression.id)
            .execution_options(synchronize_session=False)
        )
        return set(result.scalars().all())

    def _scoped(self) -> ColumnElement[bool]:
        """The scope's tenant filter, for statements ``select()`` does not build."""
        if self.scope.tenant_id is None:
            return true()
        return PrivacySuppression.tenant_id == self.scope.tenant_id


class PortalRepository:
    """HubSpot connections by portal id, across tenants (a privacy deletion is a system job)."""

    def __init__(self, session: AsyncSession, scope: TenantScope) -> None:
        self.session = session
        self.scope = scope

    async def hubspot_connections(self, portal_id: int) -> Sequence[Connection]:
        """The HubSpot connections to ``portal_id``: its hub id, or ``portal_id`` in the config
        (OAuth connections store it there)."""
        statement = self.scope.apply(
            select(Connection).where(Connection.kind == ConnectionKind.hubspot), Connection
        )
        rows = (await self.session.execute(statement)).scalars().all()
        return [c for c in rows if portal_id in (c.hub_id, _as_int(c.config.get("portal_id")))]


class PurgeRepository:
    """hubsync's own rows about one person: record links, run items, webhook events."""

    def __init__(self, session: AsyncSession, scope: TenantScope) -> None:
        self.session = session
        self.scope = scope

    async def links(
        self, interface_id: uuid.UUID, object_name: str, hubspot_id: str
    ) -> Sequence[RecordLink]:
        """The links of one HubSpot record in one interface's object mapping."""
        statement = select(RecordLink).where(
            RecordLink.interface_id == interface_id,
            RecordLink.object_name == object_name,
            RecordLink.hubspot_id == hubspot_id,
        )
        result = await self.session.execute(self.scope.apply(statement, RecordLink))
        return result.scalars().all()

    async def blank_links(self, link_ids: Collection[uuid.UUID]) -> None:
        """Drop the links' baselines and hashes (personal data); the keys stay for the source."""
        if link_ids:
            await self.session.execute(
                update(RecordLink)
                .where(RecordLink.id.in_(list(link_ids)))
                .values(source_values=None, hubspot_values=None, source_hash=None,
                        hubspot_hash=None, associations=None)
                .execution_options(synchronize_session=False)
            )  # fmt: skip

    async def remove_links(self, link_ids: Collection[uuid.UUID]) -> int:
        """Delete the links; returns how many went."""
        if not link_ids:
            return 0
        result = await self.session.execute(
            delete(RecordLink)
            .where(RecordLink.id.in_(list(link_ids)))
            .execution_options(synchronize_session=False)
        )
        return _rowcount(result)

    async def remove_items(
        self,
        interface_id: uuid.UUID,
        object_name: str,
        *,
        hubspot_id: str,
        source_keys: Collection[str],
    ) -> int:
        """Delete the run items about one record (its HubSpot id or source keys); the runs'
        counts stay. Returns how many went."""
        about = [RunItem.hubspot_id == hubspot_id]
        if source_keys:
            about.append(RunItem.source_key.in_(list(source_keys)))
        result = await self.session.execute(
            delete(RunItem)
            .where(
                RunItem.interface_id == interface_id,
                RunItem.object_name == object_name,
                or_(*about),
            )
            .execution_options(synchronize_session=False)
        )
        return _rowcount(result)

    async def blank_events(self, portal_id: int, object_id: str, type_prefix: str) -> int:
        """Empty the payload and error of a portal's events about one object (all kinds of
        ``type_prefix``, e.g. ``contact.``); ids, types and states stay. Returns how many."""
        result = await self.session.execute(
            update(WebhookEvent)
            .where(
                WebhookEvent.portal_id == portal_id,
                WebhookEvent.object_id == object_id,
                WebhookEvent.subscription_type.startswith(type_prefix, autoescape=True),
            )
            .values(payload={}, last_error=None)
            .execution_options(synchronize_session=False)
        )
        return _rowcount(result)


def portal_of(connection: Connection) -> int | None:
    """The portal a HubSpot connection reaches: its hub id, else ``portal_id`` in its config
    (OAuth connections store it there); None when unknown."""
    return connection.hub_id or _as_int(connection.config.get("portal_id"))


def _as_int(value: object) -> int | None:
    try:
        return int(str(value)) if value is not None else None
    except ValueError:
        return None


def _rowcount(result: object) -> int:
    return int(getattr(result, "rowcount", 0) or 0)
