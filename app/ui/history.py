"""Synchronisationsverlauf: the runs, and each run's objects, tasks and items.

The list and a run's tasks are GET forms whose query survives reload; both page
by keyset cursors (``before``/``after``). A running run's header and counts poll
``/ui/runs/{id}/live`` every 2 s; the server stops the poll by answering the
finished run without ``hx-trigger``.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Query, Request
from pydantic import BaseModel, ConfigDict, Field, field_validator
from starlette.responses import Response

from app.api.deps import SessionDep
from app.auth.actor import Actor, Permission
from app.models import RunItem, SyncRun
from app.models.base import utcnow
from app.models.enums import ItemAction, ItemStatus, RunStatus, RunTrigger
from app.sync import interfaces, runs
from app.sync.error_groups import PayloadRow, field_pairs, hint_for, payload_json, payload_rows
from app.ui.formatting import ZURICH
from app.ui.page import PageDep
from app.ui.router import router
from app.ui.templating import is_partial, render

OUTCOMES = ("created", "updated", "unchanged", "skipped", "deleted", "failed")
_LEGACY = {"create": "created", "update": "updated", "delete": "deleted", "skip": "skipped"}
ACTION_OF = {"created": "create", "updated": "update", "skipped": "skip", "deleted": "delete"}


def blank_is_none(value: Any) -> Any:
    """An empty field means no filter (the "Alle" option sends ``status=``)."""
    return None if isinstance(value, str) and not value.strip() else value


class RunQuery(BaseModel):
    """The history's filters and page cursor, all in the URL."""

    model_config = ConfigDict(extra="ignore")

    interface: uuid.UUID | None = None
    status: RunStatus | None = None
    trigger: RunTrigger | None = None
    since: date | None = None
    until: date | None = None
    before: str | None = Field(default=None, max_length=80)
    after: str | None = Field(default=None, max_length=80)

    _blank = field_validator("*", mode="before")(blank_is_none)


class TaskQuery(BaseModel):
    """A run's task filters and page cursor."""

    model_config = ConfigDict(extra="ignore")

    object: str | None = Field(default=None, max_length=100)
    action: ItemAction | None = None
    status: ItemStatus | None = None
    key: str | None = Field(default=None, max_length=255)
    before: str | None = Field(default=None, max_length=80)
    after: str | None = Field(default=None, max_length=80)

    _blank = field_validator("*", mode="before")(blank_is_none)


def day_start(day: date | None, *, plus_days: int = 0) -> datetime | None:
    """The start of a Zurich calendar day, as an aware datetime (None stays None)."""
    if day is None:
        return None
    return datetime.combine(day + timedelta(days=plus_days), time(), tzinfo=ZURICH)


def url(path: str, params: Mapping[str, Any]) -> str:
    """``path`` with the non-empty ``params`` as query string (values are ours, encoded)."""
    kept = {k: str(v) for k, v in params.items() if v is not None and v != ""}
    return f"{path}?{urlencode(kept)}" if kept else path


def cursor(token: str | None) -> runs.Cursor | None:
    """A page cursor from the URL (``InvalidInput`` for a forged one)."""
    return runs.Cursor.decode(token) if token else None


def outcome_counts(counts: Mapping[str, Any]) -> list[tuple[str, dict[str, int]]]:
    """A run's counts as (object, {outcome: n}) in a fixed outcome order."""
    rows = []
    for object_name, per_object in sorted(counts.items()):
        values = dict.fromkeys(OUTCOMES, 0)
        for name, n in (per_object or {}).items():
            outcome = _LEGACY.get(name, name)
            if outcome in values and isinstance(n, int):
                values[outcome] += n
        rows.append((object_name, values))
    return rows


def duration_seconds(run: SyncRun, now: datetime) -> float:
    """How long a run took, or has been running."""
    return max(((run.finished_at or now) - run.started_at).total_seconds(), 0.0)


@dataclass(frozen=True, slots=True)
class PayloadView:
    """What the ⓘ of one task shows: rows of source and sent values, and the raw JSON."""

    rows: list[PayloadRow]
    raw: str


def payload_views(
    actor: Actor, items: Sequence[RunItem], mappings: Mapping[uuid.UUID, dict[str, Any]]
) -> dict[uuid.UUID, PayloadView]:
    """The payload views of ``items``; empty for roles that may not read payloads."""
    if not actor.can(Permission.read_payloads):
        return {}
    views = {}
    for item in items:
        if item.payload:
            pairs = field_pairs(mappings.get(item.run_id), item.object_name)
            views[item.id] = PayloadView(
                payload_rows(item.payload, pairs), payload_json(item.payload)
            )
    return views


