"""``POST /api/v1/webhooks/hubspot``: HubSpot's webhook deliveries, authenticated by signature.

No bearer token: HubSpot signs each request with the app's client secret. The
raw body is checked before anything is parsed, the events are stored once per
(portal, event id), and HubSpot gets its 2xx as soon as they are committed;
the worker acts on them afterwards. The commit is made here rather than by a
dependency so that on SQLite it happens within the request's writing turn.
The body cap (``HUBSYNC_MAX_BODY_BYTES``, 1 MiB by default) is enforced by the
middleware before the body is read.
"""

from __future__ import annotations

import time

from fastapi import APIRouter, Request
from pydantic import BaseModel

from app.api.deps import StateDep
from app.core.db import session_scope
from app.core.logging import get_logger
from app.core.settings import Settings
from app.models.base import utcnow
from app.sync.webhooks.events import MalformedEvents, parse_events
from app.sync.webhooks.store import store_events, writing_turn
from app.sync.webhooks.verify import (
    BadSignature,
    SignedRequest,
    WebhooksNotConfigured,
    accepted_secrets,
    public_uri,
    verify,
)

PATH = "/api/v1/webhooks/hubspot"
log = get_logger("hubsync.webhooks")
router = APIRouter(tags=["webhooks"])


class WebhookAck(BaseModel):
    """How many events the request held and how many of them were new."""

    received: int
    stored: int


@router.post(
    PATH,
    responses={
        **BadSignature.schema(),
        **MalformedEvents.schema(),
        **WebhooksNotConfigured.schema(),
        413: {"description": "The body is larger than the configured limit."},
    },
)
async def receive_hubspot_events(request: Request, state: StateDep) -> WebhookAck:
    """Verify a HubSpot webhook delivery, store its events, and acknowledge it at once."""
    body = await request.body()
    version = _verified(request, body, state.settings)
    events = parse_events(body)
    async with writing_turn(state.engine), session_scope(state.session_factory) as session:
        stored = await store_events(session, events=events, received_at=utcnow())
    log.info("webhook events stored", received=len(events), stored=stored, signature=version)
    return WebhookAck(received=len(events), stored=stored)


def _verified(request: Request, body: bytes, settings: Settings) -> str:
    """The signature version that vouches for the request; a refusal is logged (why, not what)."""
    current, previous = settings.hubspot_client_secret, settings.hubspot_client_secret_previous
    secrets = accepted_secrets(
        current.get_secret_value() if current else None,
        previous.get_secret_value() if previous else None,
    )
    uri = public_uri(settings.public_url, request.url.path, request.url.query)
    try:
        return verify(
            SignedRequest(request.method, uri, body, request.headers),
            secrets=secrets,
            now_ms=int(time.time() * 1000),
        )
    except BadSignature as exc:
        log.warning("webhook refused", reason=exc.message)
        raise
