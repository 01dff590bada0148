"""The deletion log (Löschprotokoll): privacy deletion requests, and their export as proof.

Readers are those of the audit log: tenant admins see their tenant's requests,
operators every tenant's; viewers are refused. The log shows what a request
holds (ids, policy, per-system outcomes, timestamps, the last error), which
by construction is no personal data. An export (CSV for spreadsheets, JSON for
tools) is the proof for an audit: one CSV row per request and system, or one
JSON object per request with its outcomes. Every export is audited.
"""

from __future__ import annotations

import csv
import io
import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.actor import Actor, Permission
from app.core.audit import record_audit
from app.core.errors import NotFound
from app.core.tenancy import TenantScope
from app.models import DeletionRequest
from app.models.base import utcnow
from app.models.enums import DeletionState
from app.sync.mapping.layout import neutralize
from app.sync.privacy.outcomes import HUBSYNC
from app.sync.privacy.repository import DeletionRequestRepository
from app.sync.versions import Document

LOG_PERMISSION = Permission.manage_users  # the audit log's readers: admins and operators
PAGE_SIZE = 100
EXPORT_LIMIT = 50_000
ExportFormat = Literal["csv", "json"]
MEDIA_TYPES: Mapping[ExportFormat, str] = {
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
}
REQUEST_FIELDS = (
    "id", "tenant_id", "portal_id", "hubspot_object_type", "hubspot_object_id", "policy",
    "state", "requested_at", "completed_at", "attempts", "next_attempt_at", "last_error",
    "webhook_event_id",
)  # fmt: skip
SYSTEM_FIELDS = ("system", "interface", "object", "step", "state", "records", "reason", "at")
PURGE_COUNTS = ("record_links", "run_items", "webhook_events")


@dataclass(frozen=True, slots=True)
class DeletionFilter:
    """Which requests to show: one state, requested in [since, until), one tenant."""

    state: DeletionState | None = None
    since: datetime | None = None
    until: datetime | None = None
    tenant_id: uuid.UUID | None = None


async def list_deletions(
    session: AsyncSession,
    *,
    actor: Actor,
    wanted: DeletionFilter | None = None,
    limit: int = PAGE_SIZE,
) -> Sequence[DeletionRequest]:
    """The newest requests the actor may read (admins: their tenant; operators: all)."""
    wanted = wanted or DeletionFilter()
    return await _select(session, actor, wanted, limit)


async def export_deletions(
    session: AsyncSession, *, actor: Actor, wanted: DeletionFilter, format: ExportFormat
) -> Document:
    """The requests the actor may read as a CSV or JSON document; the export is audited."""
    rows = await _select(session, actor, wanted, EXPORT_LIMIT)
    content = _csv(rows) if format == "csv" else _json(rows, wanted)
    await record_audit(
        session, action="privacy_deletion.export", actor_label=actor.label,
        actor_id=actor.user_id, tenant_id=_scope(actor, wanted).tenant_id,
        target_type="deletion_request",
        details={"format": format, "requests": len(rows), **_filter_json(wanted)},
    )  # fmt: skip
    stamp = utcnow().strftime("%Y%m%d-%H%M%S")
    return Document(f"hubsync-loeschprotokoll-{stamp}.{format}", MEDIA_TYPES[format], content)


def outcome_rows(request: DeletionRequest) -> list[dict[str, Any]]:
    """The request's per-system outcomes as flat rows, sources first and hubsync last."""
    outcomes = request.outcomes or {}
    ordered = sorted(outcomes.items(), key=lambda item: (item[0] == HUBSYNC, item[0]))
    return [_system_row(outcome) for _key, outcome in ordered]


def request_record(request: DeletionRequest) -> dict[str, Any]:
    """A request as the JSON export (and the API) shows it, timestamps in ISO 8601."""
    record = {name: _plain(getattr(request, name)) for name in REQUEST_FIELDS}
    return {**record, "outcomes": outcome_rows(request)}


async def _select(
    session: AsyncSession, actor: Actor, wanted: DeletionFilter, limit: int
) -> Sequence[DeletionRequest]:
    repo = DeletionRequestRepository.scoped(session, _scope(actor, wanted))
    statement = repo.log(state=wanted.state, since=wanted.since, until=wanted.until)
    return await repo.get_all(statement.limit(limit))


def _scope(actor: Actor, wanted: DeletionFilter) -> TenantScope:
    """The actor's tenants, narrowed to the one asked for (another tenant's: not found)."""
    actor.require(LOG_PERMISSION)
    scope = actor.scope
    if wanted.tenant_id is None:
        return scope
    if not scope.allows(wanted.tenant_id):
        raise NotFound("tenant not found")
    return TenantScope.only(wanted.tenant_id)


def _system_row(outcome: Mapping[str, Any]) -> dict[str, Any]:
    row = {name: outcome.get(name) for name in SYSTEM_FIELDS}
    if outcome.get("system") == HUBSYNC:
        row["records"] = sum(int(outcome.get(name, 0)) for name in PURGE_COUNTS)
        row["reason"] = row["reason"] or ", ".join(
            f"{name}={int(outcome.get(name, 0))}" for name in PURGE_COUNTS
        )
    return row


def _csv(rows: Sequence[DeletionRequest]) -> bytes:
    """One row per request and system, for Swiss Excel: UTF-8 with BOM, ``;``."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow([*REQUEST_FIELDS, *(f"system_{name}" for name in SYSTEM_FIELDS)])
    for request in rows:
        head = [_cell(_plain(getattr(request, name))) for name in REQUEST_FIELDS]
        systems = outcome_rows(request) or [dict.fromkeys(SYSTEM_FIELDS)]
        for system in systems:
            writer.writerow([*head, *(_cell(system[name]) for name in SYSTEM_FIELDS)])
    return buffer.getvalue().encode("utf-8-sig")


def _json(rows: Sequence[DeletionRequest], wanted: DeletionFilter) -> bytes:
    document = {
        "exported_at": utcnow().isoformat(),
        "filter": _filter_json(wanted),
        "deletion_requests": [request_record(r) for r in rows],
    }
    return json.dumps(document, ensure_ascii=False, indent=2).encode("utf-8")


def _filter_json(wanted: DeletionFilter) -> dict[str, Any]:
    return {name: _plain(value) for name, value in asdict(wanted).items() if value is not None}


def _plain(value: Any) -> Any:
    """A column value as JSON has it: ids and enums as strings, times in ISO 8601."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, DeletionState):
        return value.value
    return value


def _cell(value: Any) -> str:
    return "" if value is None else neutralize(str(value))
