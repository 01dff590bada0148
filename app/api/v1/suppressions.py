"""API routes for the privacy suppression list: who a privacy deletion keeps out of HubSpot.

Readers are those of the deletion log (tenant admins their tenant's entries,
operators every tenant's; viewers get 403); the same may lift an entry, giving
a reason. An entry holds a keyed hash, never the person's data, and the API
shows not even the hash: ids, kind, times, and who lifted it and why.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from fastapi import APIRouter
from pydantic import Field

from app.api.deps import ApiActor, SessionDep
from app.api.v1.schemas import Input, Output
from app.core.errors import Forbidden, InvalidInput, NotFound, Unauthenticated
from app.sync.privacy import lifting

router = APIRouter(
    prefix="/suppressions",
    tags=["privacy"],
    responses={**Unauthenticated.schema(), **Forbidden.schema(), **NotFound.schema()},
)


class SuppressionOut(Output):
    id: uuid.UUID
    tenant_id: uuid.UUID
    interface_id: uuid.UUID
    object_name: str
    kind: str
    deletion_request_id: uuid.UUID | None
    created_at: datetime
    lifted_at: datetime | None
    lifted_by: str | None
    lift_reason: str | None


class LiftIn(Input):
    reason: str = Field(min_length=1, max_length=lifting.REASON_MAX_CHARS)


@router.get("", response_model=list[SuppressionOut])
async def list_suppressions(
    actor: ApiActor,
    session: SessionDep,
    deletion_request_id: uuid.UUID | None = None,
    active: bool | None = None,
    tenant_id: uuid.UUID | None = None,
) -> list[SuppressionOut]:
    """The newest suppression entries, optionally of one deletion request, active or lifted."""
    rows = await lifting.list_suppressions(
        session, actor=actor, request_id=deletion_request_id, active=active, tenant_id=tenant_id
    )
    return [SuppressionOut.model_validate(row) for row in rows]


@router.post(
    "/{suppression_id}/lift", response_model=SuppressionOut, responses={**InvalidInput.schema()}
)
async def lift_suppression(
    suppression_id: uuid.UUID, body: LiftIn, actor: ApiActor, session: SessionDep
) -> SuppressionOut:
    """Lift one entry with a reason: the record it names syncs to HubSpot again (audited)."""
    entry = await lifting.lift_suppression(
        session, actor=actor, suppression_id=suppression_id, reason=body.reason
    )
    return SuppressionOut.model_validate(entry)
