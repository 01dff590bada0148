"""The HubSpot → source pipeline of one object mapping.

HubSpot's changes are read with the modified-since search from the stored
HubSpot cursor (epoch ms), starting an overlap window earlier to catch records
the search index had not seen yet; re-reading them costs nothing, because a
record whose mapped values hash as the link's HubSpot side is an echo (hubsync's
own write, or nothing new) and is only counted. The rest is merged field by
field against the link's baselines; the source gets ``Decision.to_source`` via
the connector (one result per record), and links, items and the cursor are
committed together per batch of 100. Records archived in HubSpot follow after
(``hubspot_archived``), when the mapping's policy asks for it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.connectors.base import WriteOutcome, WriteResult
from app.connectors.hubspot.batch import BATCH_SIZE
from app.connectors.hubspot.models import CrmObject
from app.core.db import session_scope
from app.models import RecordLink
from app.models.enums import ItemAction, SyncDirection
from app.sync.engine.counts import Outcome
from app.sync.engine.echo import EchoGuard, Seen
from app.sync.engine.hubspot_archived import follow_archived, follow_archived_ids
from app.sync.engine.mapper import RecordMapper, json_safe
from app.sync.engine.merge import Decision, Pair, merge
from app.sync.engine.recorder import ItemError, Recorder
from app.sync.engine.repository import CursorRepository, ItemRepository, LinkRepository
from app.sync.engine.state import (
    HUBSPOT_OVERLAP_MS,
    Link,
    NewLink,
    RunContext,
    baseline,
    insert_links,
    new_link,
    store_baseline,
)
from app.sync.mapping.model import ObjectMapping

DIRECTION = SyncDirection.from_hubspot


@dataclass(frozen=True, slots=True)
class _Change:
    key: str
    record: CrmObject
    decision: Decision
    link: RecordLink | None


class FromHubSpot:
    """Runs one object mapping from HubSpot to the source."""

    def __init__(self, context: RunContext, mapping: ObjectMapping) -> None:
        self.context = context
        self.mapping = mapping
        self.mapper = RecordMapper(mapping)
        self.recorder = Recorder(context.run, mapping.name, DIRECTION, context.counts)
        self.key_rule = next((r for r in mapping.fields if r.source == mapping.source.key), None)
        self.cursor: dict[str, Any] = {}  # since_ms: changes read; archived_ms: archivals
        self.new_links: list[NewLink] = []  # the batch's first-time pairs, inserted together
        self.has_failures = True  # earlier runs left failures to resolve (checked per run)
        self.properties = list(dict.fromkeys([*self.mapper.properties, mapping.hubspot.match]))

    async def run(self) -> None:
        """Read HubSpot's changes since the cursor and apply them to the source, batch by
        batch; then retry earlier failures not read again, and follow archivals. A retry
        run on request handles only the chosen failures."""
        self.cursor = await self._cursor()
        failed = await self._open_failures()
        only = self.context.hooks.only
        if only is not None:
            wanted = only.keys_of(self.mapping.name)
            ids = {hubspot_id for key, hubspot_id in failed.items() if key in wanted}
            await self._retry(sorted(ids | only.ids_of(self.mapping.name)))
            return
        seen = await self._read_changes()
        await self._retry([hubspot_id for hubspot_id in failed.values() if hubspot_id not in seen])
        await follow_archived(self.context, self.mapping, self.recorder, self.cursor)

    async def _read_changes(self) -> set[str]:
        """Every change since the cursor (less an overlap); returns the HubSpot ids read."""
        since = int(self.cursor.get("since_ms", 0))
        overlap = HUBSPOT_OVERLAP_MS if since else 0
        search = self.context.hubspot.search.iter_modified_since
        seen: set[str] = set()
        batch: list[CrmObject] = []
        async for record in search(
            self.mapping.hubspot.object, since, self.properties, overlap_ms=overlap
        ):
            batch.append(record)
            seen.add(record.id)
            if len(batch) == BATCH_SIZE:
                await self._batch(batch)
                batch = []
                self.context.checkpoint()
        if batch:
            await self._batch(batch)
        return seen

    async def _retry(self, hubspot_ids: Sequence[str]) -> None:
        """Read chosen records again by id and apply them (cursor untouched); those that are
        gone follow the deletion policy."""
        if not hubspot_ids:
            return
        objects = self.context.hubspot.objects
        found = await objects.batch_read(
            self.mapping.hubspot.object, hubspot_ids, properties=self.properties
        )
        records = [success.result for success in found.succeeded]
        for start in range(0, len(records), BATCH_SIZE):
            await self._batch(records[start : start + BATCH_SIZE], advance=False)
            self.context.checkpoint()
        gone = [failure.input for failure in found.failed]  # archived or deleted since
        await follow_archived_ids(self.context, self.mapping, self.recorder, gone)

    async def _open_failures(self) -> dict[str, str]:
        """Earlier failed items of this mapping and direction: source key → HubSpot id."""
        async with session_scope(self.context.sessions) as session:
            items = await ItemRepository.scoped(session, self.context.scope).open_failures(
                self.context.interface_id, self.mapping.name, DIRECTION
            )
        self.has_failures = bool(items)
        return {i.source_key: i.hubspot_id for i in items if i.source_key and i.hubspot_id}

    async def _batch(self, records: Sequence[CrmObject], *, advance: bool = True) -> None:
        async with session_scope(self.context.sessions) as session:
            repo = LinkRepository.scoped(session, self.context.scope)
            links = await repo.by_hubspot_ids(
                self.context.interface_id, self.mapping.name, [r.id for r in records]
            )
            changes = [c for r in records if (c := self._decide(r, links.get(r.id))) is not None]
            await self._write(changes)
            new, self.new_links = self.new_links, []
            await insert_links(session, new)
            await self.recorder.write(session)
            if self.context.dry_run:
                return
            if self.has_failures:  # what was dealt with again settles its earlier failures
                keys = {link.source_key for link in links.values()} | {c.key for c in changes}
                items = ItemRepository.scoped(session, self.context.scope)
                await items.resolve(self.context.run, self.mapping.name, DIRECTION, keys)
            if advance:
                await self._advance(session, records)

    def _decide(self, record: CrmObject, link: RecordLink | None) -> _Change | None:
        values = self.mapper.hubspot_values(record)
        if link is not None and link.hubspot_hash is not None:
            guard = EchoGuard(link.hubspot_hash, link.hubspot_modified_at)
            seen = guard.classify(values, record.updated_at)
            if seen is not Seen.changed:
                self.recorder.count(Outcome.unchanged if seen is Seen.echo else Outcome.skipped)
                return None
        key = link.source_key if link is not None else self._key(values)
        if key is None:
            self.recorder.count(Outcome.skipped)
            return None
        pair = Pair(None, values, baseline(link), None, record.updated_at)
        return _Change(key, record, merge(self.mapping, pair, self.mapper.reverse), link)

    def _key(self, values: dict[str, Any]) -> str | None:
        if self.key_rule is None or not values.get(self.key_rule.hubspot):
            return None
        return str(self.mapper.reverse(self.key_rule, values[self.key_rule.hubspot]))

    async def _write(self, changes: Sequence[_Change]) -> None:
        for change in [c for c in changes if not c.decision.to_source]:
            self._linked(change)
            self.recorder.count(Outcome.unchanged)
        pending = [c for c in changes if c.decision.to_source]
        if not pending:
            return
        records = [{self.mapping.source.key: c.key, **c.decision.to_source} for c in pending]
        if self.context.dry_run:
            results = [WriteResult(c.key, _would(c)) for c in pending]
        else:
            results = await self.context.connector.write(self.mapping.source.object, records)
        for change, record, result in zip(pending, records, results, strict=True):
            self._record(change, record, result)

    def _record(self, change: _Change, record: dict[str, Any], result: WriteResult) -> None:
        action = ItemAction.create if change.link is None else ItemAction.update
        payload: dict[str, Any] = {"values": json_safe(record)}
        if change.decision.conflicts:
            payload["conflicts"] = [c.to_json() for c in change.decision.conflicts]
        if not result.ok:
            error = ItemError(result.reason or "the source refused the record")
            self.recorder.item(
                action, change.key, hubspot_id=change.record.id, payload=payload, error=error,
                failed=True,
            )  # fmt: skip
            return
        self._linked(change)
        self.recorder.item(action, change.key, hubspot_id=change.record.id, payload=payload)

    def _linked(self, change: _Change) -> None:
        if self.context.dry_run:
            return
        link: Link | None = change.link
        if link is None:
            link = new_link(self.context, self.mapping.name, change.key)
            self.new_links.append(link)
        link.hubspot_id = change.record.id
        store_baseline(link, change.decision.synced, hubspot_modified=change.record.updated_at)

    async def _cursor(self) -> dict[str, Any]:
        async with session_scope(self.context.sessions) as session:
            repo = CursorRepository.scoped(session, self.context.scope)
            stored = await repo.find(self.context.interface_id, self.mapping.name, DIRECTION)
        return dict(stored.value) if stored is not None and stored.value else {}

    async def _advance(self, session: AsyncSession, records: Sequence[CrmObject]) -> None:
        stamps = [r.updated_at for r in records if r.updated_at is not None]
        if not stamps:
            return
        self.cursor["since_ms"] = int(max(stamps).timestamp() * 1000)
        repo = CursorRepository.scoped(session, self.context.scope)
        await repo.put(self.context.run, self.mapping.name, DIRECTION, dict(self.cursor))


def _would(change: _Change) -> WriteOutcome:
    return WriteOutcome.created if change.link is None else WriteOutcome.updated
