"""Änderungsprotokoll: who changed what, when; filtered by action and period, 50 per page.

Admins read their tenant's log, operators every tenant's (and the entries of
no tenant, such as key rotation); viewers get 403. Entries are shown as
stored: action, actor label, target and details, no values and no lookups of
personal data.
"""

from __future__ import annotations

import json
import uuid
from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from pydantic import Field, ValidationError, field_validator
from starlette.responses import Response

from app.api.deps import SessionDep
from app.auth.actor import Actor
from app.core.errors import InvalidInput
from app.models import AuditEntry
from app.models.enums import Role
from app.sync import audit_log, tenants
from app.sync.audit_log import AuditFilter
from app.sync.keyset import Cursor
from app.ui.admin_forms import FormModel
from app.ui.formatting import ZURICH
from app.ui.i18n import mark
from app.ui.page import PageDep
from app.ui.router import router
from app.ui.templating import render

BAD_FILTER = mark("This filter is not valid; showing the whole log.")


class AuditQuery(FormModel):
    """The audit page's query: action, days from/to (Zurich), tenant, page cursor."""

    action: str | None = Field(None, max_length=100)
    since: date | None = None
    until: date | None = None
    tenant: uuid.UUID | None = None
    before: str | None = Field(None, max_length=80)
    after: str | None = Field(None, max_length=80)

    @field_validator("*", mode="before")
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        return value or None

    def to_filter(self) -> AuditFilter:
        """The service filter: whole Zurich days, ``until`` inclusive."""
        return AuditFilter(
            action=self.action,
            since=_zurich_midnight(self.since) if self.since else None,
            until=_zurich_midnight(self.until + timedelta(days=1)) if self.until else None,
            tenant_id=self.tenant,
        )

    def link(self, **cursor: str) -> str:
        """This page's URL with the filters kept and ``cursor`` (before/after) set."""
        kept = {
            "action": self.action,
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
            "tenant": str(self.tenant) if self.tenant else None,
            **cursor,
        }
        return "/ui/audit?" + urlencode({k: v for k, v in kept.items() if v})


def _zurich_midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=ZURICH)


def _details(entry: AuditEntry) -> list[tuple[str, str]]:
    """An entry's details as (key, text) pairs; the log stores ids and names, no values."""
    return [
        (key, value if isinstance(value, str) else json.dumps(value, ensure_ascii=False))
        for key, value in sorted(entry.details.items())
    ]


@router.get("/audit")
async def audit_page(request: Request, page: PageDep, session: SessionDep) -> Response:
    """Änderungsprotokoll: the log of the actor's tenant (operators: all), newest first."""
    try:
        query, error, status_code = AuditQuery.model_validate(dict(request.query_params)), None, 200
        before = Cursor.decode(query.before) if query.before else None
        after = Cursor.decode(query.after) if query.after else None
    except (ValidationError, InvalidInput):
        query, error, status_code, before, after = AuditQuery(), BAD_FILTER, 422, None, None
    result = await audit_log.list_audit_entries(
        session, actor=page.actor, wanted=query.to_filter(), before=before, after=after
    )
    context = page.context(
        "admin-audit",
        entries=[{"row": e, "details": _details(e)} for e in result.rows],
        actions=await audit_log.audit_actions(session, actor=page.actor, tenant_id=query.tenant),
        query=query,
        error=error,
        newer_url=query.link(after=result.newer.encode()) if result.newer else None,
        older_url=query.link(before=result.older.encode()) if result.older else None,
        **await _tenant_context(session, page.actor),
    )
    return render(
        request, "admin_audit.html", context, block="audit_results", status_code=status_code
    )


async def _tenant_context(session: SessionDep, actor: Actor) -> dict[str, Any]:
    """Operators filter by tenant and see which tenant an entry is about."""
    rows = await tenants.list_tenants(session, actor=actor) if actor.role == Role.operator else []
    return {"tenants": rows, "tenant_names": {t.id: t.name for t in rows}}
