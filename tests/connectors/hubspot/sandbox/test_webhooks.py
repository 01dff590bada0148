"""Webhook subscriptions API and the signed, batching, retrying delivery dispatcher."""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from app.connectors.hubspot.sandbox.events import ChangeEvent, LinkChange
from app.connectors.hubspot.sandbox.webhooks import (
    WebhookDispatcher,
    WebhookSettings,
    webhooks_router,
)
from app.connectors.hubspot.signatures import sign_v1, verify_v3

APP_ID = 4242
PORTAL_ID = 62515
SECRET = "app-client-secret"
TARGET = "https://hooks.example.test/hubspot/webhooks?tenant=a"
Answer = int | Exception


class Receiver:
    """The app's endpoint: checks both signatures, records events, answers as scripted."""

    def __init__(self, answers: list[Answer] | None = None, delay: float = 0.0) -> None:
        self.answers = list(answers or [])
        self.delay = delay
        self.batches: list[list[dict[str, Any]]] = []
        self.in_flight = 0
        self.max_in_flight = 0

    async def handle(self, request: httpx.Request) -> httpx.Response:
        body = request.content
        headers = request.headers
        assert request.method == "POST"
        assert str(request.url) == TARGET
        assert headers["x-hubspot-signature-version"] == "v1"
        assert headers["x-hubspot-signature"] == sign_v1(SECRET, body)
        assert verify_v3(
            [SECRET],
            "POST",
            str(request.url),
            body,
            headers["x-hubspot-request-timestamp"],
            headers["x-hubspot-signature-v3"],
            int(time.time() * 1000),
        )
        self.batches.append(json.loads(body))
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            await asyncio.sleep(self.delay)
        finally:
            self.in_flight -= 1
        answer = self.answers.pop(0) if self.answers else 200
        if isinstance(answer, Exception):
            raise answer
        return httpx.Response(answer)

    @property
    def events(self) -> list[dict[str, Any]]:
        """Every event received, in order."""
        return [event for batch in self.batches for event in batch]


class FakeSleep:
    """Records the retry delays instead of waiting them out."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)
        await asyncio.sleep(0)


class EndlessSleep:
    """A retry delay that never ends, announcing that it has begun."""

    def __init__(self) -> None:
        self.started = asyncio.Event()

    async def __call__(self, delay: float) -> None:
        self.started.set()
        await asyncio.Event().wait()


@pytest.fixture
def settings() -> WebhookSettings:
    """The app's webhook settings with a target URL and no subscriptions."""
    settings = WebhookSettings(app_id=APP_ID, client_secret=SECRET)
    settings.configure(TARGET, 10)
    return settings


@asynccontextmanager
async def running(
    settings: WebhookSettings, receiver: Receiver, **options: Any
) -> AsyncIterator[WebhookDispatcher]:
    """A started dispatcher posting to ``receiver``, closed afterwards."""
    dispatcher = WebhookDispatcher(
        settings,
        portal_id=PORTAL_ID,
        transport=httpx.MockTransport(receiver.handle),
        rng=random.Random(7),
        **{"sleep": FakeSleep(), **options},
    )
    dispatcher.start()
    try:
        yield dispatcher
    finally:
        await dispatcher.aclose()


def change(kind: str, object_id: int = 1, type_id: str = "0-1", **fields: Any) -> ChangeEvent:
    """A change event as the store publishes it."""
    return ChangeEvent(kind, type_id, object_id, 1_700_000_000_000 + object_id, **fields)


# -- subscription API -----------------------------------------------------------------


@asynccontextmanager
async def api(settings: WebhookSettings) -> AsyncIterator[httpx.AsyncClient]:
    """A client for a bare app carrying only the subscription API."""
    app = FastAPI()
    app.include_router(webhooks_router(settings))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="https://api.hubapi.test") as c:
        yield c


