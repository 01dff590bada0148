"""Schnittstellen: the interfaces, their connections, mapping, schedule, versions and runs.

Pages are GETs (tabs are URLs); every action is a POST form that works without
JS (303 back to the page) and with htmx (204 + ``HX-Location``). Authorisation
is the services' (a viewer's POST gets 403); each route looks the interface up
first, so another tenant's id is 404 before anything else is said about it.
"""

from __future__ import annotations

import difflib
import uuid
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from fastapi import Form, Query, Request
from pydantic import BaseModel, Field, ValidationError
from starlette.responses import Response

from app.api.deps import SessionDep, StateDep
from app.auth.actor import Permission
from app.core.errors import Conflict, NotFound
from app.models import MappingVersion
from app.models.base import utcnow
from app.models.enums import RunTrigger
from app.models.interface import MAX_INTERVAL_MINUTES, MIN_INTERVAL_MINUTES
from app.sync import dashboard, interface_control, interfaces, versions
from app.ui.dashboard import helpers, see_other
from app.ui.i18n import mark
from app.ui.page import Page, PageDep
from app.ui.router import router
from app.ui.templating import render

INTERVAL_CHOICES = (10, 15, 20, 30, 45)
VALUE_CHARS = 200  # a dry run's preview shows this much of each value
VALUE_FIELDS = 20
PORTAL_BUSY = mark(
    "The HubSpot portal is busy with a run of another interface; please try again in a few minutes."
)
INTERFACES_PAGE = 50  # interfaces per page of the Schnittstellen list
PageNumber = Annotated[int, Query(alias="page", ge=1, le=100_000)]


class IntervalForm(BaseModel):
    """The schedule form: minutes between planned runs."""

    minutes: int = Field(ge=MIN_INTERVAL_MINUTES, le=MAX_INTERVAL_MINUTES)


@dataclass(frozen=True, slots=True)
class VersionEntry:
    """One row of the Versionen tab: the version, who wrote and approved it, its diff."""

    version: MappingVersion
    author: str | None
    approver: str | None
    diff: list[str]


def _url(interface_id: uuid.UUID, tab: str = "") -> str:
    return f"/ui/interfaces/{interface_id}{tab}"


async def _frame(
    request: Request, page: Page, session: SessionDep, interface_id: uuid.UUID, tab: str
) -> dict[str, Any]:
    """The context every interface page shares: the interface's overview and the helpers."""
    now = utcnow()
    row = await dashboard.interface_overview(
        session, actor=page.actor, interface_id=interface_id, now=now
    )
    return page.context("interfaces", row=row, tab=tab, **helpers(request, page, now))


@router.get("/interfaces")
async def interface_list(
    request: Request, page: PageDep, session: SessionDep, number: PageNumber = 1
) -> Response:
    """Schnittstellen: the interfaces with state, health, schedule and mapping version,
    errors and warnings first, a page at a time."""
    now = utcnow()
    found = await dashboard.board(
        session, actor=page.actor, filters=dashboard.BoardFilter(page=number),
        per_page=INTERFACES_PAGE, now=now, figures=False,  # no activity column here
    )  # fmt: skip

    def page_url(n: int) -> str | None:
        return None if not 1 <= n <= found.pages else f"/ui/interfaces?page={n}"

    context = page.context(
        "interfaces", rows=found.rows, board=found, page_url=page_url,
        **helpers(request, page, now),
    )  # fmt: skip
    return render(request, "interfaces.html", context)


async def _overview_tab(
    request: Request, page: Page, session: SessionDep, interface_id: uuid.UUID, **extra: Any
) -> dict[str, Any]:
    context = await _frame(request, page, session, interface_id, "overview")
    interface = context["row"].interface
    active = approved_by = None
    if interface.active_mapping_version_id is not None:
        active = await versions.get_version(
            session, actor=page.actor, version_id=interface.active_mapping_version_id
        )
        approved_by = await versions.approver_label(session, active)
    dry_run = await dashboard.latest_dry_run(session, actor=page.actor, interface_id=interface_id)
    choices = sorted({*INTERVAL_CHOICES, interface.interval_minutes})
    return {
        **context, "active_version": active, "approved_by": approved_by, "dry_run": dry_run,
        "interval_choices": choices, "interval_range": (MIN_INTERVAL_MINUTES, MAX_INTERVAL_MINUTES),
        "interval_error": False, "finished_run": None, **extra,
    }  # fmt: skip


@router.get("/interfaces/{interface_id}")
async def interface_detail(
    request: Request, interface_id: uuid.UUID, page: PageDep, session: SessionDep
) -> Response:
    """One interface: last or current run, schedule, activity, connections, mapping."""
    context = await _overview_tab(request, page, session, interface_id)
    return render(request, "interface_detail.html", context)


