"""Lifting entries of the privacy suppression list: an operator's or admin's decision, with a
reason.

Those who read the deletion log (tenant admins their tenant's, operators every
tenant's; viewers are refused) see the list and may lift entries: one by id, or
all active ones a deletion request left (the two keys of each pair it
suppressed). A lifted entry stays as proof of who lifted it, when and why;
from then on the records it named sync to HubSpot again. Every lift is audited
with ids only; the reason, typed by the person lifting, stays on the entries.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.actor import Actor
from app.core.audit import record_audit
from app.core.errors import InvalidInput, NotFound
from app.core.tenancy import TenantScope
from app.models import PrivacySuppression
from app.models.base import utcnow
from app.sync.privacy.log import LOG_PERMISSION, PAGE_SIZE
from app.sync.privacy.repository import DeletionRequestRepository, SuppressionRepository

REASON_MAX_CHARS = 500


async def list_suppressions(
    session: AsyncSession,
    *,
    actor: Actor,
    request_id: uuid.UUID | None = None,
    active: bool | None = None,
    tenant_id: uuid.UUID | None = None,
    limit: int = PAGE_SIZE,
) -> Sequence[PrivacySuppression]:
    """The newest entries the actor may read, optionally one request's, active or lifted."""
    repo = SuppressionRepository.scoped(session, _scope(actor, tenant_id))
    return await repo.get_all(repo.log(request_id=request_id, active=active).limit(limit))


async def active_per_request(
    session: AsyncSession, *, actor: Actor, request_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, int]:
    """How many active entries each request left, among those the actor may read."""
    return await SuppressionRepository.scoped(session, _scope(actor)).active_per_request(
        request_ids
    )


async def lift_suppression(
    session: AsyncSession, *, actor: Actor, suppression_id: uuid.UUID, reason: str
) -> PrivacySuppression:
    """Lift one entry, giving a reason; audited.

    Raises:
        NotFound: no such entry in the actor's tenants (checked first: a role that may not
            lift learns nothing of other tenants' entries either).
        Forbidden: the actor's role may not lift.
        InvalidInput: the reason is empty or too long, or the entry is lifted already.
    """
    repo = SuppressionRepository.scoped(session, actor.scope)
    entry = await repo.get_by_id(suppression_id)
    if entry is None:
        raise NotFound("suppression entry not found")
    actor.require(LOG_PERMISSION)
    reason = _reason(reason)
    if entry.lifted_at is not None:
        raise InvalidInput("this suppression entry is lifted already")
    await _lift(session, actor, repo, [entry], reason)
    await session.refresh(entry)
    return entry


async def lift_request(
    session: AsyncSession, *, actor: Actor, request_id: uuid.UUID, reason: str
) -> int:
    """Lift every active entry a deletion request left, giving a reason; how many (each
    audited).

    Raises:
        NotFound: no such request in the actor's tenants.
        InvalidInput: the reason is empty or too long.
    """
    scope = _scope(actor)
    if await DeletionRequestRepository.scoped(session, scope).get_by_id(request_id) is None:
        raise NotFound("deletion request not found")
    reason = _reason(reason)
    repo = SuppressionRepository.scoped(session, scope)
    entries = await repo.get_all(repo.log(request_id=request_id, active=True))
    return await _lift(session, actor, repo, entries, reason)


async def _lift(
    session: AsyncSession,
    actor: Actor,
    repo: SuppressionRepository,
    entries: Sequence[PrivacySuppression],
    reason: str,
) -> int:
    lifted = await repo.lift([e.id for e in entries], at=utcnow(), by=actor.label, reason=reason)
    for entry in (e for e in entries if e.id in lifted):
        await record_audit(
            session, action="privacy_suppression.lift", actor_label=actor.label,
            actor_id=actor.user_id, tenant_id=entry.tenant_id,
            target_type="privacy_suppression", target_id=entry.id,
            details={"interface_id": str(entry.interface_id), "object": entry.object_name,
                     "kind": entry.kind, "deletion_request_id": _text(entry.deletion_request_id)},
        )  # fmt: skip
    return len(lifted)


def _scope(actor: Actor, tenant_id: uuid.UUID | None = None) -> TenantScope:
    """The actor's tenants, narrowed to the one asked for (another tenant's: not found)."""
    actor.require(LOG_PERMISSION)
    if tenant_id is None:
        return actor.scope
    if not actor.scope.allows(tenant_id):
        raise NotFound("tenant not found")
    return TenantScope.only(tenant_id)


def _reason(reason: str) -> str:
    text = reason.strip()
    if not text:
        raise InvalidInput("give a reason for lifting the suppression")
    if len(text) > REASON_MAX_CHARS:
        raise InvalidInput(f"the reason is longer than {REASON_MAX_CHARS} characters")
    return text


def _text(value: uuid.UUID | None) -> str | None:
    return str(value) if value is not None else None
