"""Fehlerprotokoll: failed runs and items grouped by cause, with retry and resolve."""

from __future__ import annotations

from fastapi import Request
from starlette.responses import Response

from app.api.deps import SessionDep
from app.sync import interfaces, runs
from app.ui.page import PageDep
from app.ui.router import router
from app.ui.templating import render


@router.get("/errors")
async def error_log(request: Request, page: PageDep, session: SessionDep) -> Response:
    """Fehlerprotokoll: open failed tasks, newest first."""
    rows = await runs.list_open_failures(session, actor=page.actor)
    names = {i.id: i.name for i in await interfaces.list_interfaces(session, actor=page.actor)}
    return render(request, "errors.html", page.context("errors", items=rows, names=names))