async def test_settings_put_get_delete() -> None:
    settings = WebhookSettings(app_id=APP_ID, client_secret=SECRET)
    base = f"/webhooks/v3/{APP_ID}/settings"
    async with api(settings) as client:
        assert (await client.get(base)).status_code == 404
        body = {"targetUrl": TARGET, "throttling": {"maxConcurrentRequests": 7}}
        put = await client.put(base, json=body)
        assert put.status_code == 200
        assert put.json()["targetUrl"] == TARGET
        assert put.json()["throttling"]["maxConcurrentRequests"] == 7
        got = (await client.get(base)).json()
        assert got["createdAt"].endswith("Z")
        assert {"targetUrl", "throttling", "createdAt", "updatedAt"} <= got.keys()
        bad = await client.put(
            base, json={"targetUrl": "ftp://x", "throttling": body["throttling"]}
        )
        assert bad.status_code == 400
        assert bad.json()["category"] == "VALIDATION_ERROR"
        missing = await client.put(base, json={"targetUrl": TARGET})
        assert missing.status_code == 400
        assert (await client.delete(base)).status_code == 204
        assert (await client.get(base)).status_code == 404
    assert settings.target is None


async def test_subscription_crud_and_batch_update() -> None:
    settings = WebhookSettings(app_id=APP_ID, client_secret=SECRET)
    base = f"/webhooks/v3/{APP_ID}/subscriptions"
    async with api(settings) as client:
        created = await client.post(
            base, json={"eventType": "contact.propertyChange", "propertyName": "email"}
        )
        assert created.status_code == 201
        sub = created.json()
        assert sub["active"] is False
        assert sub["propertyName"] == "email"
        assert isinstance(sub["id"], str)
        custom = await client.post(
            base, json={"eventType": "object.creation", "objectTypeId": "2-123", "active": True}
        )
        assert custom.json()["objectTypeId"] == "2-123"

        listed = (await client.get(base)).json()["results"]
        assert [s["id"] for s in listed] == [sub["id"], custom.json()["id"]]
        patched = await client.patch(f"{base}/{sub['id']}", json={"active": True})
        assert patched.json()["active"] is True
        assert (await client.get(f"{base}/{sub['id']}")).json()["active"] is True

        batch = await client.post(
            f"{base}/batch/update", json={"inputs": [{"id": int(sub["id"]), "active": False}]}
        )
        assert batch.status_code == 200
        assert batch.json()["status"] == "COMPLETE"
        assert batch.json()["results"][0]["active"] is False
        partial = await client.post(
            f"{base}/batch/update",
            json={"inputs": [{"id": int(sub["id"]), "active": True}, {"id": 999, "active": True}]},
        )
        assert partial.status_code == 207
        assert partial.json()["numErrors"] == 1
        assert partial.json()["errors"][0]["context"] == {"subscriptionIds": ["999"]}

        assert (await client.delete(f"{base}/{sub['id']}")).status_code == 204
        assert (await client.get(f"{base}/{sub['id']}")).status_code == 404
        assert (await client.patch(f"{base}/abc", json={"active": True})).status_code == 404
        assert (await client.delete(f"{base}/{sub['id']}")).status_code == 404


@pytest.mark.parametrize(
    "body",
    [
        {"eventType": "contact.nonsense"},
        {"eventType": "contact.propertyChange"},
        {"eventType": "contact.creation", "propertyName": "email"},
        {"eventType": "object.creation"},
        {"propertyName": "email"},
    ],
)
async def test_invalid_subscriptions_are_refused(body: dict[str, Any]) -> None:
    settings = WebhookSettings(app_id=APP_ID, client_secret=SECRET)
    async with api(settings) as client:
        response = await client.post(f"/webhooks/v3/{APP_ID}/subscriptions", json=body)
    assert response.status_code == 400
    assert response.json()["category"] == "VALIDATION_ERROR"
    assert settings.subscriptions == {}


