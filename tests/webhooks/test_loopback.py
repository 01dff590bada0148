"""Over loopback: the sandbox's dispatcher sends really signed webhooks to a live hubsync.

What HubSpot must not get through — a wrong signature, a stale timestamp, a
replay, an oversized body — is refused or ignored and changes nothing.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import httpx
import pytest

from app.connectors.hubspot.sandbox.events import ChangeEvent
from app.connectors.hubspot.sandbox.webhooks import WebhookDispatcher
from app.core.settings import Settings
from app.models.enums import WebhookState
from app.web import WebState
from tests.webhooks.kit import count_events, stored
from tests.webhooks.live import SANDBOX, LiveHubsync, Recording, live_hubsync, sandbox_dispatcher

pytestmark = pytest.mark.database


def renamed(company_id: int, name: str = "Muster AG") -> ChangeEvent:
    """A company's name changed in the portal."""
    return ChangeEvent("company.propertyChange", "0-2", company_id, int(time.time() * 1000),
                       property_name="name", property_value=name)  # fmt: skip


async def send(dispatcher: WebhookDispatcher, *events: ChangeEvent) -> None:
    """Deliver ``events`` (one try each batch) and close the dispatcher."""
    dispatcher.start()
    try:
        for change in events:
            dispatcher.publish(change)
        await dispatcher.drain()
    finally:
        await dispatcher.aclose()


@pytest.fixture
async def hubsync(settings: Settings, web: WebState) -> AsyncIterator[LiveHubsync]:
    """hubsync over loopback, its worker off (the events stay as received)."""
    async with live_hubsync(settings) as live:
        yield live


async def test_a_signed_delivery_is_stored(hubsync: LiveHubsync, web: WebState) -> None:
    dispatcher = sandbox_dispatcher(hubsync.webhook_url)
    await send(dispatcher, renamed(11), renamed(12))
    assert dispatcher.stats.delivered == 2
    events = await stored(web.session_factory)
    assert [(e.portal_id, e.object_id, e.state) for e in events] == [
        (SANDBOX.portal_id, "11", WebhookState.received),
        (SANDBOX.portal_id, "12", WebhookState.received),
    ]


async def test_a_delivery_signed_with_another_secret_is_refused(
    hubsync: LiveHubsync, web: WebState
) -> None:
    dispatcher = sandbox_dispatcher(hubsync.webhook_url, secret="another-apps-secret")
    await send(dispatcher, renamed(11))
    assert [f.reason for f in dispatcher.stats.failures] == ["HTTP 401"]
    assert await count_events(web.session_factory) == 0


async def test_a_delivery_older_than_five_minutes_is_refused(
    hubsync: LiveHubsync, web: WebState
) -> None:
    dispatcher = sandbox_dispatcher(hubsync.webhook_url, clock=lambda: time.time() - 301)
    await send(dispatcher, renamed(11))
    assert [f.reason for f in dispatcher.stats.failures] == ["HTTP 401"]
    assert await count_events(web.session_factory) == 0


async def test_a_replayed_delivery_changes_nothing(hubsync: LiveHubsync, web: WebState) -> None:
    recording = Recording()
    await send(sandbox_dispatcher(hubsync.webhook_url, transport=recording), renamed(11))
    before = [(e.id, e.state, e.received_at) for e in await stored(web.session_factory)]
    assert len(before) == 1
    (original,) = recording.sent
    async with httpx.AsyncClient() as client:
        replay = await client.post(original.url, content=original.content,
                                   headers=dict(original.headers))  # fmt: skip
    await recording.aclose()
    assert replay.status_code == 200, replay.text  # within five minutes: acknowledged…
    assert replay.json() == {"received": 1, "stored": 0}  # …and ignored
    after = [(e.id, e.state, e.received_at) for e in await stored(web.session_factory)]
    assert after == before


async def test_an_oversized_delivery_is_refused(hubsync: LiveHubsync, web: WebState) -> None:
    dispatcher = sandbox_dispatcher(hubsync.webhook_url)
    long_name = "x" * (web.settings.max_body_bytes // 50)
    await send(dispatcher, *(renamed(n, long_name) for n in range(100)))
    assert [f.reason for f in dispatcher.stats.failures] == ["HTTP 413"]
    assert dispatcher.stats.failed == 100
    assert await count_events(web.session_factory) == 0