@router.get("/interfaces/{interface_id}/live")
async def interface_live(
    request: Request,
    interface_id: uuid.UUID,
    page: PageDep,
    session: SessionDep,
    watching: uuid.UUID | None = None,
) -> Response:
    """The run panel alone, polled while a run is in progress; says when it finished."""
    context = await _overview_tab(request, page, session, interface_id)
    row = context["row"]
    finished = watching is not None and (row.running is None or row.running.id != watching)
    if finished and watching is not None:
        context["finished_run"] = await dashboard.interface_run(
            session, actor=page.actor, interface_id=interface_id, run_id=watching
        )
    headers = {"HX-Trigger": "run-finished"} if finished else None
    return render(request, "interface_detail.html", context, block="run_panel", headers=headers)


@router.get("/interfaces/{interface_id}/mapping")
async def interface_mapping(
    request: Request,
    interface_id: uuid.UUID,
    page: PageDep,
    session: SessionDep,
    version: uuid.UUID | None = None,
) -> Response:
    """The mapping table as readable tables: the version that runs, or the one asked for."""
    context = await _frame(request, page, session, interface_id, "mapping")
    found = await versions.list_versions(session, actor=page.actor, interface_id=interface_id)
    wanted = version or context["row"].interface.active_mapping_version_id
    shown = next((v for v in found if v.id == wanted), found[0] if found else None)
    if version is not None and (shown is None or shown.id != version):
        raise NotFound("mapping version not found")
    table = versions.version_table(shown) if shown else None
    return render(request, "interface_mapping.html", {**context, "version": shown, "table": table})


@router.get("/interfaces/{interface_id}/versions")
async def interface_versions(
    request: Request, interface_id: uuid.UUID, page: PageDep, session: SessionDep
) -> Response:
    """The mapping versions with author, approval, status and changes; approve here."""
    context = await _frame(request, page, session, interface_id, "versions")
    found = await versions.list_versions(session, actor=page.actor, interface_id=interface_id)
    emails = await dashboard.user_emails(
        session, [v.author_id for v in found] + [v.approved_by_id for v in found]
    )
    entries = []
    for index, version in enumerate(found):
        previous = found[index + 1] if index + 1 < len(found) else None
        approver = emails.get(version.approved_by_id) if version.approved_by_id else None
        if version.approved_at and approver is None:
            approver = await versions.approver_label(session, version)  # e.g. the command line
        entries.append(VersionEntry(version, emails.get(version.author_id) if version.author_id
                                    else None, approver, _diff(previous, version)))  # fmt: skip
    return render(request, "interface_versions.html", {**context, "versions": entries})


def _diff(previous: MappingVersion | None, version: MappingVersion) -> list[str]:
    if previous is None:
        return []
    lines = difflib.unified_diff(
        previous.yaml_text.splitlines(), version.yaml_text.splitlines(),
        f"v{previous.number}", f"v{version.number}", lineterm="", n=2,
    )  # fmt: skip
    return list(lines)[2:]  # without the ---/+++ file header


@router.get("/interfaces/{interface_id}/versions/{version_id}/export")
async def export_version(
    interface_id: uuid.UUID,
    version_id: uuid.UUID,
    page: PageDep,
    session: SessionDep,
    format: Literal["xlsx", "csv", "md"] = "xlsx",
) -> Response:
    """A version as its sign-off document (XLSX, CSV or Markdown), as a download."""
    await _version_of(session, page, interface_id, version_id)
    document = await versions.export_version(
        session, actor=page.actor, version_id=version_id, format=format
    )
    disposition = f'attachment; filename="{document.filename}"'
    return Response(
        document.content,
        media_type=document.media_type,
        headers={"Content-Disposition": disposition, "Cache-Control": "no-store"},
    )


async def _version_of(
    session: SessionDep, page: Page, interface_id: uuid.UUID, version_id: uuid.UUID
) -> MappingVersion:
    await interfaces.get_interface(session, actor=page.actor, interface_id=interface_id)
    version = await versions.get_version(session, actor=page.actor, version_id=version_id)
    if version.interface_id != interface_id:
        raise NotFound("mapping version not found")
    return version


@router.post("/interfaces/{interface_id}/versions/{version_id}/approve")
async def approve_version(
    request: Request,
    interface_id: uuid.UUID,
    version_id: uuid.UUID,
    page: PageDep,
    session: SessionDep,
) -> Response:
    """Approve a version (admins, operators): it becomes the table the interface runs."""
    await _version_of(session, page, interface_id, version_id)
    await versions.approve_version(session, actor=page.actor, version_id=version_id)
    return see_other(request, _url(interface_id, "/versions"))


@router.post("/interfaces/{interface_id}/activate")
async def activate(
    request: Request, interface_id: uuid.UUID, page: PageDep, session: SessionDep
) -> Response:
    """Put the interface on its schedule (needs an approved version); it runs now."""
    await interface_control.activate_interface(session, actor=page.actor, interface_id=interface_id)
    return see_other(request, _url(interface_id))


@router.post("/interfaces/{interface_id}/pause")
async def pause(
    request: Request, interface_id: uuid.UUID, page: PageDep, session: SessionDep
) -> Response:
    """Take the interface off its schedule until it is resumed."""
    await interface_control.pause_interface(session, actor=page.actor, interface_id=interface_id)
    return see_other(request, _url(interface_id))


