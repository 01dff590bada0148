"""Übersicht: every interface the user may see, its health and its runs at a glance.

The table is one block of ``dashboard.html``, 25 interfaces a page (the status
chips and the tenant filter count all of them); while any run of the shown
interfaces is in progress it polls ``/ui/dashboard/live`` for that block every
30 s, and the server stops the polling by answering without ``hx-trigger``
once nothing runs (UI.md 3, "Polling a running run"). Also here: the helpers
the interface pages share (times, redirects after POST) and the language switch.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode, urlsplit

from babel import Locale
from babel.dates import format_timedelta
from fastapi import Form, Query, Request
from starlette.responses import RedirectResponse, Response

from app.api.deps import SessionDep, StateDep
from app.auth.actor import Permission
from app.models.base import utcnow
from app.sync import dashboard
from app.sync.mapping.layout import dump_flow
from app.ui.i18n import LANGUAGES
from app.ui.page import Page, PageDep
from app.ui.router import router
from app.ui.templating import LANGUAGE_COOKIE, render, request_language

DASHBOARD_POLL = "every 30s"  # UI.md 4.6: dashboard 30 s, a run's panel 2 s
RUN_POLL = "every 2s"
DASHBOARD_PAGE = 25  # interfaces per page: the table stays quick to render and to scan


def see_other(request: Request, url: str, *, reload: bool = False) -> Response:
    """After a POST: 303 without JS; for htmx 204 with ``HX-Location`` (or ``HX-Redirect``)."""
    if request.headers.get("HX-Request") != "true":
        return RedirectResponse(url, status_code=303)
    return Response(status_code=204, headers={("HX-Redirect" if reload else "HX-Location"): url})


def helpers(request: Request, page: Page, now: datetime) -> dict[str, Any]:
    """What every dashboard and interface template uses: the clock, permissions, formats."""
    locale = Locale.parse(LANGUAGES[request_language(request)][0])  # parsed once, not per call

    def ago(value: datetime | None) -> str:
        if value is None:
            return ""
        return format_timedelta(value - now, add_direction=True, locale=locale, format="short")

    return {
        "now": now,
        "ago": ago,
        "duration": duration,
        "flow": dump_flow,
        "totals": dashboard.outcome_totals,
        "can_operate": page.actor.can(Permission.operate_interfaces),
        "can_approve": page.actor.can(Permission.approve_mappings),
        "can_read_payloads": page.actor.can(Permission.read_payloads),
        "is_operator": page.actor.scope.tenant_id is None,
        "run_poll": RUN_POLL,
    }


def duration(start: datetime | None, end: datetime | None) -> str:
    """A run's duration as "2 min 14 s" (or "< 1 s"), the same in both languages."""
    if start is None or end is None:
        return "–"
    seconds = int((end - start) / timedelta(seconds=1))
    if seconds < 1:
        return "< 1 s"
    minutes, seconds = divmod(seconds, 60)
    return f"{minutes} min {seconds} s" if minutes else f"{seconds} s"


def _filters(status: str | None, tenant: str | None, page: int) -> dashboard.BoardFilter:
    """Query filters as given, unknown values dropped (a stale bookmark shows everything)."""
    try:
        tenant_id = uuid.UUID(tenant) if tenant else None
    except ValueError:
        tenant_id = None
    known = status if status in dashboard.STATUS_FILTERS else None
    return dashboard.BoardFilter(status=known, tenant_id=tenant_id, page=page)


def _url(path: str, **query: str | None) -> str:
    given = {k: v for k, v in query.items() if v}
    return f"{path}?{urlencode(given)}" if given else path


async def _context(
    request: Request,
    page: Page,
    session: SessionDep,
    status: str | None,
    tenant: str | None,
    number: int,
) -> dict[str, Any]:
    now = utcnow()
    filters = _filters(status, tenant, number)
    found = await dashboard.board(
        session, actor=page.actor, filters=filters, per_page=DASHBOARD_PAGE, now=now
    )
    tenant_id = str(filters.tenant_id) if filters.tenant_id else None

    def page_url(n: int, path: str = "/ui/") -> str | None:
        """The URL of page ``n`` under the same filters (None: no such other page)."""
        if not 1 <= n <= found.pages:
            return None
        number = str(n) if n > 1 else None
        return _url(path, status=filters.status, tenant=tenant_id, page=number)

    return page.context(
        "dashboard",
        rows=found.rows,
        total=found.total,
        counts=found.counts,
        filters={"status": filters.status, "tenant": filters.tenant_id},
        tenants=found.tenants,
        any_interfaces=bool(found.total) or filters.tenant_id is not None,
        board=found,
        page_url=page_url,
        poll=DASHBOARD_POLL if any(r.running for r in found.rows) else None,
        live_url=page_url(found.page, "/ui/dashboard/live"),
        status_url=lambda status: _url("/ui/", status=status, tenant=tenant_id),
        **helpers(request, page, now),
    )


@router.get("/")
async def dashboard_page(
    request: Request,
    page: PageDep,
    session: SessionDep,
    status: str | None = None,
    tenant: str | None = None,
    number: Annotated[int, Query(alias="page", ge=1, le=100_000)] = 1,
) -> Response:
    """Übersicht: every interface the user may see and its health, a page at a time."""
    context = await _context(request, page, session, status, tenant, number)
    return render(request, "dashboard.html", context, block="live")


@router.get("/dashboard/live")
async def dashboard_live(
    request: Request,
    page: PageDep,
    session: SessionDep,
    status: str | None = None,
    tenant: str | None = None,
    number: Annotated[int, Query(alias="page", ge=1, le=100_000)] = 1,
) -> Response:
    """The Übersicht's table alone, polled while a run is in progress."""
    context = await _context(request, page, session, status, tenant, number)
    return render(request, "dashboard.html", context, block="live")


def _local(target: str) -> str:
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path.startswith("/ui") or "\\" in target:
        return "/ui/"
    return target


@router.post("/language")
async def set_language(
    request: Request,
    page: PageDep,
    state: StateDep,
    lang: Annotated[str, Form(max_length=5)],
    next: Annotated[str, Form(max_length=500)] = "/ui/",
) -> Response:
    """Switch the UI language (German or English) for this browser."""
    response = see_other(request, _local(next), reload=True)
    if lang in LANGUAGES:
        response.set_cookie(
            LANGUAGE_COOKIE, lang, max_age=365 * 24 * 3600, httponly=True, samesite="lax",
            secure=state.settings.secure_cookies, path="/",
        )  # fmt: skip
    return response
