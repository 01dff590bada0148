"""One attempt at a privacy deletion request: each target in its source, then hubsync's rows.

An attempt is first *claimed*: one conditional UPDATE counts it and schedules
the next one (``retry_delay``), but only if nobody counted one since this
process looked. So two processes never work on one request at once, and a
process that dies half-way leaves the retry scheduled.

Per interface, under the interface's lease (no sync run reads or writes the
pair meanwhile; a busy interface is tried again later):

1. the person's keys go on the suppression list (``suppressions``: keyed hashes,
   for mappings that send to HubSpot, so no later run creates them there again),
   then the person's data in hubsync goes at once: the record links lose their
   baselines and hashes, and the run items about the record are deleted (the
   runs keep their counts). The links' source keys stay: step 2 needs them;
2. the policy's step in the source, outside any transaction (``source.py``);
3. once the source confirmed, the links go too, and run items once more (a
   run that ended just before the lease may have written one).

Then the portal's webhook events about the contact lose their payloads, and
the outcome is written, by this attempt only and only while no later attempt
has taken the request over.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.connectors.errors import ConnectorError
from app.connectors.registry import connector_class
from app.core.db import SessionFactory, session_scope
from app.core.errors import HubsyncError
from app.core.secrets_box import SecretBox
from app.core.tenancy import TenantScope, bind_scope
from app.models import Connection
from app.models.enums import DeletionState
from app.sync.connections import open_connection_secrets
from app.sync.engine.deletion import DeletionStep
from app.sync.privacy.outcomes import (
    BUSY_REASON,
    HUBSYNC,
    IGNORED_REASON,
    NOT_LINKED_REASON,
    SystemState,
    combined_policy,
    error_text,
    hubsync_outcome,
    retry_delay,
    settled,
    source_outcome,
    withdrawn,
)
from app.sync.privacy.repository import DeletionRequestRepository, PurgeRepository
from app.sync.privacy.settle import Conclusion, settle_attempt
from app.sync.privacy.source import apply_in_source
from app.sync.privacy.suppressions import KEY_PURPOSE, suppress
from app.sync.privacy.targets import EVENT_PREFIX, InterfaceTargets, Target, targets_on_portal
from app.sync.scheduling.executor import process_holder
from app.sync.scheduling.leases import Leases, interface_lease

LEASE_TTL = timedelta(minutes=10)
PURGED = ("record_links", "run_items", "webhook_events")  # hubsync's counts, in this order


class PrivacyDeletionIncomplete(HubsyncError):
    """Some system has not confirmed the deletion yet; a retry is scheduled (ids only)."""

    status_code = 503


@dataclass(slots=True)
class _Attempt:
    """What one attempt learns: the outcomes so far, its failures, the rows it purged."""

    request_id: uuid.UUID
    tenant_id: uuid.UUID
    number: int
    portal_id: int
    object_id: str
    now: datetime
    outcomes: dict[str, dict[str, Any]]
    failures: list[tuple[uuid.UUID | None, str]] = field(default_factory=list)
    purged: Counter[str] = field(default_factory=Counter)

    @property
    def scope(self) -> TenantScope:
        """The request's tenant: every row this attempt touches belongs to it."""
        return TenantScope.only(self.tenant_id)

    def record(
        self, target: Target, state: SystemState, *, records: int = 0, reason: str | None = None
    ) -> None:
        """Note ``target``'s outcome in this attempt."""
        self.outcomes[target.key] = source_outcome(
            target, state, at=self.now, records=records, reason=reason
        )

    def fail(self, target: Target, reason: str, *, records: int = 0) -> None:
        """Note that ``target``'s source did not confirm, and why (no personal data)."""
        self.record(target, SystemState.failed, records=records, reason=reason)
        self.failures.append((target.interface_id, f"{target.interface}/{target.mapping.name}: "
                                                   f"{reason}"))  # fmt: skip


@dataclass(frozen=True, slots=True)
class _Held:
    """A target's record links for this person: their ids and source keys."""

    link_ids: list[uuid.UUID]
    keys: list[str]