@router.get("/runs")
async def run_list(
    request: Request,
    page: PageDep,
    session: SessionDep,
    query: Annotated[RunQuery, Query()],
) -> Response:
    """Synchronisationsverlauf: runs by interface, status, trigger and period, newest first."""
    filters = runs.RunFilter(
        interface_id=query.interface,
        status=query.status,
        trigger=query.trigger,
        since=day_start(query.since),
        until=day_start(query.until, plus_days=1),
    )
    found = await runs.page_runs(
        session,
        actor=page.actor,
        filters=filters,
        before=cursor(query.before),
        after=cursor(query.after),
    )
    known = await interfaces.interface_choices(session, actor=page.actor)
    filter_params = query.model_dump(exclude={"before", "after"}, mode="json")
    context = page.context(
        "runs",
        runs=found.rows,
        names={i.id: i.name for i in known},
        interfaces=known,
        query=query,
        filtered=any(v is not None for v in filter_params.values()),
        counts={r.id: outcome_counts(r.counts) for r in found.rows},
        durations={r.id: duration_seconds(r, utcnow()) for r in found.rows},
        next_runs=[i.next_run_at for i in known if i.next_run_at is not None],
        newer_url=_pager(found.newer, "after", filter_params),
        older_url=_pager(found.older, "before", filter_params),
        first_url=url("/ui/runs", filter_params) if query.before or query.after else None,
    )
    return render(request, "runs.html", context, block="results")


def _pager(position: runs.Cursor | None, name: str, params: Mapping[str, Any]) -> str | None:
    if position is None:
        return None
    return url("/ui/runs", {**params, name: position.encode()})


@router.get("/runs/{run_id}")
async def run_page(
    request: Request,
    run_id: uuid.UUID,
    page: PageDep,
    session: SessionDep,
    query: Annotated[TaskQuery, Query()],
) -> Response:
    """One run: header, counts per object and action, and its tasks in order."""
    context = await _run_context(page, session, run_id)
    context.update(await _task_context(page, session, run_id, query))
    return render(request, "run_detail.html", context, block="tasks")


@router.get("/runs/{run_id}/live")
async def run_live(
    request: Request,
    run_id: uuid.UUID,
    page: PageDep,
    session: SessionDep,
) -> Response:
    """The polled header and counts of a running run; once finished, polling stops."""
    context = await _run_context(page, session, run_id)
    run: SyncRun = context["run"]
    finished = run.status != RunStatus.running
    context["finished_now"] = finished
    headers = {"HX-Trigger": "run-finished"} if finished else None
    if not is_partial(request):
        context.update(await _task_context(page, session, run_id, TaskQuery()))
    return render(request, "run_detail.html", context, block="run_live", headers=headers)


async def _run_context(page: PageDep, session: SessionDep, run_id: uuid.UUID) -> dict[str, Any]:
    detail = await runs.run_detail(session, actor=page.actor, run_id=run_id)
    run = detail.run
    totals = dict.fromkeys(OUTCOMES, 0)
    matrix = outcome_counts(run.counts)
    for _object, values in matrix:
        for outcome, n in values.items():
            totals[outcome] += n
    return page.context(
        "runs",
        run=run,
        detail=detail,
        matrix=matrix,
        totals=totals,
        duration=duration_seconds(run, utcnow()),
        run_hint=hint_for(run.error_summary, None) if run.error_summary else None,
        action_of=ACTION_OF,
        finished_now=False,
    )


async def _task_context(
    page: PageDep, session: SessionDep, run_id: uuid.UUID, query: TaskQuery
) -> dict[str, Any]:
    filters = runs.ItemFilter(
        object_name=query.object, action=query.action, status=query.status, key=query.key
    )
    tasks = await runs.page_run_items(
        session,
        actor=page.actor,
        run_id=run_id,
        filters=filters,
        before=cursor(query.before),
        after=cursor(query.after),
    )
    mappings = {}
    if page.actor.can(Permission.read_payloads) and tasks.rows:
        mappings = await runs.run_mappings(session, actor=page.actor, run_ids=[run_id])
    path = f"/ui/runs/{run_id}"
    params = query.model_dump(exclude={"before", "after"}, mode="json")
    return {
        "tasks": tasks.rows,
        "task_query": query,
        "tasks_filtered": any(v is not None for v in params.values()),
        "payloads": payload_views(page.actor, tasks.rows, mappings),
        "tasks_url": url(path, params),
        "later_url": url(path, {**params, "after": tasks.newer.encode()}) if tasks.newer else None,
        "earlier_url": (
            url(path, {**params, "before": tasks.older.encode()}) if tasks.older else None
        ),
    }
