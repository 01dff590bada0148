"""Löschprotokoll: the privacy deletions of HubSpot contacts, their outcome per system, export.

Admins read their tenant's log, operators every tenant's (with a tenant
filter); viewers get 403 (the service decides). The page shows what a
request holds, ids and outcomes, never a value of the person. The filters
are a GET form whose query survives reload; the export links carry them.
Per request it shows how many entries of the privacy suppression list are
active, and the same readers lift them there, giving a reason.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from starlette.responses import Response

from app.api.deps import SessionDep
from app.auth.actor import Actor
from app.core.errors import InvalidInput
from app.models.enums import DeletionState, Role
from app.sync import tenants
from app.sync.privacy import lifting, log
from app.sync.privacy.log import DeletionFilter
from app.ui.admin_forms import FormModel, read_form, see_other
from app.ui.formatting import ZURICH
from app.ui.i18n import mark
from app.ui.page import PageDep
from app.ui.router import router
from app.ui.templating import render

VARY = "HX-Request, HX-Request-Type, Cookie"  # as every UI response (app.ui.templating)
BAD_FILTER = mark("This filter is not valid; showing every deletion.")


class LiftForm(FormModel):
    """Lifting a request's suppression entries: the reason is required."""

    reason: str = Field(min_length=1, max_length=lifting.REASON_MAX_CHARS)


class DeletionQuery(BaseModel):
    """The log's filters: state, requested from/until (Zurich days, inclusive), tenant."""

    model_config = ConfigDict(extra="ignore")

    state: DeletionState | None = None
    since: date | None = None
    until: date | None = None
    tenant: uuid.UUID | None = None

    @field_validator("*", mode="before")
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        return value or None

    def to_filter(self) -> DeletionFilter:
        """The service filter: whole Zurich days, ``until`` inclusive."""
        return DeletionFilter(
            state=self.state,
            since=_zurich_midnight(self.since) if self.since else None,
            until=_zurich_midnight(self.until + timedelta(days=1)) if self.until else None,
            tenant_id=self.tenant,
        )

    def export_url(self, format: log.ExportFormat) -> str:
        """The export of what the page shows, in ``format``."""
        kept = {
            "format": format,
            "state": self.state.value if self.state else None,
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
            "tenant": str(self.tenant) if self.tenant else None,
        }
        return "/ui/deletions/export?" + urlencode({k: v for k, v in kept.items() if v})


def _zurich_midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=ZURICH)


def _query(request: Request) -> tuple[DeletionQuery, str | None]:
    try:
        return DeletionQuery.model_validate(dict(request.query_params)), None
    except ValidationError:
        return DeletionQuery(), BAD_FILTER


@router.get("/deletions")
async def deletions_page(request: Request, page: PageDep, session: SessionDep) -> Response:
    """Löschprotokoll: the newest privacy deletions the actor may read, with their outcomes."""
    query, error = _query(request)
    rows = await log.list_deletions(session, actor=page.actor, wanted=query.to_filter())
    suppressed = await lifting.active_per_request(
        session, actor=page.actor, request_ids=[r.id for r in rows]
    )
    context = page.context(
        "admin-deletions",
        requests=[
            {"row": r, "systems": log.outcome_rows(r), "suppressed": suppressed.get(r.id, 0)}
            for r in rows
        ],
        query=query,
        error=error,
        csv_url=query.export_url("csv"),
        json_url=query.export_url("json"),
        **await _tenant_context(session, page.actor),
    )
    return render(request, "deletions.html", context, block="deletion_results",
                  status_code=422 if error else 200)  # fmt: skip


@router.post("/deletions/{request_id}/suppressions/lift")
async def deletion_lift(
    request: Request, request_id: uuid.UUID, page: PageDep, session: SessionDep
) -> Response:
    """Lift the request's active suppression entries with a reason (audited); back to the log."""
    form = await read_form(request, LiftForm)
    if form.model is None:
        raise InvalidInput("give a reason for lifting the suppression")
    await lifting.lift_request(
        session, actor=page.actor, request_id=request_id, reason=form.model.reason
    )
    return see_other(request, "/ui/deletions")


@router.get("/deletions/export")
async def deletions_export(request: Request, page: PageDep, session: SessionDep) -> Response:
    """The log as shown, as a CSV or JSON download (audited)."""
    query, _error = _query(request)
    wanted = request.query_params.get("format")
    document = await log.export_deletions(
        session, actor=page.actor, wanted=query.to_filter(),
        format="json" if wanted == "json" else "csv",
    )  # fmt: skip
    return Response(
        document.content,
        media_type=document.media_type,
        headers={"Content-Disposition": f'attachment; filename="{document.filename}"',
                 "Cache-Control": "no-store", "Vary": VARY},
    )  # fmt: skip


async def _tenant_context(session: SessionDep, actor: Actor) -> dict[str, Any]:
    """Operators filter by tenant and see which tenant a request belongs to."""
    rows = await tenants.list_tenants(session, actor=actor) if actor.role == Role.operator else []
    return {"tenants": rows, "tenant_names": {t.id: t.name for t in rows}}
