"""Fehlerprotokoll: failed runs and items grouped by cause, with retry and resolve.

Blockers (interfaces whose last run failed) come first, then the open failed
tasks grouped by cause. A group opens lazily (``<details>`` + ``hx-get``) into
its records; each record's ⓘ shows what was to be sent (only for roles that may
read payloads) in a dialog loaded on demand. Retry and resolve are POST forms:
htmx gets a toast and an ``errors-changed`` event that reloads the list (for a
retry once its runs finished, see ``retry_watch``), plain browsers a redirect
back with a notice code.
"""

from __future__ import annotations

import enum
import re
import uuid
from collections.abc import Sequence
from datetime import date
from typing import Annotated, Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from fastapi import Form, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field, field_validator
from starlette.responses import RedirectResponse, Response

from app.api.deps import SessionDep, StateDep
from app.auth.actor import Permission
from app.core.errors import Conflict, NotFound
from app.models import RunItem
from app.models.enums import ErrorCategory, ItemStatus
from app.sync import interfaces, retry, runs
from app.sync.error_groups import ErrorGroup, hint_for
from app.sync.webhooks.failures import failed_events
from app.ui.dashboard import RUN_POLL
from app.ui.history import blank_is_none, cursor, day_start, payload_views, url
from app.ui.i18n import mark
from app.ui.page import Page, PageDep
from app.ui.retry_watch import watch_url
from app.ui.router import router
from app.ui.templating import is_partial, render

GROUPS_PER_PAGE = 25
BackField = Annotated[str, Form(max_length=2000)]
GroupId = Annotated[str, Path(max_length=64)]
_GROUP_PATH = re.compile(r"/ui/errors/groups/[0-9a-f]{1,64}")


class Notice(enum.StrEnum):
    """What a finished action tells the user after a plain (no-JS) redirect."""

    retried = "retried"
    nothing = "nothing"
    resolved = "resolved"
    busy = "busy"
    requeued = "requeued"


NOTICES = {
    Notice.retried: mark("Retry started. Records being synchronised again: %(n)s."),
    Notice.nothing: mark("Nothing to retry: these records are no longer open."),
    Notice.resolved: mark("Records marked as resolved: %(n)s."),
    Notice.requeued: mark("Webhook events queued again: %(n)s."),
    Notice.busy: mark(
        "The interface is running right now; please retry once the current run has finished."
    ),
}


class ErrorQuery(BaseModel):
    """The error log's filters, page and notice, all in the URL."""

    model_config = ConfigDict(extra="ignore")

    interface: uuid.UUID | None = None
    object: str | None = Field(default=None, max_length=100)
    category: ErrorCategory | None = None
    status: ItemStatus | None = None
    since: date | None = None
    until: date | None = None
    key: str | None = Field(default=None, max_length=255)
    page: int = Field(default=1, ge=1, le=10_000)
    notice: Notice | None = None
    n: int | None = Field(default=None, ge=0)

    _blank = field_validator("*", mode="before")(blank_is_none)

    def filters(self) -> runs.FailureFilter:
        """The service's filter (open failures unless ``resolved`` is asked for)."""
        return runs.FailureFilter(
            interface_id=self.interface,
            object_name=self.object,
            category=self.category,
            status=ItemStatus.resolved if self.status == ItemStatus.resolved else ItemStatus.failed,
            since=day_start(self.since),
            until=day_start(self.until, plus_days=1),
            key=self.key,
        )

    def params(self) -> dict[str, Any]:
        """The filters as query parameters (no page, no notice)."""
        return self.model_dump(exclude={"page", "notice", "n"}, mode="json")


class GroupQuery(BaseModel):
    """Which status a group's records have, and the page cursor."""

    model_config = ConfigDict(extra="ignore")

    status: ItemStatus | None = None
    before: str | None = Field(default=None, max_length=80)
    notice: Notice | None = None
    n: int | None = Field(default=None, ge=0)
    embedded: bool = False  # loaded into the error log's expansion, not its own page

    _blank = field_validator("*", mode="before")(blank_is_none)

    @property
    def item_status(self) -> ItemStatus:
        """Open failures unless ``resolved`` is asked for."""
        return ItemStatus.resolved if self.status == ItemStatus.resolved else ItemStatus.failed


