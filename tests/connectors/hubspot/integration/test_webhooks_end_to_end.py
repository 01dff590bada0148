"""Changes in the sandbox reach a receiver as signed HubSpot webhook batches, over loopback."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request, Response

from app.connectors.hubspot.signatures import sign_v1, verify_v3
from tests.connectors.hubspot.integration.conftest import SANDBOX_TOKEN, LiveSandbox
from tests.live_server import listening_socket, serving


@dataclass
class Receiver:
    """A webhook endpoint that keeps what arrived and whether its signatures held."""

    url: str = ""
    deliveries: list[dict[str, Any]] = field(default_factory=list)
    arrived: threading.Condition = field(default_factory=threading.Condition)

    def events(self) -> list[dict[str, Any]]:
        """Every event of every delivery, in arrival order."""
        return [event for d in self.deliveries for event in d["events"]]

    def keep(self, delivery: dict[str, Any]) -> None:
        """Record a delivery (called on the receiver's server thread)."""
        with self.arrived:
            self.deliveries.append(delivery)
            self.arrived.notify_all()

    def wait_for(self, count: int, timeout_s: float) -> None:
        """Block until ``count`` events have arrived or the time is up."""
        with self.arrived:
            self.arrived.wait_for(lambda: len(self.events()) >= count, timeout=timeout_s)


def receiver_app(receiver: Receiver, secret: str) -> FastAPI:
    """The receiving side: checks v3 and v1 signatures on the raw body, answers 204."""
    app = FastAPI()

    @app.post("/hubspot/webhooks")
    async def receive(request: Request) -> Response:
        body = await request.body()
        headers = request.headers
        receiver.keep(
            {
                "v3": verify_v3(
                    [secret],
                    "POST",
                    receiver.url,
                    body,
                    headers.get("X-HubSpot-Request-Timestamp", ""),
                    headers.get("X-HubSpot-Signature-v3", ""),
                    now_ms=int(time.time() * 1000),
                ),
                "v1": headers.get("X-HubSpot-Signature") == sign_v1(secret, body),
                "events": json.loads(body),
            }
        )
        return Response(status_code=204)

    return app


@pytest.fixture
async def receiver(live_sandbox: LiveSandbox) -> AsyncIterator[Receiver]:
    """A live receiver registered as the sandbox app's webhook target."""
    received = Receiver()
    sock = listening_socket()
    app = receiver_app(received, live_sandbox.config.oauth_client_secret)
    async with serving(app, sock) as base_url:
        received.url = f"{base_url}/hubspot/webhooks"
        yield received


async def test_crm_changes_arrive_signed_and_filtered(
    live_sandbox: LiveSandbox, receiver: Receiver
) -> None:
    app_id = live_sandbox.config.app_id
    headers = {"Authorization": f"Bearer {SANDBOX_TOKEN}"}
    async with httpx.AsyncClient(base_url=live_sandbox.base_url, headers=headers) as api:
        settings = await api.put(
            f"/webhooks/v3/{app_id}/settings",
            json={"targetUrl": receiver.url, "throttling": {"maxConcurrentRequests": 5}},
        )
        assert settings.status_code == 200, settings.text
        for subscription in (
            {"eventType": "contact.creation", "active": True},
            {"eventType": "contact.propertyChange", "propertyName": "firstname", "active": True},
            {"eventType": "contact.privacyDeletion", "active": True},
            {"eventType": "company.creation", "active": False},
        ):
            created = await api.post(f"/webhooks/v3/{app_id}/subscriptions", json=subscription)
            assert created.status_code == 201, created.text
        contact = (
            await api.post(
                "/crm/v3/objects/contacts",
                json={"properties": {"email": "webhook.test@example.ch", "firstname": "Vreni"}},
            )
        ).json()
        await api.post("/crm/v3/objects/companies", json={"properties": {"name": "Ohne Abo AG"}})
        await api.patch(
            f"/crm/v3/objects/contacts/{contact['id']}",
            json={"properties": {"firstname": "Verena", "lastname": "Muster"}},
        )
        await api.post("/crm/v3/objects/contacts/gdpr-delete", json={"objectId": contact["id"]})
    await asyncio.to_thread(receiver.wait_for, 4, 10.0)  # deliveries are asynchronous
    await asyncio.to_thread(receiver.wait_for, 5, 0.3)  # anything unwanted would arrive now
    kinds = sorted((e["subscriptionType"], e.get("propertyName")) for e in receiver.events())
    assert kinds == [
        ("contact.creation", None),
        ("contact.privacyDeletion", None),
        ("contact.propertyChange", "firstname"),
        ("contact.propertyChange", "firstname"),
    ]
    assert all(d["v3"] and d["v1"] for d in receiver.deliveries)
    event = receiver.events()[0]
    assert event["portalId"] == live_sandbox.config.portal_id
    assert event["appId"] == app_id
    assert str(event["objectId"]) == contact["id"]
    values = {e.get("propertyValue") for e in receiver.events() if e.get("propertyName")}
    assert values == {"Vreni", "Verena"}