@router.post("/interfaces/{interface_id}/resume")
async def resume(
    request: Request, interface_id: uuid.UUID, page: PageDep, session: SessionDep
) -> Response:
    """Put a paused interface back on its schedule; it runs now."""
    await interface_control.resume_interface(session, actor=page.actor, interface_id=interface_id)
    return see_other(request, _url(interface_id))


@router.post("/interfaces/{interface_id}/interval")
async def change_interval(
    request: Request, interface_id: uuid.UUID, page: PageDep, session: SessionDep
) -> Response:
    """Change the interval (10–45 minutes); outside the range the form comes back (422)."""
    await interfaces.get_interface(session, actor=page.actor, interface_id=interface_id)
    page.actor.require(Permission.operate_interfaces)
    submitted = (await request.form()).get("minutes")
    try:
        minutes = IntervalForm.model_validate({"minutes": submitted}).minutes
    except ValidationError:
        context = await _overview_tab(request, page, session, interface_id, interval_error=True)
        return render(
            request, "interface_detail.html", context, block="interval_form", status_code=422
        )
    await interface_control.set_interval(
        session, actor=page.actor, interface_id=interface_id, minutes=minutes
    )
    return see_other(request, _url(interface_id))


async def _operable(session: SessionDep, page: Page, interface_id: uuid.UUID) -> None:
    """404 for another tenant's interface, 403 for viewers; then let the run write (SQLite)."""
    await interfaces.get_interface(session, actor=page.actor, interface_id=interface_id)
    page.actor.require(Permission.operate_interfaces)
    await session.commit()  # the run writes in its own sessions: hold no lock meanwhile


@router.post("/interfaces/{interface_id}/run")
async def run_now(
    request: Request,
    interface_id: uuid.UUID,
    page: PageDep,
    session: SessionDep,
    state: StateDep,
    back: Annotated[Literal["dashboard", "detail"], Form()] = "detail",
) -> Response:
    """Start a run in the background and show it running (its page follows it)."""
    await _operable(session, page, interface_id)
    started = await state.executor.start(interface_id, trigger=RunTrigger.manual, actor=page.actor)
    if started.busy == "portal":  # a busy interface needs no word: its page shows the run
        raise Conflict(PORTAL_BUSY)  # the UI error handler translates it
    return see_other(request, "/ui/" if back == "dashboard" else _url(interface_id))


@router.post("/interfaces/{interface_id}/dry-run")
async def dry_run(
    request: Request, interface_id: uuid.UUID, page: PageDep, session: SessionDep, state: StateDep
) -> Response:
    """Start a dry run in the background and open its preview, which fills in as it runs."""
    await _operable(session, page, interface_id)
    run = await dashboard.start_dry_run(
        state.session_factory, actor=page.actor, box=state.secret_box,
        interface_id=interface_id, public_url=state.settings.public_url,
        oauth_app=state.executor.oauth_app,
    )  # fmt: skip
    return see_other(request, _url(interface_id, f"/dry-runs/{run.id}"))


async def _dry_run_context(
    request: Request, page: Page, session: SessionDep, interface_id: uuid.UUID, run_id: uuid.UUID
) -> dict[str, Any]:
    context = await _frame(request, page, session, interface_id, "overview")
    report = await dashboard.dry_run_report(
        session, actor=page.actor, interface_id=interface_id, run_id=run_id
    )
    progress: dict[str, int] = {}
    if report.run.status.value == "running":
        progress = (await dashboard.run_progress(session, [report.run.id]))[report.run.id]
    return {**context, "report": report, "progress": progress, "values": _values,
            "preview_rows": dashboard.PREVIEW_ROWS}  # fmt: skip


@router.get("/interfaces/{interface_id}/dry-runs/{run_id}")
async def dry_run_page(
    request: Request, interface_id: uuid.UUID, run_id: uuid.UUID, page: PageDep, session: SessionDep
) -> Response:
    """A dry run's preview: what would be created, updated, deleted, skipped or refused."""
    context = await _dry_run_context(request, page, session, interface_id, run_id)
    return render(request, "interface_dry_run.html", context, block="dry_run")


@router.get("/interfaces/{interface_id}/dry-runs/{run_id}/live")
async def dry_run_live(
    request: Request, interface_id: uuid.UUID, run_id: uuid.UUID, page: PageDep, session: SessionDep
) -> Response:
    """The dry run's preview alone, polled while it runs."""
    context = await _dry_run_context(request, page, session, interface_id, run_id)
    return render(request, "interface_dry_run.html", context, block="dry_run")


def _values(payload: dict[str, Any] | None) -> list[tuple[str, str]]:
    """A record's values from its payload (whatever the action stored), shortened for display."""
    if not payload:
        return []
    values = next(
        (
            payload[k]
            for k in ("properties", "values", "source")
            if isinstance(payload.get(k), dict)
        ),
        {k: v for k, v in payload.items() if k not in ("record", "conflicts")},
    )
    pairs = []
    for name, value in list(values.items())[:VALUE_FIELDS]:
        text = "–" if value is None else str(value)
        pairs.append((str(name), text if len(text) <= VALUE_CHARS else text[:VALUE_CHARS] + "…"))
    return pairs