@router.get("/errors")
async def error_log(
    request: Request,
    page: PageDep,
    session: SessionDep,
    query: Annotated[ErrorQuery, Query()],
) -> Response:
    """Fehlerprotokoll: blockers, then open failed tasks grouped by cause."""
    start = (query.page - 1) * GROUPS_PER_PAGE
    listing = await runs.list_error_groups(
        session, actor=page.actor, filters=query.filters(), offset=start, limit=GROUPS_PER_PAGE
    )
    known = await interfaces.interface_choices(session, actor=page.actor)
    watched = [i for i in known if query.interface in (None, i.id)]
    blockers = await runs.list_blockers(session, actor=page.actor, interfaces=watched)
    context = page.context(
        "errors",
        groups=listing.groups,
        group_total=listing.total,
        blockers=blockers,
        blocker_hints={b.run.id: hint_for(b.run.error_summary, None) for b in blockers},
        webhook_failures=await failed_events(session, actor=page.actor),
        names={i.id: i.name for i in known},
        interfaces=known,
        query=query,
        resolved_view=query.status == ItemStatus.resolved,
        filtered=any(v is not None for v in query.params().values()),
        notice=_notice(query.notice, query.n),
        can_operate=page.actor.can(Permission.operate_interfaces),
        **_list_links(query, more=listing.total > start + GROUPS_PER_PAGE),
    )
    return render(request, "errors.html", context, block="results")


def _list_links(query: ErrorQuery, *, more: bool) -> dict[str, str | None]:
    params = query.params()
    here = url("/ui/errors", {**params, "page": query.page})
    return {
        "results_url": here,
        "back": here,
        "next_url": url("/ui/errors", {**params, "page": query.page + 1}) if more else None,
        "previous_url": (
            url("/ui/errors", {**params, "page": query.page - 1}) if query.page > 1 else None
        ),
    }


def _notice(notice: Notice | None, n: int | None) -> tuple[str, int] | None:
    return (NOTICES[notice], n or 0) if notice is not None else None


@router.get("/errors/groups/{group_id}")
async def error_group(
    request: Request,
    group_id: GroupId,
    page: PageDep,
    session: SessionDep,
    query: Annotated[GroupQuery, Query()],
) -> Response:
    """One group's records, newest first (the group's expansion, and its own page)."""
    try:
        group = await runs.get_error_group(
            session, actor=page.actor, group_id=group_id, status=query.item_status
        )
    except NotFound:
        if query.notice is None and not is_partial(request):
            raise
        # an action emptied the group (or it never was): say so where the records were
        context = page.context(
            "errors", group=None, items=[], notice=_notice(query.notice, query.n)
        )
        status_code = 200 if query.notice else 404
        return render(
            request, "errors_group.html", context, block="group_items", status_code=status_code
        )
    items = await runs.page_group_items(
        session,
        actor=page.actor,
        group=group,
        status=query.item_status,
        before=cursor(query.before),
    )
    context = await _group_context(page, session, group, items, query)
    return render(request, "errors_group.html", context, block="group_items")


async def _group_context(
    page: Page,
    session: SessionDep,
    group: ErrorGroup,
    items: runs.Page[RunItem],
    query: GroupQuery,
) -> dict[str, Any]:
    interface = await interfaces.get_interface(
        session, actor=page.actor, interface_id=group.key.interface_id
    )
    path = f"/ui/errors/groups/{group.id}"
    status = "resolved" if query.item_status == ItemStatus.resolved else None
    older = None
    if items.older:
        embedded = "true" if query.embedded else None
        older = url(path, {"status": status, "before": items.older.encode(), "embedded": embedded})
    return page.context(
        "errors",
        group=group,
        items=items.rows,
        names={interface.id: interface.name},
        resolved_view=status is not None,
        group_url=url(path, {"status": status}),
        older_url=older,
        back=url(path, {"status": status}),
        embedded=query.embedded,
        list_url="/ui/errors",
        notice=_notice(query.notice, query.n),
        can_operate=page.actor.can(Permission.operate_interfaces),
    )


@router.get("/errors/items/{item_id}")
async def error_item(
    request: Request, item_id: uuid.UUID, page: PageDep, session: SessionDep
) -> Response:
    """A record's ⓘ: its error and, for roles that may read payloads, the values to be sent.

    htmx loads it into a modal dialog; without JS the ⓘ button opens it as a page.
    """
    item = await runs.get_item(session, actor=page.actor, item_id=item_id)
    mappings = {}
    if page.actor.can(Permission.read_payloads):
        mappings = await runs.run_mappings(session, actor=page.actor, run_ids=[item.run_id])
    view = payload_views(page.actor, [item], mappings).get(item.id)
    context = page.context("errors", item=item, view=view)
    name = "partials/errors_item_dialog.html" if is_partial(request) else "errors_item.html"
    return render(request, name, context)


