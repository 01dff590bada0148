"""What every stage of a run shares, and the record link as the merge sees it."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.connectors.base import Connector
from app.connectors.hubspot.client import HubSpotClient
from app.core.db import SessionFactory
from app.core.tenancy import TenantScope
from app.models import RecordLink, SyncRun
from app.models.base import utcnow
from app.sync.engine.bulk import insert_rows
from app.sync.engine.counts import RunCounts
from app.sync.engine.hashing import Snapshot, canonical, snapshot_hash
from app.sync.engine.ids import uuid7
from app.sync.engine.merge import Baseline
from app.sync.mapping.model import MappingTable, ObjectMapping

HUBSPOT_OVERLAP_MS = 60_000  # search index lag: re-read this much before the HubSpot cursor


class RunStopped(Exception):
    """The process is shutting down (or lost the run's lease): stop after the committed batch."""


@dataclass(frozen=True, slots=True)
class RunHooks:
    """How the process running a run takes part in it: who runs it, when it was planned,
    when to stop between batches, and who wants to know the run row as soon as it exists."""

    worker: str | None = None  # the lease holder running it
    planned_at: datetime | None = None  # when the schedule wanted it (queue delay)
    should_stop: Callable[[], bool] = lambda: False
    on_started: Callable[[SyncRun], None] | None = None
    only: Selection | None = None  # just these records (a retry, a webhook), nothing read


@dataclass(frozen=True, slots=True)
class Selection:
    """The records a targeted run handles, per object mapping; it reads nothing else and
    leaves the cursors alone: a retry names failed items' source keys, a webhook the
    HubSpot ids that changed (or were deleted)."""

    source_keys: Mapping[str, frozenset[str]] = field(default_factory=dict)
    hubspot_ids: Mapping[str, frozenset[str]] = field(default_factory=dict)

    def keys_of(self, mapping_name: str) -> frozenset[str]:
        """The source keys chosen for ``mapping_name``."""
        return self.source_keys.get(mapping_name, frozenset())

    def ids_of(self, mapping_name: str) -> frozenset[str]:
        """The HubSpot ids chosen for ``mapping_name``."""
        return self.hubspot_ids.get(mapping_name, frozenset())


@dataclass(slots=True)
class RunContext:
    """One run's inputs and running totals, passed to each object mapping's pipeline."""

    table: MappingTable
    connector: Connector[Any]
    hubspot: HubSpotClient
    sessions: SessionFactory
    run: SyncRun
    dry_run: bool = False
    counts: RunCounts = field(default_factory=RunCounts)
    hooks: RunHooks = field(default_factory=RunHooks)
    suppression_keys: tuple[bytes, ...] = ()  # the privacy suppression list's, newest first

    def checkpoint(self) -> None:
        """Called after each committed batch: stop here if the process asked to."""
        if self.hooks.should_stop():
            raise RunStopped

    @property
    def scope(self) -> TenantScope:
        """The tenant every query of the run is limited to."""
        return TenantScope.only(self.run.tenant_id)

    @property
    def interface_id(self) -> uuid.UUID:
        """The interface being run."""
        return self.run.interface_id


def baseline(link: RecordLink | None) -> Baseline | None:
    """The per-side values the link holds from the last sync (None: a new pair)."""
    if link is None or (link.source_values is None and link.hubspot_values is None):
        return None
    return Baseline(source=dict(link.source_values or {}), hubspot=dict(link.hubspot_values or {}))


def store_baseline(
    link: Link,
    synced: Baseline,
    *,
    source_modified: datetime | None = None,
    hubspot_modified: datetime | None = None,
    synced_at: datetime | None = None,
) -> None:
    """Keep ``synced`` on the link with its hashes: the next run's baseline and echo guard.

    ``synced_at`` (default: now) lets a batch give all its links one moment, which the
    bulk insert then converts once.
    """
    link.source_values = dict(synced.source)
    link.hubspot_values = dict(synced.hubspot)
    link.source_hash = snapshot_hash(synced.source)
    # both sides usually hold the same values after a write: hash them once
    same = synced.hubspot == synced.source
    link.hubspot_hash = link.source_hash if same else snapshot_hash(synced.hubspot)
    if source_modified is not None:
        link.source_modified_at = source_modified
    if hubspot_modified is not None:
        link.hubspot_modified_at = hubspot_modified
    link.last_synced_at = synced_at or utcnow()


@dataclass(slots=True)
class NewLink:
    """A link row for a pair seen for the first time, inserted in bulk with its batch.

    A plain object rather than a ``RecordLink`` instance: the ORM's per-attribute
    instrumentation is a large share of the per-record cost of an initial sync,
    and new links never need the session. Its fields are exactly the table's columns.
    """

    id: uuid.UUID
    tenant_id: uuid.UUID
    interface_id: uuid.UUID
    object_name: str
    source_key: str
    hubspot_id: str | None = None
    source_hash: str | None = None
    hubspot_hash: str | None = None
    source_values: dict[str, Any] | None = None
    hubspot_values: dict[str, Any] | None = None
    associations: dict[str, str] | None = None
    source_modified_at: datetime | None = None
    hubspot_modified_at: datetime | None = None
    last_synced_at: datetime = field(default_factory=utcnow)

    def row(self) -> dict[str, Any]:
        """The values to insert, by column name."""
        return {name: getattr(self, name) for name in NEW_LINK_COLUMNS}


NEW_LINK_COLUMNS = tuple(f.name for f in fields(NewLink))
Link = RecordLink | NewLink  # a stored link, or one this batch inserts


def new_link(context: RunContext, object_name: str, key: str) -> NewLink:
    """A link for a pair seen for the first time (inserted by ``insert_links``)."""
    run = context.run
    return NewLink(uuid7(), run.tenant_id, run.interface_id, object_name, key)


async def insert_links(session: AsyncSession, links: Sequence[NewLink]) -> None:
    """Insert new ``links`` in one statement."""
    if links:
        table = RecordLink.metadata.tables[RecordLink.__tablename__]
        await insert_rows(session, table, [link.row() for link in links])  # Core: no ORM cost


def with_returned(
    snap: Snapshot, sent: dict[str, str], returned: dict[str, str | None]
) -> Snapshot:
    """HubSpot's side after a write: the values sent, as HubSpot stored them (normalised)."""
    after = dict(snap)
    for name in sent:
        value = canonical(returned.get(name)) if name in returned else sent[name]
        if value:
            after[name] = value
        else:
            after.pop(name, None)
    return after


def moves_associations(mapping: ObjectMapping, refs: dict[str, str], link: Link) -> bool:
    """Whether the references ``refs`` differ from what ``link`` was last associated with."""
    return bool(mapping.associations) and refs != (link.associations or {})
