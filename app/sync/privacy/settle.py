"""How an attempt at a deletion request ends: its outcome written, then audited or told.

Only the attempt that claimed the request writes (its ``attempts`` is still the
attempt's number), so a slow attempt never overwrites a later one. A completed
request gets the audit entry ``privacy_deletion.complete``. A failed one
notifies the listeners of the affected interfaces the first time it fails and
never again for that request, whatever states it passes through meanwhile:
``notified_at`` in hubsync's outcome remembers that it was told.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.audit import record_audit
from app.core.tenancy import TenantScope
from app.models import DeletionRequest
from app.models.enums import DeletionState
from app.sync.privacy.notices import queue_failure_notices
from app.sync.privacy.outcomes import HUBSYNC, LAST_ERROR_MAX_CHARS, NOTIFIED_AT
from app.sync.privacy.repository import DeletionRequestRepository

AUDIT_ACTOR = "hubspot:privacy-deletion"


@dataclass(frozen=True, slots=True)
class Conclusion:
    """What attempt ``number`` of a request found: outcomes per system, failures, done or not.

    ``failures`` pairs the interface a failure concerns (None: none in particular) with a
    text that names no person."""

    request_id: uuid.UUID
    tenant_id: uuid.UUID
    number: int
    now: datetime
    outcomes: Mapping[str, dict[str, Any]]
    policy: str
    failures: Sequence[tuple[uuid.UUID | None, str]]
    done: bool

    @property
    def state(self) -> DeletionState:
        """The request's state after this attempt."""
        if self.done:
            return DeletionState.completed
        return DeletionState.failed if self.failures else DeletionState.pending

    @property
    def last_error(self) -> str | None:
        """The attempt's failures in one text, or None."""
        return "; ".join(text for _, text in self.failures)[:LAST_ERROR_MAX_CHARS] or None


async def settle_attempt(
    session: AsyncSession, conclusion: Conclusion, *, public_url: str | None
) -> DeletionState | None:
    """Write the attempt's outcome, then audit a completion or notify a first failure;
    None (nothing written) when a later attempt has taken the request over."""
    repo = DeletionRequestRepository.scoped(session, TenantScope.only(conclusion.tenant_id))
    request = await repo.get_by_id(conclusion.request_id)
    if request is None or request.attempts != conclusion.number:
        return None
    state = conclusion.state
    notify = state is DeletionState.failed and not _notified(request)
    values = _values(conclusion, notify=notify)
    if not await repo.settle(conclusion.request_id, attempt=conclusion.number, values=values):
        return None
    if state is DeletionState.completed:
        await record_audit(
            session, action="privacy_deletion.complete", actor_label=AUDIT_ACTOR,
            tenant_id=request.tenant_id, target_type="deletion_request", target_id=request.id,
            details={"portal_id": request.portal_id, "hubspot_object_id": request.hubspot_object_id,
                     "policy": conclusion.policy, "attempts": conclusion.number},
        )  # fmt: skip
    elif notify:
        interfaces = sorted({i for i, _ in conclusion.failures if i is not None})
        reason = conclusion.last_error or ""
        await queue_failure_notices(
            session, request, interface_ids=interfaces, reason=reason, public_url=public_url
        )
    return state


def _notified(request: DeletionRequest) -> bool:
    return bool((request.outcomes or {}).get(HUBSYNC, {}).get(NOTIFIED_AT))


def _values(conclusion: Conclusion, *, notify: bool) -> dict[str, Any]:
    outcomes = dict(conclusion.outcomes)
    if notify:
        outcomes[HUBSYNC] = {**outcomes.get(HUBSYNC, {}), NOTIFIED_AT: conclusion.now.isoformat()}
    values: dict[str, Any] = {
        "outcomes": outcomes,
        "policy": conclusion.policy,
        "state": conclusion.state,
        "last_error": conclusion.last_error,
    }
    if conclusion.done:
        values |= {"completed_at": conclusion.now, "next_attempt_at": None}
    return values
