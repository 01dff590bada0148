"""The error log's HubSpot events that could not be processed: retrying them.

The list itself is part of the error log (``error_log.py``, from
``app.sync.webhooks.failures``); this module holds the action.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Form, Request
from starlette.responses import Response

from app.api.deps import SessionDep
from app.sync.webhooks.failures import retry_failed_events
from app.ui.error_log import BackField, Notice, action_answer
from app.ui.page import PageDep
from app.ui.router import router


@router.post("/errors/webhooks/retry")
async def retry_webhook_events(
    request: Request,
    page: PageDep,
    session: SessionDep,
    subscription_type: Annotated[str, Form(max_length=100)],
    error: Annotated[str, Form(max_length=10_000)] = "",
    back: BackField = "/ui/errors",
) -> Response:
    """Queue the failed events of one type and error again; the worker takes them now."""
    count = await retry_failed_events(
        session, actor=page.actor, subscription_type=subscription_type, error=error
    )
    await session.commit()
    return action_answer(request, Notice.requeued, count, back)
