"""Schnittstellen: the interfaces, their connections, mapping, schedule and versions."""

from __future__ import annotations

from fastapi import Request
from starlette.responses import Response

from app.api.deps import SessionDep
from app.sync import interfaces
from app.ui.page import PageDep
from app.ui.router import router
from app.ui.templating import render


@router.get("/interfaces")
async def interface_list(request: Request, page: PageDep, session: SessionDep) -> Response:
    """Schnittstellen: the interfaces with state, interval and schedule."""
    rows = await interfaces.list_interfaces(session, actor=page.actor)
    return render(request, "interfaces.html", page.context("interfaces", interfaces=rows))
