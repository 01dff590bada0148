"""HubSpot writes of the source → HubSpot pipeline: upserts, associations and deletions.

Each function writes one batch and turns HubSpot's per-input results into
record links and run items; in a dry run it writes nothing and reports what it
would have sent instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.connectors.base import Record, WriteOutcome, WriteResult
from app.connectors.hubspot.batch import BatchResult
from app.connectors.hubspot.models import CrmObject
from app.connectors.hubspot.objects import RecordInput
from app.models import RecordLink
from app.models.base import utcnow
from app.models.enums import ItemAction
from app.sync.engine.counts import Outcome
from app.sync.engine.deletion import DeletionEvent, DeletionStep, plan_deletion
from app.sync.engine.mapper import json_safe
from app.sync.engine.merge import Baseline, Decision
from app.sync.engine.recorder import ItemError, Recorder
from app.sync.engine.repository import LinkRepository
from app.sync.engine.state import (
    Link,
    RunContext,
    moves_associations,
    new_link,
    store_baseline,
    with_returned,
)
from app.sync.mapping.model import ObjectMapping
from app.sync.privacy.erasure import erase_in_hubspot


@dataclass(frozen=True, slots=True)
class Write:
    """One record to send: its changed HubSpot values and the merge decision behind them."""

    key: str
    record: Record
    changes: dict[str, str]
    decision: Decision
    link: RecordLink | None
    modified: datetime | None
    refs: dict[str, str]  # per association rule: the other record's source key


@dataclass(frozen=True, slots=True)
class Written:
    """A record HubSpot accepted, with its link (for associations)."""

    record: Record
    link: Link
    write: Write
    sent: bool = True  # False: nothing flowed to HubSpot, only the baseline moved


async def upsert(
    context: RunContext,
    mapping: ObjectMapping,
    recorder: Recorder,
    writes: Sequence[Write],
) -> list[Written]:
    """Upsert ``writes`` by the match property; links and items from per-input results."""
    match = mapping.hubspot.match
    inputs: dict[int, tuple[RecordInput, Write]] = {}
    settled: list[Written] = []
    for write in writes:
        value = write.decision.synced.source.get(match, "")
        if not value:
            error = ItemError(f"the match property {match!r} is empty")
            _fail(recorder, write, error)
        elif set(write.changes) - {match} or write.link is None or write.link.hubspot_id is None:
            record_input = RecordInput({**write.changes, match: value}, id=value, id_property=match)
            inputs[id(record_input)] = (record_input, write)
        else:  # only fields that do not flow to HubSpot changed: just keep the new baseline
            store_baseline(write.link, write.decision.synced, source_modified=write.modified)
            settled.append(Written(write.record, write.link, write, sent=False))
            if not write.decision.to_source and not moves_associations(
                mapping, write.refs, write.link
            ):  # otherwise the item of what did change tells
                recorder.count(Outcome.unchanged)
    if context.dry_run:
        for record_input, write in inputs.values():
            action = ItemAction.create if write.link is None else ItemAction.update
            hubspot_id = write.link.hubspot_id if write.link else None
            payload = _payload(record_input, write)
            recorder.item(action, write.key, hubspot_id=hubspot_id, payload=payload)
        return []
    if not inputs:
        return settled
    sent = [record_input for record_input, _ in inputs.values()]
    result = await context.hubspot.objects.batch_upsert(mapping.hubspot.object, sent)
    return settled + _upserted(context, mapping, recorder, inputs, result)


def _payload(record_input: RecordInput, write: Write) -> dict[str, Any]:
    payload: dict[str, Any] = {"properties": dict(record_input.properties)}
    if write.decision.conflicts:
        payload["conflicts"] = [c.to_json() for c in write.decision.conflicts]
    return payload


def _upserted(
    context: RunContext,
    mapping: ObjectMapping,
    recorder: Recorder,
    inputs: dict[int, tuple[RecordInput, Write]],
    result: BatchResult[RecordInput, CrmObject],
) -> list[Written]:
    for failure in result.failed:
        _fail(recorder, inputs[id(failure.input)][1], ItemError.from_batch(failure))
    written: list[Written] = []
    synced_at = utcnow()  # one moment for the batch
    for success in result.succeeded:
        record_input, write = inputs[id(success.input)]
        link: Link = write.link or new_link(context, mapping.name, write.key)  # new: bulk insert
        synced = write.decision.synced
        hubspot = with_returned(
            synced.hubspot, dict(record_input.properties), success.result.properties
        )
        store_baseline(
            link,
            Baseline(source=synced.source, hubspot=hubspot),
            source_modified=write.modified,
            hubspot_modified=success.result.updated_at,
            synced_at=synced_at,
        )
        link.hubspot_id = success.result.id
        created = success.result.new if success.result.new is not None else write.link is None
        action = ItemAction.create if created else ItemAction.update
        payload = _payload(record_input, write)
        recorder.item(action, write.key, hubspot_id=link.hubspot_id, payload=payload)
        written.append(Written(write.record, link, write))
    return written


def _fail(recorder: Recorder, write: Write, error: ItemError) -> None:
    action = ItemAction.create if write.link is None else ItemAction.update
    payload = {"record": json_safe(write.record), "properties": write.changes}
    recorder.item(action, write.key, payload=payload, error=error, failed=True)


async def write_back(
    context: RunContext,
    mapping: ObjectMapping,
    recorder: Recorder,
    written: Sequence[Written],
) -> None:
    """For ``both`` mappings: what HubSpot won in the merge, written to the source."""
    back = [w for w in written if w.write.decision.to_source]
    if not back:
        return
    key = mapping.source.key
    records = [{key: w.write.key, **w.write.decision.to_source} for w in back]
    if context.dry_run:
        results = [WriteResult(w.write.key, WriteOutcome.updated) for w in back]
    else:
        results = await context.connector.write(mapping.source.object, records)
    for done, record, result in zip(back, records, results, strict=True):
        payload: dict[str, Any] = {"source": json_safe(record)}
        if done.write.decision.conflicts:
            payload["conflicts"] = [c.to_json() for c in done.write.decision.conflicts]
        error = None if result.ok else ItemError(result.reason or "the source refused the record")
        recorder.item(ItemAction.update, done.write.key, hubspot_id=done.link.hubspot_id,
                      payload=payload, error=error, failed=not result.ok)  # fmt: skip


async def delete_in_hubspot(
    context: RunContext,
    mapping: ObjectMapping,
    recorder: Recorder,
    session: AsyncSession,
    deleted: Sequence[str],
    links: dict[str, RecordLink],
) -> None:
    """Apply the mapping's ``source_deleted`` policy to the HubSpot records of ``deleted``."""
    targets = [links[k] for k in deleted if k in links and links[k].hubspot_id]
    recorder.count(Outcome.skipped, len(deleted) - len(targets))
    plan = plan_deletion(mapping, DeletionEvent.source_deleted)
    if not targets or plan.step is DeletionStep.ignore:
        recorder.count(Outcome.skipped, len(targets))
        return
    if context.dry_run:
        payload = {"step": str(plan.step), "values": dict(plan.values)}
        for link in targets:
            recorder.item(
                ItemAction.delete, link.source_key, hubspot_id=link.hubspot_id, payload=payload
            )
        return
    if plan.step is DeletionStep.flag:
        await _flag(
            context, mapping, recorder, targets, {k: str(v) for k, v in plan.values.items()}
        )
        return
    if plan.step is DeletionStep.gdpr_delete:
        await erase_in_hubspot(context, mapping, recorder, session, targets)
        return
    ids = {str(link.hubspot_id): link for link in targets}
    result = await context.hubspot.objects.batch_archive(mapping.hubspot.object, list(ids))
    for failure in result.failed:
        link = ids[failure.input]
        error = ItemError.from_batch(failure)
        recorder.item(
            ItemAction.delete, link.source_key, hubspot_id=link.hubspot_id, error=error, failed=True
        )
    gone = [ids[s.input] for s in result.succeeded]
    for link in gone:
        recorder.item(ItemAction.delete, link.source_key, hubspot_id=link.hubspot_id)
    await LinkRepository.scoped(session, context.scope).remove(gone)


async def _flag(
    context: RunContext,
    mapping: ObjectMapping,
    recorder: Recorder,
    targets: Sequence[RecordLink],
    values: dict[str, str],
) -> None:
    inputs = {str(link.hubspot_id): link for link in targets}
    records = [RecordInput(values, id=hubspot_id) for hubspot_id in inputs]
    result = await context.hubspot.objects.batch_update(mapping.hubspot.object, records)
    for failure in result.failed:
        link = inputs[str(failure.input.id)]
        error = ItemError.from_batch(failure)
        recorder.item(
            ItemAction.delete,
            link.source_key,
            hubspot_id=link.hubspot_id,
            payload=values,
            error=error,
            failed=True,
        )
    for success in result.succeeded:
        link = inputs[str(success.input.id)]
        recorder.item(
            ItemAction.delete, link.source_key, hubspot_id=link.hubspot_id, payload=values
        )
