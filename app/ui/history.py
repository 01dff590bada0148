"""Synchronisationsverlauf: the runs, and each run's objects, tasks and items."""

from __future__ import annotations

from fastapi import Request
from starlette.responses import Response

from app.api.deps import SessionDep
from app.sync import interfaces, runs
from app.ui.page import PageDep
from app.ui.router import router
from app.ui.templating import render


@router.get("/runs")
async def run_list(request: Request, page: PageDep, session: SessionDep) -> Response:
    """Synchronisationsverlauf: the newest runs."""
    rows = await runs.list_runs(session, actor=page.actor)
    names = {i.id: i.name for i in await interfaces.list_interfaces(session, actor=page.actor)}
    return render(request, "runs.html", page.context("runs", runs=rows, names=names))
