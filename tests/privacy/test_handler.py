"""The flow around the systems: tenants of a portal, busy interfaces, unknown portals."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import NotFound
from app.models import DeletionRequest, NotificationDelivery, WebhookEvent
from app.models.base import utcnow
from app.models.enums import DeletionState
from app.sync.privacy.attempt import PrivacyDeletionIncomplete
from app.sync.privacy.handler import handle_privacy_deletion, retry_due_deletions
from app.sync.scheduling.leases import Leases, interface_lease
from app.web import WebState
from tests.factories import World
from tests.privacy.kit import contacts_version, only_request, store_event

PORTAL = 1008  # the hub id of both world tenants' HubSpot connections


async def requests(db: AsyncSession) -> list[DeletionRequest]:
    statement = select(DeletionRequest).execution_options(populate_existing=True)
    return list((await db.execute(statement)).scalars())


async def test_every_tenant_on_the_portal_gets_its_own_request(
    db: AsyncSession, web: WebState, world: World
) -> None:
    for tw in (world.a, world.b):
        await contacts_version(db, tw)
    event = await store_event(db, "501", portal_id=PORTAL)

    await handle_privacy_deletion(web.session_factory, event.id, box=web.secret_box)

    found = await requests(db)
    assert sorted(r.tenant_id for r in found) == sorted([world.a.tenant.id, world.b.tenant.id])
    for request, tw in zip(sorted(found, key=lambda r: r.tenant_id == world.b.tenant.id),
                           (world.a, world.b), strict=True):  # fmt: skip
        assert request.state is DeletionState.completed
        source = request.outcomes[f"{tw.interface.id}:contacts"]
        assert (source["state"], source["records"]) == ("confirmed", 0)  # nobody was linked
        assert "linked no record" in source["reason"]


async def test_a_portal_without_contact_mappings_completes_with_hubsync_alone(
    db: AsyncSession, web: WebState, world: World
) -> None:
    world.b.hubspot.hub_id = 2000
    await db.commit()
    event = await store_event(db, "502", portal_id=PORTAL)

    await handle_privacy_deletion(web.session_factory, event.id, box=web.secret_box)

    request = await only_request(db)
    assert (request.tenant_id, request.state, request.policy) == (
        world.a.tenant.id, DeletionState.completed, "none"
    )  # fmt: skip
    assert list(request.outcomes) == ["hubsync"]


async def test_a_busy_interface_is_waited_for_without_a_failure_notice(
    db: AsyncSession, web: WebState, world: World
) -> None:
    world.b.hubspot.hub_id = 2000
    await contacts_version(db, world.a)
    event = await store_event(db, "503", portal_id=PORTAL)
    leases = Leases(web.session_factory, "a-running-sync", timedelta(minutes=5))
    lease = interface_lease(world.a.interface.id)
    assert await leases.acquire(lease) is not None

    with pytest.raises(PrivacyDeletionIncomplete):
        await handle_privacy_deletion(web.session_factory, event.id, box=web.secret_box)

    request = await only_request(db)
    assert (request.state, request.last_error) == (DeletionState.pending, None)
    assert request.outcomes[f"{world.a.interface.id}:contacts"]["state"] == "pending"
    assert await db.scalar(select(func.count()).select_from(NotificationDelivery)) == 0
    await leases.release([lease])
    later = utcnow() + timedelta(hours=1)
    assert await retry_due_deletions(web.session_factory, box=web.secret_box, now=later) == 1
    assert (await only_request(db)).state is DeletionState.completed


async def test_an_event_of_an_unknown_portal_only_loses_its_payload(
    db: AsyncSession, web: WebState, world: World
) -> None:
    event = await store_event(db, "504", portal_id=999)

    await handle_privacy_deletion(web.session_factory, event.id, box=web.secret_box)

    assert await requests(db) == []
    stored = await db.get(WebhookEvent, event.id, populate_existing=True)
    assert stored is not None
    assert stored.payload == {}


async def test_only_privacy_events_are_taken(db: AsyncSession, web: WebState, world: World) -> None:
    change = await store_event(db, "505", kind="contact.propertyChange", portal_id=PORTAL)
    with pytest.raises(ValueError, match="privacyDeletion"):
        await handle_privacy_deletion(web.session_factory, change.id, box=web.secret_box)
    with pytest.raises(NotFound):
        await handle_privacy_deletion(web.session_factory, world.a.run.id, box=web.secret_box)
