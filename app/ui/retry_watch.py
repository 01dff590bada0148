"""Following a retry from the error log: poll its runs, then say how it went and reload.

A retry answers at once (the runs work in the background), so the error log
would still list the causes as open. The retry's toast therefore brings a
hidden poller (``#retry-watch``, outside the live region: nothing is read out
while it polls) that asks here every 2 s; once every run finished it is
answered without ``hx-trigger`` (the poll stops), with the outcome as a toast
in the live region, and with ``errors-changed`` so the list (or the group's
records) reloads and the settled causes leave it.
"""

from __future__ import annotations

import json
import uuid
from collections import Counter
from collections.abc import Sequence
from typing import Annotated

from fastapi import Query, Request
from starlette.responses import Response

from app.api.deps import SessionDep
from app.models.enums import RunStatus
from app.sync import dashboard, runs
from app.ui.dashboard import RUN_POLL
from app.ui.page import PageDep
from app.ui.router import router
from app.ui.templating import render

MAX_RUNS = 20  # a retry starts one run per interface of the records retried
RELOAD = json.dumps({"errors-changed": {"target": "body"}})  # the poller itself is swapped out
TEMPLATE = "partials/retry_watch.html"


def watch_url(run_ids: Sequence[uuid.UUID]) -> str:
    """Where the poller of these retry runs asks how far they are."""
    return "/ui/errors/retries?" + "&".join(f"run={run_id}" for run_id in run_ids)


@router.get("/errors/retries")
async def retry_progress(
    request: Request,
    page: PageDep,
    session: SessionDep,
    run: Annotated[list[uuid.UUID], Query(max_length=MAX_RUNS)] = [],  # noqa: B006 - FastAPI copies
) -> Response:
    """Polled while a retry runs; when all its runs finished: the outcome, and a reload."""
    if not run:  # nothing to follow: an idle poller
        return render(request, TEMPLATE, {"watch_url": None, "totals": None})
    found = await runs.get_runs(session, actor=page.actor, run_ids=run)
    if any(r.status is RunStatus.running for r in found):
        return render(request, TEMPLATE, {"watch_url": watch_url(run), "poll": RUN_POLL})
    totals: Counter[str] = Counter()
    for finished in found:
        totals.update(dashboard.outcome_totals(finished.counts))
    ok = all(r.status in (RunStatus.succeeded, RunStatus.warning) for r in found)
    context = {"watch_url": None, "totals": totals, "ok": ok}
    return render(request, TEMPLATE, context, headers={"HX-Trigger": RELOAD})
