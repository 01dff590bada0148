"""Store a verified batch of events, each (portal, event id) once, so HubSpot is answered fast.

HubSpot redelivers a batch it got no 2xx for (same event ids, higher
``attemptNumber``) and may deliver an event twice anyway: the unique
constraint turns every repeat into a no-op. Nothing is looked up here; the
worker routes the events after the answer has gone out.

HubSpot sends up to ``maxConcurrentRequests`` batches at once. PostgreSQL
stores them side by side; SQLite has a single writer, and its busy handler
retries a waiting transaction with sleeps of up to 100 ms in no order, so an
unlucky request could wait for seconds while others get through. There the
batches of a process take turns, in arrival order (``writing_turn``).
"""

from __future__ import annotations

import asyncio
import uuid
import weakref
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.models.enums import WebhookState
from app.sync.webhooks.events import HubSpotEvent
from app.sync.webhooks.repository import WebhookEventRepository

_TURNS: weakref.WeakKeyDictionary[AsyncEngine, asyncio.Lock] = weakref.WeakKeyDictionary()


@asynccontextmanager
async def writing_turn(engine: AsyncEngine) -> AsyncIterator[None]:
    """Hold the process's turn to write webhook events on a SQLite ``engine`` (first come,
    first served); on PostgreSQL, no waiting."""
    if engine.dialect.name != "sqlite":
        yield
        return
    async with _TURNS.setdefault(engine, asyncio.Lock()):
        yield


async def store_events(
    session: AsyncSession, *, events: Sequence[HubSpotEvent], received_at: datetime
) -> int:
    """Insert the events not stored yet, due for the worker at once; returns how many were new."""
    rows = [_row(event, received_at) for event in events]
    return await WebhookEventRepository.from_session(session).insert_new(rows)


def _row(event: HubSpotEvent, received_at: datetime) -> dict[str, Any]:
    return {
        "id": uuid.uuid4(),
        "tenant_id": None,  # the worker fills it in once it knows the portal's tenant
        "portal_id": event.portal_id,
        "event_id": str(event.event_id),
        "subscription_type": event.subscription_type,
        "object_id": None if event.object_id is None else str(event.object_id),
        "occurred_at": event.occurred,
        "received_at": received_at,
        "state": WebhookState.received,
        "attempts": 0,
        "last_error": None,
        "next_attempt_at": received_at,
        "payload": event.payload(),
    }
