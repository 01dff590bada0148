"""hubsync's own GDPR delete: a person erased in the source is erased for good in HubSpot.

When a run sees a source record deleted and its object mapping says
``on_delete.source_deleted: gdpr_delete``, the linked HubSpot contact is
deleted permanently (``POST /crm/v3/objects/contacts/gdpr-delete``) instead of
archived, and recorded like a privacy deletion from HubSpot: one deletion
request per contact, in the same log, with HubSpot's outcome (``hubspot``) and
hubsync's purge (``hubsync``: the pair's record link, its run items, the
portal's webhook events about the contact), and the pair goes on the
suppression list (``suppressions``). hubsync's copy goes at once,
whether or not HubSpot confirmed, since the request holds the HubSpot id a
retry needs; a refusal leaves the request failed, told once and retried by
the scheduler (``erasure_retry``). A contact HubSpot no longer has counts as
erased.

It all happens in the run's batch transaction: the requests commit with the
batch, or none does and the next run, reading the batch again, erases again.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.connectors.hubspot.client import HubSpotClient
from app.connectors.hubspot.errors import HubSpotError, NotFound
from app.models import DeletionRequest, RecordLink
from app.models.base import utcnow
from app.models.enums import DeletionState
from app.sync.engine.counts import Outcome
from app.sync.engine.recorder import Recorder
from app.sync.engine.state import RunContext
from app.sync.mapping.model import ObjectMapping
from app.sync.privacy.outcomes import (
    GDPR_POLICY,
    HUBSPOT,
    HUBSYNC,
    SystemState,
    hubspot_outcome,
    hubsync_outcome,
    retry_delay,
)
from app.sync.privacy.repository import DeletionRequestRepository, PurgeRepository, portal_of
from app.sync.privacy.settle import Conclusion, settle_attempt
from app.sync.privacy.suppressions import suppress
from app.sync.privacy.targets import EVENT_PREFIX, HUBSPOT_OBJECT
from app.sync.repositories import ConnectionRepository, InterfaceRepository

UNKNOWN_PORTAL = 0  # a connection that never told its portal: no webhook event names it
GONE_REASON = "HubSpot has no such contact (deleted already)"


async def erase_in_hubspot(
    context: RunContext,
    mapping: ObjectMapping,
    recorder: Recorder,
    session: AsyncSession,
    links: Sequence[RecordLink],
) -> None:
    """GDPR-delete the HubSpot contacts of deleted source records, one deletion request each;
    counted ``deleted`` once HubSpot confirmed, else ``skipped`` (the request retries)."""
    target, portal_id = await _origin(session, context, mapping)
    for link in links:
        done = await _erase(session, context, mapping, target, portal_id, link)
        recorder.count(Outcome.deleted if done else Outcome.skipped)


async def gdpr_delete(client: HubSpotClient, hubspot_id: str) -> tuple[SystemState, str | None]:
    """HubSpot's GDPR delete of one contact: ``confirmed`` (also when HubSpot has it no
    more) or ``failed``, with a reason that quotes nothing HubSpot said about the person."""
    try:
        await client.objects.gdpr_delete(hubspot_id)
    except NotFound:
        return SystemState.confirmed, GONE_REASON
    except HubSpotError as exc:
        status = f", HTTP {exc.status}" if exc.status else ""
        return SystemState.failed, f"HubSpot refused the GDPR delete ({type(exc).__name__}{status})"
    return SystemState.confirmed, None


def conclude(
    request: DeletionRequest,
    *,
    hubspot: Mapping[str, Any],
    purged: Mapping[str, int],
    now: datetime,
) -> Conclusion:
    """The end of an attempt at a GDPR delete: done once HubSpot confirmed; hubsync's copy
    is gone in any case (``purged`` adds to the counts of earlier attempts)."""
    done = hubspot["state"] == SystemState.confirmed.value
    previous = (request.outcomes or {}).get(HUBSYNC)
    outcomes = {HUBSPOT: dict(hubspot),
                HUBSYNC: hubsync_outcome(previous, done=True, at=now, counts=purged)}  # fmt: skip
    failures = [] if done else [(request_interface(hubspot), f"HubSpot: {hubspot['reason']}")]
    return Conclusion(
        request_id=request.id, tenant_id=request.tenant_id, number=request.attempts, now=now,
        outcomes=outcomes, policy=GDPR_POLICY, failures=failures, done=done,
    )  # fmt: skip


def request_interface(hubspot: Mapping[str, Any]) -> uuid.UUID:
    """The interface a GDPR delete was asked by (its outcome stores the id as text)."""
    return uuid.UUID(str(hubspot["interface_id"]))


async def _origin(
    session: AsyncSession, context: RunContext, mapping: ObjectMapping
) -> tuple[dict[str, Any], int]:
    """Who asks (interface and object mapping, as outcomes name them) and the portal."""
    interface = await InterfaceRepository.scoped(session, context.scope).get_by_id(
        context.interface_id
    )
    if interface is None:
        raise LookupError(f"interface {context.interface_id} vanished during its run")
    connection = await ConnectionRepository.scoped(session, context.scope).get_by_id(
        interface.hubspot_connection_id
    )
    portal_id = (portal_of(connection) if connection else None) or UNKNOWN_PORTAL
    target = {"interface_id": interface.id, "interface": interface.name, "object": mapping.name}
    return target, portal_id


async def _erase(
    session: AsyncSession,
    context: RunContext,
    mapping: ObjectMapping,
    target: Mapping[str, Any],
    portal_id: int,
    link: RecordLink,
) -> bool:
    """One contact: its request (attempt 1), HubSpot's GDPR delete, the suppression of the
    pair (a row created again in the source stays out of HubSpot), hubsync's purge, the
    outcome. Whether HubSpot confirmed."""
    now, hubspot_id = utcnow(), str(link.hubspot_id)
    request = await DeletionRequestRepository.scoped(session, context.scope).create(
        DeletionRequest(
            tenant_id=context.run.tenant_id, portal_id=portal_id,
            hubspot_object_type=HUBSPOT_OBJECT, hubspot_object_id=hubspot_id,
            policy=GDPR_POLICY, state=DeletionState.pending, outcomes={}, requested_at=now,
            attempts=1, next_attempt_at=now + retry_delay(1),
        ),
        flush=True,
    )  # fmt: skip
    state, reason = await gdpr_delete(context.hubspot, hubspot_id)
    await suppress(
        session, tenant_id=context.run.tenant_id, interface_id=context.interface_id,
        mapping=mapping, links=[link], request_id=request.id, keys=context.suppression_keys,
    )  # fmt: skip
    purged = await _purge(PurgeRepository(session, context.scope), link, portal_id, target)
    hubspot = hubspot_outcome(target, state, at=now, reason=reason)
    conclusion = conclude(request, hubspot=hubspot, purged=purged, now=now)
    await settle_attempt(session, conclusion, public_url=None)
    return conclusion.done


async def _purge(
    repo: PurgeRepository, link: RecordLink, portal_id: int, target: Mapping[str, Any]
) -> dict[str, int]:
    """hubsync's rows about the pair: its run items, its link, the portal's contact events."""
    hubspot_id = str(link.hubspot_id)
    items = await repo.remove_items(
        target["interface_id"], target["object"], hubspot_id=hubspot_id,
        source_keys=[link.source_key],
    )  # fmt: skip
    return {
        "record_links": await repo.remove_links([link.id]),
        "run_items": items,
        "webhook_events": await repo.blank_events(portal_id, hubspot_id, EVENT_PREFIX),
    }
