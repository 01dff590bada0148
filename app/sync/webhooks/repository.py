"""The SQL of webhook handling: insert-or-ignore, the due events, optimistic claims, outcomes.

Every state change is a conditional UPDATE, so several processes can share the
table: a claim moves due events to ``processing`` and sets ``next_attempt_at``
to when the claim lapses, and only the rows the UPDATE actually changed
(``RETURNING``) belong to the claimer, who settles them by that same lapse time.
A process that dies holding a claim leaves the events to whichever process
looks after the claim has lapsed.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, NamedTuple, cast

from sqlalchemy import Table, and_, select, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.elements import ColumnElement

from app.core.repository import RepositoryBase
from app.models import Connection, Interface, MappingVersion, WebhookEvent
from app.models.enums import ConnectionKind, InterfaceState, WebhookState

_TABLE = cast(Table, WebhookEvent.__table__)  # Core: one cached statement for every batch
_EVENT_KEY = ("portal_id", "event_id")  # the unique constraint duplicates run into


class DueEvent(NamedTuple):
    """What the worker needs of one event that is due for handling."""

    id: uuid.UUID
    portal_id: int
    tenant_id: uuid.UUID | None
    subscription_type: str
    object_id: str | None
    payload: dict[str, Any]
    received_at: datetime
    attempts: int


class HubSpotConnectionRow(NamedTuple):
    """A HubSpot connection and the portal ids it may name (column or OAuth config)."""

    id: uuid.UUID
    tenant_id: uuid.UUID
    hub_id: int | None
    config: dict[str, Any]


class ActiveInterfaceRow(NamedTuple):
    """An active interface with its approved mapping version."""

    id: uuid.UUID
    tenant_id: uuid.UUID
    hubspot_connection_id: uuid.UUID
    version: MappingVersion


class WebhookEventRepository(RepositoryBase[WebhookEvent]):
    """Webhook events across tenants (the receiver and the worker are system code)."""

    model = WebhookEvent

    async def insert_new(self, rows: Sequence[dict[str, Any]]) -> int:
        """Insert ``rows``, skipping (portal, event id) pairs already stored; returns how many
        were new. One compiled statement, sent as one multi-row INSERT by SQLAlchemy's
        "insertmanyvalues" on both SQLite and PostgreSQL."""
        if not rows:
            return 0
        statement: postgresql.Insert | sqlite.Insert
        if self.session.get_bind().dialect.name == "postgresql":
            statement = postgresql.insert(_TABLE)
        else:
            statement = sqlite.insert(_TABLE)
        statement = statement.on_conflict_do_nothing(index_elements=_EVENT_KEY)
        inserted = await self.session.execute(statement.returning(_TABLE.c.id), list(rows))
        return len(inserted.all())

    async def due(
        self, now: datetime, *, after: DueEvent | None = None, limit: int
    ) -> list[DueEvent]:
        """Events to handle now, oldest first (and after ``after``): received ones whose
        time has come, and claimed ones whose claim has lapsed."""
        statement = (
            select(*(getattr(WebhookEvent, name) for name in DueEvent._fields))
            .where(_claimable(now))
            .order_by(WebhookEvent.received_at, WebhookEvent.id)
            .limit(limit)
        )
        if after is not None:
            position = tuple_(WebhookEvent.received_at, WebhookEvent.id)
            statement = statement.where(position > tuple_(after.received_at, after.id))
        rows = await self.session.execute(statement)
        return [DueEvent(*row) for row in rows]

    async def claim(
        self, ids: Iterable[uuid.UUID], now: datetime, *, until: datetime
    ) -> set[uuid.UUID]:
        """Claim those of ``ids`` still claimable until ``until``; returns the ones won."""
        wanted = list(ids)
        if not wanted:
            return set()
        statement = (
            update(WebhookEvent)
            .where(WebhookEvent.id.in_(wanted), _claimable(now))
            .values(state=WebhookState.processing, next_attempt_at=until)
            .returning(WebhookEvent.id)
            .execution_options(synchronize_session=False)
        )
        return set((await self.session.execute(statement)).scalars())

    async def ignore(self, ids: Iterable[uuid.UUID], now: datetime, *, reason: str) -> None:
        """Mark due events ``ignored`` (nothing reads them), saying why."""
        await self._set(ids, _claimable(now), state=WebhookState.ignored, last_error=reason,
                        next_attempt_at=None)  # fmt: skip

    async def settle(self, ids: Iterable[uuid.UUID], *, claim: datetime) -> None:
        """Mark events of ``claim`` ``processed``."""
        await self._set(ids, _held(claim), state=WebhookState.processed, last_error=None,
                        next_attempt_at=None)  # fmt: skip

    async def release(self, ids: Iterable[uuid.UUID], *, claim: datetime, at: datetime) -> None:
        """Hand events of ``claim`` back, due again at ``at`` (their attempt did not count)."""
        await self._set(ids, _held(claim), state=WebhookState.received, next_attempt_at=at)

    async def retry(
        self, ids: Iterable[uuid.UUID], *, claim: datetime, attempts: int, at: datetime, error: str
    ) -> None:
        """Record a failed attempt: due again at ``at``, having been tried ``attempts`` times."""
        await self._set(ids, _held(claim), state=WebhookState.received,
                        attempts=attempts, next_attempt_at=at, last_error=error)  # fmt: skip

    async def fail(
        self, ids: Iterable[uuid.UUID], *, claim: datetime, attempts: int, error: str
    ) -> None:
        """Give up on events of ``claim`` after their last attempt."""
        await self._set(ids, _held(claim), state=WebhookState.failed,
                        attempts=attempts, next_attempt_at=None, last_error=error)  # fmt: skip

    async def assign_tenant(self, ids: Iterable[uuid.UUID], tenant_id: uuid.UUID) -> None:
        """Note which tenant events concern (for the tenant's error log)."""
        await self._set(ids, None, tenant_id=tenant_id)

    async def _set(
        self, ids: Iterable[uuid.UUID], condition: ColumnElement[bool] | None, **values: Any
    ) -> None:
        wanted = list(ids)
        if not wanted:
            return
        where: ColumnElement[bool] = WebhookEvent.id.in_(wanted)
        if condition is not None:
            where = and_(where, condition)
        statement = update(WebhookEvent).where(where).values(**values)
        await self.session.execute(statement.execution_options(synchronize_session=False))

    async def hubspot_connections(self) -> list[HubSpotConnectionRow]:
        """Every HubSpot connection of every tenant (few: one per portal and tenant)."""
        rows = await self.session.execute(
            select(Connection.id, Connection.tenant_id, Connection.hub_id, Connection.config)
            .where(Connection.kind == ConnectionKind.hubspot)
        )  # fmt: skip
        return [HubSpotConnectionRow(*row) for row in rows]

    async def active_interfaces(
        self, connection_ids: Iterable[uuid.UUID]
    ) -> list[ActiveInterfaceRow]:
        """The active interfaces on ``connection_ids`` that have an approved mapping version."""
        wanted = list(connection_ids)
        if not wanted:
            return []
        statement = (
            select(
                Interface.id, Interface.tenant_id, Interface.hubspot_connection_id, MappingVersion
            )
            .join(MappingVersion, MappingVersion.id == Interface.active_mapping_version_id)
            .where(
                Interface.state == InterfaceState.active,
                Interface.hubspot_connection_id.in_(wanted),
                MappingVersion.interface_id == Interface.id,
                MappingVersion.approved_at.is_not(None),
            )
        )
        return [ActiveInterfaceRow(*row) for row in await self.session.execute(statement)]


def _held(claim: datetime) -> ColumnElement[bool]:
    """Still under ``claim`` (its lapse time is the claim's token): once a claim has lapsed and
    another process has claimed the event again, the first claimer can no longer settle it."""
    return and_(
        WebhookEvent.state == WebhookState.processing, WebhookEvent.next_attempt_at == claim
    )


def _claimable(now: datetime) -> ColumnElement[bool]:
    """Due now, and not held: received, or processing under a claim that has lapsed."""
    return and_(
        WebhookEvent.state.in_((WebhookState.received, WebhookState.processing)),
        WebhookEvent.next_attempt_at <= now,
    )