async def attempt_request(
    sessions: SessionFactory,
    request_id: uuid.UUID,
    *,
    seen: int,
    box: SecretBox,
    now: datetime,
    public_url: str | None = None,
) -> DeletionState | None:
    """Claim attempt ``seen + 1`` of a request and carry it out; the request's state after it,
    or None when another process claimed it first (or finished it meanwhile).

    Raises:
        PrivacyDeletionIncomplete: an unexpected error stopped the attempt; it is recorded
            (its class only) and the retry stays scheduled.
    """
    claimed = await _claim(sessions, request_id, seen=seen, now=now)
    if claimed is None:
        return None
    work, units = claimed
    try:
        for unit in units:
            await _interface(sessions, box, work, unit)
        await _purge_events(sessions, work)
    except Exception as exc:  # noqa: BLE001 - recorded, then raised again without its text
        work.failures.append((None, error_text(exc)))
        await _finish(sessions, work, units, public_url=public_url)
        # the original may quote a record (a driver error with its parameters): not chained
        raise PrivacyDeletionIncomplete(
            f"deletion request {request_id}: {error_text(exc)}"
        ) from None
    return await _finish(sessions, work, units, public_url=public_url)


@asynccontextmanager
async def scoped_session(
    sessions: SessionFactory, scope: TenantScope
) -> AsyncIterator[AsyncSession]:
    """One unit of work limited to ``scope`` (a system job picks the scope itself)."""
    async with session_scope(sessions) as session:
        bind_scope(session, scope)
        yield session


async def _claim(
    sessions: SessionFactory, request_id: uuid.UUID, *, seen: int, now: datetime
) -> tuple[_Attempt, list[InterfaceTargets]] | None:
    scope = TenantScope.all_tenants()
    async with scoped_session(sessions, scope) as session:
        repo = DeletionRequestRepository.scoped(session, scope)
        if not await repo.claim(request_id, seen=seen, retry_at=now + retry_delay(seen + 1)):
            return None
        request = await repo.get_by_id(request_id)
        if request is None:
            return None
        units = await targets_on_portal(
            session, tenant_id=request.tenant_id, portal_id=request.portal_id
        )
        work = _Attempt(
            request_id=request.id, tenant_id=request.tenant_id, number=seen + 1,
            portal_id=request.portal_id, object_id=request.hubspot_object_id, now=now,
            outcomes=dict(request.outcomes or {}),
        )  # fmt: skip
        return work, units


async def _interface(
    sessions: SessionFactory, box: SecretBox, work: _Attempt, unit: InterfaceTargets
) -> None:
    """The interface's unsettled targets, under its lease."""
    pending = [t for t in unit.targets if not settled(work.outcomes.get(t.key))]
    if not pending:
        return
    leases = Leases(sessions, process_holder("privacy"), LEASE_TTL)
    lease = interface_lease(unit.interface_id)
    if await leases.acquire(lease) is None:
        for target in pending:
            work.record(target, SystemState.pending, reason=BUSY_REASON)
        return
    try:
        held = await _hold(sessions, work, pending, box.purpose_keys(KEY_PURPOSE))
        acting = _settle_without_source(work, pending, held)
        if acting:
            await _in_source(box, work, unit.source, acting, held)
        done = [t for t in pending if settled(work.outcomes.get(t.key))]
        await _forget(sessions, work, done, held)
    finally:
        await leases.release([lease])


async def _hold(
    sessions: SessionFactory, work: _Attempt, targets: Sequence[Target], keys: tuple[bytes, ...]
) -> dict[str, _Held]:
    """Step 1: suppress the person, purge their data from links and run items, keep the
    links' keys."""
    held: dict[str, _Held] = {}
    async with scoped_session(sessions, work.scope) as session:
        repo = PurgeRepository(session, work.scope)
        for target in targets:
            links = await repo.links(target.interface_id, target.mapping.name, work.object_id)
            held[target.key] = _Held(
                [link.id for link in links], [link.source_key for link in links]
            )
            await suppress(
                session, tenant_id=work.tenant_id, interface_id=target.interface_id,
                mapping=target.mapping, links=links, request_id=work.request_id, keys=keys,
            )  # fmt: skip
            await repo.blank_links(held[target.key].link_ids)
            work.purged["run_items"] += await repo.remove_items(
                target.interface_id, target.mapping.name,
                hubspot_id=work.object_id, source_keys=held[target.key].keys,
            )  # fmt: skip
    return held