async def test_developer_key_and_app_id_are_checked() -> None:
    settings = WebhookSettings(app_id=APP_ID, client_secret=SECRET, developer_api_key="dev-key")
    async with api(settings) as client:
        path = f"/webhooks/v3/{APP_ID}/subscriptions"
        assert (await client.get(path)).status_code == 401
        assert (await client.get(path, params={"hapikey": "wrong"})).status_code == 401
        assert (await client.get(path, params={"hapikey": "clé"})).status_code == 401
        assert (await client.get(path, params={"hapikey": "dev-key"})).status_code == 200
        other = await client.get("/webhooks/v3/1/subscriptions", params={"hapikey": "dev-key"})
        assert other.status_code == 404


# -- delivery -------------------------------------------------------------------------


async def test_events_are_signed_v1_and_v3_with_hubspot_fields(settings: WebhookSettings) -> None:
    sub = settings.subscribe("contact.creation", active=True)
    receiver = Receiver()
    async with running(settings, receiver) as dispatcher:
        dispatcher.publish(change("contact.creation", 17, change_source="CRM_UI"))
        await dispatcher.drain()
    [event] = receiver.events
    assert event == {
        "eventId": event["eventId"],
        "subscriptionId": sub.id,
        "portalId": PORTAL_ID,
        "appId": APP_ID,
        "occurredAt": 1_700_000_000_017,
        "subscriptionType": "contact.creation",
        "attemptNumber": 0,
        "objectId": 17,
        "changeSource": "CRM_UI",
        "changeFlag": "NEW",
    }
    assert (dispatcher.stats.delivered, dispatcher.stats.attempts) == (1, 1)


async def test_250_events_go_out_in_three_batches(settings: WebhookSettings) -> None:
    settings.subscribe("deal.creation", active=True)
    receiver = Receiver()
    async with running(settings, receiver) as dispatcher:
        for object_id in range(250):
            dispatcher.publish(change("deal.creation", object_id, "0-3"))
        await dispatcher.drain()
    assert sorted(len(batch) for batch in receiver.batches) == [50, 100, 100]
    assert len({event["eventId"] for event in receiver.events}) == 250
    assert dispatcher.stats.delivered == 250
    assert dispatcher.stats.attempts == 3


async def test_retries_keep_the_event_id_and_raise_the_attempt_number(
    settings: WebhookSettings,
) -> None:
    settings.subscribe("company.deletion", active=True)
    receiver = Receiver([500, httpx.ConnectError("refused"), 200])
    sleep = FakeSleep()
    async with running(settings, receiver, sleep=sleep, base_delay=1.0) as dispatcher:
        dispatcher.publish(change("company.deletion", 5, "0-2"))
        await dispatcher.drain()
    attempts = [event["attemptNumber"] for event in receiver.events]
    assert attempts == [0, 1, 2]
    assert len({event["eventId"] for event in receiver.events}) == 1
    assert receiver.events[0]["changeFlag"] == "DELETED"
    assert 1.0 <= sleep.delays[0] < 2.0 <= sleep.delays[1] < 4.0
    assert (dispatcher.stats.delivered, dispatcher.stats.failed, dispatcher.stats.attempts) == (
        1,
        0,
        3,
    )


async def test_a_slow_receiver_times_out_and_is_retried(settings: WebhookSettings) -> None:
    settings.subscribe("contact.creation", active=True)
    receiver = Receiver(delay=0.2)
    async with running(settings, receiver, timeout=0.02) as dispatcher:
        dispatcher.publish(change("contact.creation"))
        await asyncio.sleep(0.05)
        receiver.delay = 0.0
        await dispatcher.drain()
    assert dispatcher.stats.delivered == 1
    assert dispatcher.stats.attempts >= 2