@router.post("/errors/items/{item_id}/retry")
async def retry_item(
    request: Request,
    item_id: uuid.UUID,
    page: PageDep,
    session: SessionDep,
    state: StateDep,
    back: BackField = "/ui/errors",
) -> Response:
    """Retry one failed record now (a background run with trigger ``retry``)."""
    page.actor.require(Permission.operate_interfaces)
    item = await runs.get_item(session, actor=page.actor, item_id=item_id)
    return await _retry(request, page, session, state, [item.id], back)


@router.post("/errors/groups/{group_id}/retry")
async def retry_group(
    request: Request,
    group_id: GroupId,
    page: PageDep,
    session: SessionDep,
    state: StateDep,
    back: BackField = "/ui/errors",
) -> Response:
    """Retry every open failed record of a group now."""
    ids = await _open_records(page, session, group_id)
    return await _retry(request, page, session, state, ids, back)


@router.post("/errors/items/{item_id}/resolve")
async def resolve_item(
    request: Request,
    item_id: uuid.UUID,
    page: PageDep,
    session: SessionDep,
    back: BackField = "/ui/errors",
) -> Response:
    """Mark one failed record as resolved (no retry)."""
    page.actor.require(Permission.operate_interfaces)
    item = await runs.get_item(session, actor=page.actor, item_id=item_id)
    count = await retry.resolve_items(session, actor=page.actor, item_ids=[item.id])
    return action_answer(request, Notice.resolved, count, back)


@router.post("/errors/groups/{group_id}/resolve")
async def resolve_group(
    request: Request,
    group_id: GroupId,
    page: PageDep,
    session: SessionDep,
    back: BackField = "/ui/errors",
) -> Response:
    """Mark every open failed record of a group as resolved."""
    ids = await _open_records(page, session, group_id)
    count = await retry.resolve_items(session, actor=page.actor, item_ids=ids)
    return action_answer(request, Notice.resolved, count, back)


async def _open_records(page: Page, session: SessionDep, group_id: str) -> list[uuid.UUID]:
    """The open failed records of a group an operating user acts on."""
    page.actor.require(Permission.operate_interfaces)
    group = await runs.get_error_group(session, actor=page.actor, group_id=group_id)
    return await runs.group_item_ids(session, actor=page.actor, group=group)


async def _retry(
    request: Request,
    page: Page,
    session: SessionDep,
    state: StateDep,
    item_ids: list[uuid.UUID],
    back: str,
) -> Response:
    await session.commit()  # the retry runs write from their own sessions (SQLite: one writer)
    try:
        started = await retry.retry_items(
            state.session_factory, state.executor, actor=page.actor, item_ids=item_ids
        )
    except Conflict:
        return action_answer(request, Notice.busy, 0, back, status_code=409)
    if not started:
        return action_answer(request, Notice.nothing, 0, back)
    watching = [run.id for run in started]
    return action_answer(request, Notice.retried, len(item_ids), back, watching=watching)


def action_answer(
    request: Request,
    notice: Notice,
    count: int,
    back: str,
    *,
    status_code: int = 200,
    watching: Sequence[uuid.UUID] = (),
) -> Response:
    """The answer to an action: a toast for htmx, a redirect back for plain forms.

    A retry's toast brings a poller of its runs, which reloads the list once they
    finished; any other action changed the list already, so it reloads now.
    """
    if request.headers.get("HX-Request") != "true":
        return RedirectResponse(_back_with(back, notice, count), status_code=303)
    headers = {} if watching else {"HX-Trigger": "errors-changed"}
    if status_code >= 400:
        headers |= {"HX-Retarget": "#toasts", "HX-Reswap": "innerHTML"}
    context = {
        "message": NOTICES[notice], "n": count, "ok": status_code < 400,
        "watch_url": watch_url(watching) if watching else None, "poll": RUN_POLL,
    }  # fmt: skip
    return render(
        request, "partials/errors_toast.html", context, status_code=status_code, headers=headers
    )


def _back_with(back: str, notice: Notice, count: int) -> str:
    """``back`` (only our own error log or group pages) with the notice added."""
    parts = urlsplit(back)
    if parts.scheme or parts.netloc or not parts.path.startswith("/ui/errors"):
        return url("/ui/errors", {"notice": notice.value, "n": count})
    path = parts.path if _GROUP_PATH.fullmatch(parts.path) else "/ui/errors"
    params = {k: v for k, v in parse_qsl(parts.query) if k not in ("notice", "n")}
    params |= {"notice": notice.value, "n": str(count)}
    return f"{path}?{urlencode(params)}"
