"""HubSpot events the webhook worker gave up on: listed in the error log, retried on request."""

from __future__ import annotations

import uuid
from datetime import timedelta

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import AuditEntry, WebhookEvent
from app.models.base import utcnow
from app.models.enums import WebhookState
from tests.factories import World
from tests.ui_session import sign_in

CHANGE = "contact.propertyChange"
BOOM = "HubSpotError: HubSpot answered 500"


def add_event(
    db: AsyncSession,
    tenant_id: uuid.UUID | None,
    *,
    kind: str = CHANGE,
    error: str | None = BOOM,
    state: WebhookState = WebhookState.failed,
    minutes_ago: int = 5,
) -> WebhookEvent:
    """A stored webhook event of portal 42 in ``state``."""
    event = WebhookEvent(
        tenant_id=tenant_id, portal_id=42, event_id=uuid.uuid4().hex, subscription_type=kind,
        object_id="901", received_at=utcnow() - timedelta(minutes=minutes_ago), state=state,
        attempts=8, last_error=error, next_attempt_at=None,
    )  # fmt: skip
    db.add(event)
    return event


async def seed(db: AsyncSession, world: World) -> dict[str, WebhookEvent]:
    """Failed events of tenant A (two causes), of B, of no tenant; one of A still queued."""
    a, b = world.a.tenant.id, world.b.tenant.id
    events = {
        "a1": add_event(db, a, minutes_ago=9),
        "a2": add_event(db, a, minutes_ago=3),
        "a_other": add_event(db, a, kind="contact.deletion", error="LeaseBusy: portal busy"),
        "a_queued": add_event(db, a, state=WebhookState.received, error=None),
        "b": add_event(db, b, error="Secret B-only failure"),
        "nobody": add_event(db, None, error="no interface on portal 42"),
    }
    await db.commit()
    return events


async def test_each_tenant_sees_its_own_failed_events_grouped_by_cause(
    client: httpx.AsyncClient, world: World, db: AsyncSession
) -> None:
    await seed(db, world)
    await sign_in(client, world.a.viewer.email)
    page = (await client.get("/ui/errors")).text
    assert "HubSpot-Ereignisse, die nicht verarbeitet werden konnten" in page
    assert f"<code>{CHANGE}</code>" in page
    assert "<code>contact.deletion</code>" in page
    assert '<td class="num">2</td>' in page  # a1 and a2: one line, counted
    assert "Secret B-only failure" not in page
    assert "no interface on portal 42" not in page  # no tenant's: operators only
    assert "/ui/errors/webhooks/retry" not in page  # a viewer may not retry
    client.cookies.clear()  # another browser
    await sign_in(client, world.operator.email)
    operator = (await client.get("/ui/errors")).text
    assert "Secret B-only failure" in operator
    assert "no interface on portal 42" in operator


async def test_retry_queues_one_cause_of_the_callers_tenant_again(
    client: httpx.AsyncClient, world: World, db: AsyncSession
) -> None:
    events = await seed(db, world)
    tenant_b = world.b.tenant.id
    db.add(add_event(db, tenant_b))  # B's event of the same type and error
    await db.commit()
    ids = {name: event.id for name, event in events.items()}
    token = await sign_in(client, world.a.admin.email)
    response = await client.post(
        "/ui/errors/webhooks/retry",
        data={"csrf_token": token, "subscription_type": CHANGE, "error": BOOM},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    assert "Webhook-Ereignisse erneut eingereiht: 2." in response.text
    db.expire_all()
    rows = {e.id: e for e in (await db.execute(select(WebhookEvent))).scalars()}
    for name in ("a1", "a2"):
        requeued = rows[ids[name]]
        assert (requeued.state, requeued.attempts, requeued.last_error) == (
            WebhookState.received, 0, None,
        )  # fmt: skip
        assert requeued.next_attempt_at is not None
        assert requeued.next_attempt_at <= utcnow()
    assert rows[ids["a_other"]].state is WebhookState.failed
    others = [e for e in rows.values() if e.tenant_id == tenant_b]
    assert {e.state for e in others} == {WebhookState.failed}
    audit = (
        await db.execute(select(AuditEntry).where(AuditEntry.action == "webhooks.retried"))
    ).scalar_one()
    assert audit.details == {"subscription_type": CHANGE, "events": 2}


async def test_viewers_and_forged_forms_cannot_retry(
    client: httpx.AsyncClient, world: World, db: AsyncSession
) -> None:
    failed_id = (await seed(db, world))["a1"].id
    token = await sign_in(client, world.a.viewer.email)
    form = {"subscription_type": CHANGE, "error": BOOM}
    refused = await client.post("/ui/errors/webhooks/retry", data={"csrf_token": token, **form})
    assert refused.status_code == 403
    client.cookies.clear()
    await sign_in(client, world.a.admin.email)
    forged = await client.post("/ui/errors/webhooks/retry", data=form)
    assert forged.status_code == 403
    db.expire_all()
    still = await db.get(WebhookEvent, failed_id)
    assert still is not None
    assert still.state is WebhookState.failed