async def test_gives_up_after_ten_retries(settings: WebhookSettings) -> None:
    settings.subscribe("contact.creation", active=True)
    receiver = Receiver([503] * 20)
    sleep = FakeSleep()
    async with running(settings, receiver, sleep=sleep) as dispatcher:
        dispatcher.publish(change("contact.creation"))
        await dispatcher.drain()
    assert [event["attemptNumber"] for event in receiver.events] == list(range(11))
    assert sleep.delays == sorted(sleep.delays)
    assert len(sleep.delays) == 10
    assert (dispatcher.stats.delivered, dispatcher.stats.failed, dispatcher.stats.attempts) == (
        0,
        1,
        11,
    )
    [failure] = dispatcher.stats.failures
    assert failure.attempts == 11
    assert failure.reason == "HTTP 503"
    assert failure.event_ids == (receiver.events[0]["eventId"],)


async def test_only_active_matching_subscriptions_fire(settings: WebhookSettings) -> None:
    created = settings.subscribe("contact.creation", active=True)
    settings.subscribe("contact.deletion", active=False)
    company = settings.subscribe("company.creation", active=True)
    email = settings.subscribe("contact.propertyChange", property_name="email", active=True)
    settings.subscribe("contact.propertyChange", property_name="phone", active=False)
    custom = settings.subscribe("object.creation", object_type_id="2-99", active=True)
    receiver = Receiver()
    async with running(settings, receiver) as dispatcher:
        for event in (
            change("contact.creation", 1),
            change("contact.deletion", 2),
            change("company.creation", 3, "0-2"),
            change("deal.creation", 4, "0-3"),
            change("contact.propertyChange", 5, property_name="email", property_value="a@b.c"),
            change("contact.propertyChange", 6, property_name="phone", property_value="1"),
            change("contact.propertyChange", 7, property_name="firstname", property_value="A"),
            change("object.creation", 8, "2-99"),
            change("object.creation", 9, "2-100"),
        ):
            dispatcher.publish(event)
        await dispatcher.drain()
    fired = {(event["subscriptionId"], event["objectId"]) for event in receiver.events}
    assert fired == {(created.id, 1), (company.id, 3), (email.id, 5), (custom.id, 8)}
    by_object = {event["objectId"]: event for event in receiver.events}
    assert by_object[5]["propertyName"] == "email"
    assert by_object[5]["propertyValue"] == "a@b.c"
    assert "changeFlag" not in by_object[5]
    assert by_object[8]["objectTypeId"] == "2-99"
    assert by_object[8]["subscriptionType"] == "object.creation"


async def test_association_changes_name_both_ends_and_generic_ones_their_types(
    settings: WebhookSettings,
) -> None:
    legacy = settings.subscribe("contact.associationChange", active=True)
    generic = settings.subscribe("object.associationChange", object_type_id="2-99", active=True)
    to_company = LinkChange("0-2", 20, 279, "CONTACT_TO_COMPANY", "HUBSPOT_DEFINED", removed=True)
    to_contact = LinkChange("0-1", 10, 1001, "CARS_TO_CONTACT", "USER_DEFINED", removed=False)
    receiver = Receiver()
    async with running(settings, receiver) as dispatcher:
        dispatcher.publish(change("contact.associationChange", 10, link=to_company))
        dispatcher.publish(change("object.associationChange", 30, "2-99", link=to_contact))
        await dispatcher.drain()
    by_subscription = {event["subscriptionId"]: event for event in receiver.events}
    first, second = by_subscription[legacy.id], by_subscription[generic.id]
    assert "objectId" not in first
    assert {k: first[k] for k in ("associationType", "fromObjectId", "toObjectId",
                                  "associationRemoved", "isPrimaryAssociation")} == {
        "associationType": "CONTACT_TO_COMPANY", "fromObjectId": 10, "toObjectId": 20,
        "associationRemoved": True, "isPrimaryAssociation": False,
    }  # fmt: skip
    assert "fromObjectTypeId" not in first
    assert {k: second[k] for k in ("fromObjectTypeId", "toObjectTypeId", "fromObjectId",
                                   "toObjectId", "associationTypeId", "associationCategory",
                                   "associationRemoved")} == {
        "fromObjectTypeId": "2-99", "toObjectTypeId": "0-1", "fromObjectId": 30,
        "toObjectId": 10, "associationTypeId": 1001, "associationCategory": "USER_DEFINED",
        "associationRemoved": False,
    }  # fmt: skip


