"""The source → HubSpot pipeline of one object mapping, batch by batch.

Per batch read from the connector: map each record (a record the rules refuse
fails alone), look up the batch's links in one query, skip what is unchanged
(the mapped hash equals the link's source hash) or an echo, merge the rest with
the link's baseline, upsert by the match property, associate, apply the
deletion policy, then commit links, items and the cursor together. HubSpot
writes happen before that commit: a crash in between leaves the cursor where it
was, the next run re-reads the batch, and the upsert by match property finds
the records already there — nothing lost, nothing duplicated.

Retries: after the read, the open failures of earlier runs whose keys this run
did not read again are read from the source by key (``read_keys``) as they are
now, mapped with the run's mapping and sent once more (forced past the
unchanged check); a key the source no longer has follows the deletion policy.
Every record processed again resolves its earlier failures.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app.connectors.base import Cursor as ReadCursor
from app.connectors.base import Record, UnreadableRecord
from app.connectors.hubspot.models import CrmObject
from app.core.db import session_scope
from app.models import RecordLink
from app.models.enums import ItemAction, SyncDirection
from app.sync.engine.associating import associate
from app.sync.engine.counts import Outcome
from app.sync.engine.echo import EchoGuard, Seen
from app.sync.engine.mapper import MappingFailure, RecordMapper, json_safe
from app.sync.engine.merge import Decision, Pair, first_sync, merge
from app.sync.engine.recorder import ItemError, Recorder
from app.sync.engine.repository import CursorRepository, ItemRepository, LinkRepository
from app.sync.engine.state import (
    NewLink,
    RunContext,
    baseline,
    insert_links,
    moves_associations,
)
from app.sync.engine.to_hubspot_writes import (
    Write,
    delete_in_hubspot,
    upsert,
    write_back,
)
from app.sync.mapping.model import Direction, ObjectMapping
from app.sync.privacy.suppressions import Suppressor, load_suppressor

DIRECTION = SyncDirection.to_hubspot
logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class _Mapped:
    key: str
    record: Record
    values: dict[str, str]
    modified: datetime | None
    refs: dict[str, str]


class ToHubSpot:
    """Runs one object mapping from the source to HubSpot."""

    def __init__(self, context: RunContext, mapping: ObjectMapping) -> None:
        self.context = context
        self.mapping = mapping
        self.mapper = RecordMapper(mapping)
        self.recorder = Recorder(context.run, mapping.name, DIRECTION, context.counts)
        self.open_failures = True  # earlier runs left failures to resolve (checked per run)
        self.suppressed: Suppressor | None = None  # the privacy suppression list, if any

    async def run(self) -> None:
        """Read every change since the cursor, then retry earlier failures not read again
        (a retry run on request: only the chosen failures, nothing read)."""
        context = self.context
        self.suppressed = await load_suppressor(
            context.sessions,
            context.scope,
            context.interface_id,
            self.mapping,
            context.suppression_keys,
        )
        retries = await self._open_failures()
        only = self.context.hooks.only
        if only is not None:
            retries &= only.keys_of(self.mapping.name)
        else:
            await self._read_changes(retries)
        await self._retry(retries)
        if self.suppressed is not None and self.suppressed.hits:
            logger.info(
                "run %s, %s: %d records skipped, on the privacy suppression list",
                context.run.id, self.mapping.name, self.suppressed.hits,
            )  # fmt: skip

    async def _read_changes(self, retries: set[str]) -> None:
        """Every change since the cursor; what is read again leaves ``retries``."""
        since = await self._cursor()
        source = self.mapping.source
        async for batch in self.context.connector.read(source.object, since):
            for record in batch.records:
                retries.discard(str(record.get(source.key)))
            retries.difference_update(batch.deleted)
            await self._batch(batch.records, batch.deleted, batch.unreadable, batch.cursor)
            self.context.checkpoint()

    async def _batch(
        self,
        records: Sequence[Record],
        deleted: Sequence[str],
        unreadable: Sequence[UnreadableRecord],
        cursor: ReadCursor | None,
        *,
        force: bool = False,
    ) -> None:
        suppressed = self.suppressed
        for bad in unreadable:
            if suppressed and bad.key and self._skip(suppressed.blocks_key(bad.key)):
                continue
            payload = {"record": json_safe(bad.raw)}
            self.recorder.item(
                ItemAction.skip, bad.key, payload=payload, error=ItemError(bad.reason), failed=True
            )
        mapped = self._map(records)
        keys = [m.key for m in mapped]
        async with session_scope(self.context.sessions) as session:
            repo = LinkRepository.scoped(session, self.context.scope)
            links = await repo.by_source_keys(
                self.context.interface_id, self.mapping.name, [*keys, *deleted]
            )
            writes = await self._plan(mapped, links, force)
            written = await upsert(self.context, self.mapping, self.recorder, writes)
            await write_back(self.context, self.mapping, self.recorder, written)
            await associate(self.context, self.mapping, self.recorder, session, written)
            await insert_links(session, [w.link for w in written if isinstance(w.link, NewLink)])
            await delete_in_hubspot(
                self.context, self.mapping, self.recorder, session, deleted, links
            )
            done = [*keys, *deleted, *(r.key for r in unreadable if r.key)]
            await self._commit(session, done, cursor)

    def _map(self, records: Sequence[Record]) -> list[_Mapped]:
        mapped: list[_Mapped] = []
        suppressed, match = self.suppressed, self.mapping.hubspot.match
        for record in records:
            if not self.mapper.accepts(record):
                self.recorder.count(Outcome.skipped)
                continue
            key = self.mapper.key(record)
            if suppressed and self._skip(suppressed.blocks_key(key)):
                continue
            try:
                values = self.mapper.to_hubspot(record)
            except MappingFailure as exc:
                if suppressed and self._skip(self._names_suppressed(suppressed, record)):
                    continue
                payload = {"record": json_safe(record)}
                self.recorder.item(
                    ItemAction.update, key, payload=payload, error=ItemError(str(exc)), failed=True
                )
                continue
            if suppressed and self._skip(suppressed.blocks_match(values.get(match))):
                continue
            refs = self.mapper.references(record)
            mapped.append(_Mapped(key, record, values, self._modified(record), refs))
        return mapped

    def _names_suppressed(self, suppressed: Suppressor, record: Record) -> bool:
        """Whether a record whose mapping failed names a suppressed person by its match
        value: its failed item would keep the person's data again."""
        return any(suppressed.blocks_match(v) for v in self.mapper.match_values(record))

    def _skip(self, suppressed: bool) -> bool:
        """A record the privacy suppression list names (by source key or match value) is
        counted skipped and gets no item, which would store the person's data again."""
        if suppressed:
            self.recorder.count(Outcome.skipped)
        return suppressed

    def _modified(self, record: Record) -> datetime | None:
        field = self.mapping.source.updated
        value = record.get(field) if field else None
        if isinstance(value, str):
            try:
                return datetime.fromisoformat(value)
            except ValueError:
                return None
        return value if isinstance(value, datetime) else None

    async def _plan(
        self, mapped: Sequence[_Mapped], links: dict[str, RecordLink], force: bool
    ) -> list[Write]:
        changed = [m for m in mapped if force or not self._unchanged(links.get(m.key), m)]
        current = await self._hubspot_side([links[m.key] for m in changed if m.key in links])
        writes: list[Write] = []
        for item in changed:
            link = links.get(item.key)
            decision = self._decide(item, link, current)
            changes = dict(item.values) if force else dict(decision.to_hubspot)
            write = Write(item.key, item.record, changes, decision, link, item.modified, item.refs)
            writes.append(write)
        return writes

    def _decide(
        self, item: _Mapped, link: RecordLink | None, current: dict[str, CrmObject]
    ) -> Decision:
        """The merge of one changed record; a new pair (only values that flow to HubSpot,
        nothing on the HubSpot side) needs no field-by-field comparison."""
        if link is None:
            return first_sync(item.values)
        hubspot = current.get(str(link.hubspot_id))
        pair = Pair(
            source=item.values,
            hubspot=self.mapper.hubspot_values(hubspot) if hubspot else None,
            synced=baseline(link),
            source_modified=item.modified,
            hubspot_modified=hubspot.updated_at if hubspot else None,
        )
        return merge(self.mapping, pair, self.mapper.reverse)

    async def _hubspot_side(self, links: Sequence[RecordLink]) -> dict[str, CrmObject]:
        """For ``both`` mappings: HubSpot's current values of changed pairs, to merge with."""
        ids = [str(link.hubspot_id) for link in links if link.hubspot_id]
        if self.mapping.direction is not Direction.both or not ids:
            return {}
        objects = self.context.hubspot.objects
        found = await objects.batch_read(
            self.mapping.hubspot.object, ids, properties=self.mapper.properties
        )
        return {s.input: s.result for s in found.succeeded}

    def _unchanged(self, link: RecordLink | None, item: _Mapped) -> bool:
        """Unchanged since the last sync, an echo of hubsync's own write, or a stale read."""
        if link is None or link.source_hash is None or link.hubspot_id is None:
            return False
        if moves_associations(self.mapping, item.refs, link):
            return False
        seen = EchoGuard(link.source_hash, link.source_modified_at).classify(
            item.values, item.modified
        )
        if seen is Seen.changed:
            return False
        self.recorder.count(Outcome.unchanged if seen is Seen.echo else Outcome.skipped)
        return True

    async def _commit(
        self, session: AsyncSession, keys: Sequence[str], cursor: ReadCursor | None
    ) -> None:
        await self.recorder.write(session)
        if self.context.dry_run:
            return
        if self.open_failures:
            items = ItemRepository.scoped(session, self.context.scope)
            await items.resolve(self.context.run, self.mapping.name, DIRECTION, keys)
        if cursor is not None:
            await self._advance(session, cursor)

    async def _advance(self, session: AsyncSession, value: ReadCursor) -> None:
        repo = CursorRepository.scoped(session, self.context.scope)
        await repo.put(self.context.run, self.mapping.name, DIRECTION, dict(value))

    async def _cursor(self) -> ReadCursor | None:
        async with session_scope(self.context.sessions) as session:
            repo = CursorRepository.scoped(session, self.context.scope)
            stored = await repo.find(self.context.interface_id, self.mapping.name, DIRECTION)
        return dict(stored.value) if stored is not None and stored.value else None

    async def _open_failures(self) -> set[str]:
        """The source keys of earlier runs' open failures (and whether there are any)."""
        async with session_scope(self.context.sessions) as session:
            repo = ItemRepository.scoped(session, self.context.scope)
            failed = await repo.open_failures(
                self.context.interface_id, self.mapping.name, DIRECTION
            )
        self.open_failures = bool(failed)
        return {item.source_key for item in failed if item.source_key}

    async def _retry(self, keys: Collection[str]) -> None:
        """Send the records of ``keys`` again as they are in the source now, not as they
        failed, forced past the unchanged check; keys the source no longer has follow the
        deletion policy. The cursor stays where it is."""
        if not keys:
            return
        source = self.mapping.source.object
        async for batch in self.context.connector.read_keys(source, sorted(keys)):
            await self._batch(batch.records, batch.deleted, batch.unreadable, None, force=True)
            self.context.checkpoint()