def _settle_without_source(
    work: _Attempt, targets: Sequence[Target], held: dict[str, _Held]
) -> list[Target]:
    """Settle what needs no source call (the policy ignores, or nobody is linked); the rest."""
    acting = []
    for target in targets:
        records = len(held[target.key].keys)
        if target.plan.step is DeletionStep.ignore:
            work.record(target, SystemState.ignored, records=records, reason=IGNORED_REASON)
        elif not records:
            work.record(target, SystemState.confirmed, reason=NOT_LINKED_REASON)
        else:
            acting.append(target)
    return acting


async def _in_source(
    box: SecretBox,
    work: _Attempt,
    source: Connection,
    targets: Sequence[Target],
    held: dict[str, _Held],
) -> None:
    """Step 2: each target's step in the interface's source, with one fresh connector."""
    try:
        settings = {**source.config, **open_connection_secrets(source, box)}
        connector = connector_class(source.connector).from_settings(settings)
    except (ConnectorError, HubsyncError) as exc:
        for target in targets:
            work.fail(target, error_text(exc))
        return
    async with connector:
        for target in targets:
            keys = held[target.key].keys
            try:
                result = await apply_in_source(connector, target, keys)
            except ConnectorError as exc:
                work.fail(target, error_text(exc), records=len(keys))
                continue
            if result.ok:
                work.record(target, SystemState.confirmed, records=result.records)
            else:
                reason = f"the source refused {result.refused} of {result.records} records"
                work.fail(target, reason, records=result.records)


async def _forget(
    sessions: SessionFactory, work: _Attempt, targets: Sequence[Target], held: dict[str, _Held]
) -> None:
    """Step 3: the settled targets' links go, and any run item written meanwhile."""
    if not targets:
        return
    async with scoped_session(sessions, work.scope) as session:
        repo = PurgeRepository(session, work.scope)
        for target in targets:
            work.purged["record_links"] += await repo.remove_links(held[target.key].link_ids)
            work.purged["run_items"] += await repo.remove_items(
                target.interface_id, target.mapping.name,
                hubspot_id=work.object_id, source_keys=held[target.key].keys,
            )  # fmt: skip


async def _purge_events(sessions: SessionFactory, work: _Attempt) -> None:
    """The portal's webhook events about the contact keep ids and states, not payloads."""
    async with scoped_session(sessions, TenantScope.all_tenants()) as session:
        repo = PurgeRepository(session, TenantScope.all_tenants())
        work.purged["webhook_events"] += await repo.blank_events(
            work.portal_id, work.object_id, EVENT_PREFIX
        )


async def _finish(
    sessions: SessionFactory,
    work: _Attempt,
    units: Sequence[InterfaceTargets],
    *,
    public_url: str | None,
) -> DeletionState | None:
    """Write the attempt's outcome; None when a later attempt took the request over."""
    targets = [t for unit in units for t in unit.targets]
    current = {t.key for t in targets}
    outcomes = {
        key: value if key == HUBSYNC or key in current or settled(value)
        else withdrawn(value, at=work.now)
        for key, value in work.outcomes.items()
    }  # fmt: skip
    done = not work.failures and all(settled(v) for k, v in outcomes.items() if k != HUBSYNC)
    counts = {name: work.purged[name] for name in PURGED}
    outcomes[HUBSYNC] = hubsync_outcome(outcomes.get(HUBSYNC), done=done, at=work.now,
                                        counts=counts)  # fmt: skip
    conclusion = Conclusion(
        request_id=work.request_id, tenant_id=work.tenant_id, number=work.number, now=work.now,
        outcomes=outcomes, policy=combined_policy(targets), failures=work.failures, done=done,
    )  # fmt: skip
    async with scoped_session(sessions, work.scope) as session:
        return await settle_attempt(session, conclusion, public_url=public_url)
