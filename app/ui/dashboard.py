"""Übersicht: every interface the user may see, its health and its runs at a glance."""

from __future__ import annotations

from fastapi import Request
from starlette.responses import Response

from app.api.deps import SessionDep
from app.sync import interfaces
from app.ui.page import PageDep
from app.ui.router import router
from app.ui.templating import render


@router.get("/")
async def dashboard(request: Request, page: PageDep, session: SessionDep) -> Response:
    """Übersicht: every interface the user may see and its health."""
    rows = await interfaces.list_interfaces(session, actor=page.actor)
    return render(request, "dashboard.html", page.context("dashboard", interfaces=rows))
