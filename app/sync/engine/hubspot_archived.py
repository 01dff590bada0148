"""Records archived in HubSpot, followed in the source by the mapping's ``hubspot_deleted`` policy.

HubSpot's search never returns archived records, so the HubSpot → source
pipeline lists them (``archived=true``) after reading the changes, and only
when the policy asks for something: an ``ignore`` policy costs no API call.
Records archived before the stored watermark (less an overlap for clock skew)
are passed over; the rest that hubsync linked get the policy's step in the
source — the connector's delete for ``archive``/``delete``, ``flag_field`` set
for ``flag`` — and the link is forgotten once the source confirmed. Each page is
committed with the watermark, so a crash repeats at most one page, and deleting
twice is harmless.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.connectors.base import WriteOutcome, WriteResult
from app.core.db import session_scope
from app.models import RecordLink
from app.models.enums import ItemAction, SyncDirection
from app.sync.engine.deletion import DeletionEvent, DeletionPlan, DeletionStep, plan_deletion
from app.sync.engine.recorder import ItemError, Recorder
from app.sync.engine.repository import CursorRepository, LinkRepository
from app.sync.engine.state import HUBSPOT_OVERLAP_MS, RunContext
from app.sync.mapping.model import ObjectMapping

WATERMARK = "archived_ms"  # the key of the watermark in the from-HubSpot cursor


async def follow_archived(
    context: RunContext, mapping: ObjectMapping, recorder: Recorder, cursor: dict[str, Any]
) -> None:
    """Apply the policy to every linked record archived in HubSpot since ``cursor``'s watermark.

    ``cursor`` (the from-HubSpot cursor value) gets the new watermark; the caller stores it.
    """
    plan = plan_deletion(mapping, DeletionEvent.hubspot_archived)
    if plan.step is DeletionStep.ignore:
        return
    since = int(cursor.get(WATERMARK, 0))
    floor = since - HUBSPOT_OVERLAP_MS if since else 0
    pages = context.hubspot.objects.iter_pages(mapping.hubspot.object, archived=True)
    async for page in pages:
        archived = [r for r in page.results if _millis(r.archived_at) > floor]
        if not archived:
            continue
        async with session_scope(context.sessions) as session:
            repo = LinkRepository.scoped(session, context.scope)
            links = await repo.by_hubspot_ids(
                context.interface_id, mapping.name, [r.id for r in archived]
            )
            done = await _apply(context, mapping, recorder, plan, list(links.values()))
            await recorder.write(session)
            if context.dry_run:
                continue
            await repo.remove(done)
            newest = max(_millis(r.archived_at) for r in archived)
            cursor[WATERMARK] = max(since, newest)
            await _store(context, mapping, session, cursor)


async def follow_archived_ids(
    context: RunContext, mapping: ObjectMapping, recorder: Recorder, hubspot_ids: Sequence[str]
) -> None:
    """Apply the policy to the linked records of ``hubspot_ids``, known to be gone from HubSpot
    (a deletion webhook, or a targeted read that found nothing)."""
    plan = plan_deletion(mapping, DeletionEvent.hubspot_archived)
    if plan.step is DeletionStep.ignore or not hubspot_ids:
        return
    async with session_scope(context.sessions) as session:
        repo = LinkRepository.scoped(session, context.scope)
        links = await repo.by_hubspot_ids(context.interface_id, mapping.name, hubspot_ids)
        done = await _apply(context, mapping, recorder, plan, list(links.values()))
        await recorder.write(session)
        if not context.dry_run:
            await repo.remove(done)


async def _apply(
    context: RunContext,
    mapping: ObjectMapping,
    recorder: Recorder,
    plan: DeletionPlan,
    links: Sequence[RecordLink],
) -> list[RecordLink]:
    """Carry out ``plan`` for ``links``; the links whose source record is gone (to forget)."""
    if not links:
        return []
    source = mapping.source
    keys = [link.source_key for link in links]
    payload: dict[str, Any] = {"step": str(plan.step), "values": dict(plan.values)}
    if context.dry_run:
        results = [WriteResult(key, WriteOutcome.deleted) for key in keys]
    elif plan.step is DeletionStep.flag:
        records = [{source.key: key, **plan.values} for key in keys]
        results = await context.connector.write(source.object, records)
    else:
        results = await context.connector.delete(source.object, keys)
    gone: list[RecordLink] = []
    for link, result in zip(links, results, strict=True):
        error = None if result.ok else ItemError(result.reason or "the source refused the deletion")
        recorder.item(
            ItemAction.delete, link.source_key, hubspot_id=link.hubspot_id, payload=payload,
            error=error, failed=error is not None,
        )  # fmt: skip
        if result.ok and plan.step is not DeletionStep.flag:
            gone.append(link)
    return gone


async def _store(
    context: RunContext, mapping: ObjectMapping, session: AsyncSession, cursor: dict[str, Any]
) -> None:
    repo = CursorRepository.scoped(session, context.scope)
    await repo.put(context.run, mapping.name, SyncDirection.from_hubspot, dict(cursor))


def _millis(moment: datetime | None) -> int:
    return int(moment.timestamp() * 1000) if moment is not None else 0
