"""API routes for the deletion log: privacy deletions and their outcomes, and the audit export.

Tenant admins read their tenant's log, operators every tenant's; viewers get
403. Nothing here takes an id in the path: another tenant's requests are
simply not in the list (and naming another tenant is 404).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Response

from app.api.deps import ApiActor, SessionDep
from app.api.v1.schemas import Output
from app.core.errors import Forbidden, NotFound, Unauthenticated
from app.models.enums import DeletionState
from app.sync.privacy import log
from app.sync.privacy.log import DeletionFilter

router = APIRouter(
    prefix="/deletions",
    tags=["privacy"],
    responses={**Unauthenticated.schema(), **Forbidden.schema(), **NotFound.schema()},
)


class SystemOutcomeOut(Output):
    system: str | None
    interface: str | None
    object: str | None
    step: str | None
    state: str | None
    records: int | None
    reason: str | None
    at: str | None


class DeletionRequestOut(Output):
    id: uuid.UUID
    tenant_id: uuid.UUID
    portal_id: int
    hubspot_object_type: str
    hubspot_object_id: str
    policy: str
    state: DeletionState
    requested_at: datetime
    completed_at: datetime | None
    attempts: int
    next_attempt_at: datetime | None
    last_error: str | None
    webhook_event_id: uuid.UUID | None
    outcomes: list[SystemOutcomeOut]


def _wanted(
    state: DeletionState | None,
    since: datetime | None,
    until: datetime | None,
    tenant_id: uuid.UUID | None,
) -> DeletionFilter:
    return DeletionFilter(state=state, since=since, until=until, tenant_id=tenant_id)


@router.get("", response_model=list[DeletionRequestOut])
async def list_deletions(
    actor: ApiActor,
    session: SessionDep,
    state: DeletionState | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    tenant_id: uuid.UUID | None = None,
) -> list[DeletionRequestOut]:
    """The newest privacy deletion requests with their per-system outcomes (no personal data)."""
    rows = await log.list_deletions(
        session, actor=actor, wanted=_wanted(state, since, until, tenant_id)
    )
    return [DeletionRequestOut.model_validate(log.request_record(r)) for r in rows]


_EXPORT_CONTENT: dict[int | str, dict[str, Any]] = {
    200: {"content": {media_type: {} for media_type in log.MEDIA_TYPES.values()}}
}


@router.get("/export", response_class=Response, responses=_EXPORT_CONTENT)
async def export_deletions(
    actor: ApiActor,
    session: SessionDep,
    format: log.ExportFormat = "csv",
    state: DeletionState | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    tenant_id: uuid.UUID | None = None,
) -> Response:
    """The deletion log as a download (CSV or JSON), the proof for an audit; audited."""
    document = await log.export_deletions(
        session, actor=actor, wanted=_wanted(state, since, until, tenant_id), format=format
    )
    return Response(
        document.content,
        media_type=document.media_type,
        headers={"Content-Disposition": f'attachment; filename="{document.filename}"'},
    )