async def test_privacy_deletion_fires_alongside_deletion(settings: WebhookSettings) -> None:
    privacy = settings.subscribe("contact.privacyDeletion", active=True)
    deletion = settings.subscribe("contact.deletion", active=True)
    receiver = Receiver()
    async with running(settings, receiver) as dispatcher:
        dispatcher.publish(change("contact.privacyDeletion", 11))
        dispatcher.publish(change("contact.deletion", 11))
        await dispatcher.drain()
    by_type = {event["subscriptionType"]: event for event in receiver.events}
    assert by_type.keys() == {"contact.privacyDeletion", "contact.deletion"}
    assert by_type["contact.privacyDeletion"]["subscriptionId"] == privacy.id
    assert "changeFlag" not in by_type["contact.privacyDeletion"]
    assert by_type["contact.deletion"]["subscriptionId"] == deletion.id
    assert by_type["contact.deletion"]["changeFlag"] == "DELETED"


async def test_max_concurrent_requests_is_respected(settings: WebhookSettings) -> None:
    settings.configure(TARGET, 2)
    settings.subscribe("contact.creation", active=True)
    receiver = Receiver(delay=0.005)
    async with running(settings, receiver, batch_size=1) as dispatcher:
        for object_id in range(6):
            dispatcher.publish(change("contact.creation", object_id))
        await dispatcher.drain()
    assert len(receiver.batches) == 6
    assert receiver.max_in_flight == 2


async def test_nothing_is_sent_without_settings(settings: WebhookSettings) -> None:
    settings.subscribe("contact.creation", active=True)
    settings.clear()
    receiver = Receiver()
    async with running(settings, receiver) as dispatcher:
        dispatcher.publish(change("contact.creation"))
        await dispatcher.drain()
    assert receiver.batches == []
    assert dispatcher.stats.attempts == 0


async def test_events_published_before_start_are_delivered(settings: WebhookSettings) -> None:
    settings.subscribe("contact.creation", active=True)
    receiver = Receiver()
    dispatcher = WebhookDispatcher(
        settings, portal_id=PORTAL_ID, transport=httpx.MockTransport(receiver.handle)
    )
    dispatcher.publish(change("contact.creation"))
    assert dispatcher.pending == 1
    dispatcher.start()
    await dispatcher.aclose(drain=True)
    assert len(receiver.events) == 1


async def test_aclose_cancels_pending_retries(settings: WebhookSettings) -> None:
    settings.subscribe("contact.creation", active=True)
    receiver = Receiver([500])
    sleep = EndlessSleep()
    dispatcher = WebhookDispatcher(
        settings, portal_id=PORTAL_ID, transport=httpx.MockTransport(receiver.handle), sleep=sleep
    )
    dispatcher.start()
    dispatcher.publish(change("contact.creation"))
    await asyncio.wait_for(sleep.started.wait(), timeout=1)
    await asyncio.wait_for(dispatcher.aclose(), timeout=1)
    assert (dispatcher.stats.attempts, dispatcher.stats.delivered, dispatcher.stats.failed) == (
        1,
        0,
        0,
    )


async def test_subscriptions_created_through_the_api_fire(settings: WebhookSettings) -> None:
    async with api(settings) as client:
        response = await client.post(
            f"/webhooks/v3/{APP_ID}/subscriptions",
            json={"eventType": "deal.propertyChange", "propertyName": "amount", "active": True},
        )
    receiver = Receiver()
    async with running(settings, receiver) as dispatcher:
        dispatcher.publish(
            change("deal.propertyChange", 3, "0-3", property_name="amount", property_value="10")
        )
        await dispatcher.drain()
    [event] = receiver.events
    assert event["subscriptionId"] == int(response.json()["id"])
    assert event["propertyValue"] == "10"
