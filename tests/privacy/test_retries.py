"""Failures are recorded without personal data, notified once, retried, and then completed."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.actor import Actor
from app.models import Interface, NotificationDelivery, NotificationTarget, RecordLink
from app.models.base import utcnow
from app.models.enums import DeletionState, NotificationKind
from app.sync.connections import set_connection_secrets
from app.sync.privacy.attempt import PrivacyDeletionIncomplete
from app.sync.privacy.handler import handle_privacy_deletion, retry_due_deletions
from app.web import WebState
from tests.factories import World
from tests.privacy.kit import (
    ANNA,
    apply_contacts,
    erp_person,
    gdpr_delete_in_hubspot,
    hubspot_id_of,
    only_request,
    personal_data_hits,
    store_event,
    sync,
    values_of,
)


async def point_source_at(db: AsyncSession, web: WebState, interface_id: object, url: str) -> None:
    interface = await db.get(Interface, interface_id)
    assert interface is not None
    await set_connection_secrets(db, actor=Actor.system("test"), box=web.secret_box,
                                 connection_id=interface.source_connection_id,
                                 secrets={"url": url})  # fmt: skip
    await db.commit()


async def deliveries(db: AsyncSession) -> list[NotificationDelivery]:
    return list((await db.execute(select(NotificationDelivery))).scalars())


async def test_an_unreachable_erp_fails_the_request_until_a_retry_completes_it(
    db: AsyncSession, web: WebState, world: World, persons_erp: str, sandbox_url: str
) -> None:
    interface_id = await apply_contacts(db, web, world, erp_url=persons_erp,
                                        sandbox_url=sandbox_url)  # fmt: skip
    await sync(web, interface_id)
    db.add(NotificationTarget(tenant_id=world.a.tenant.id, interface_id=interface_id,
                              kind=NotificationKind.email, address="ops@example.com"))  # fmt: skip
    hubspot_id = await hubspot_id_of(db, interface_id, ANNA["person_id"])
    await gdpr_delete_in_hubspot(sandbox_url, hubspot_id)
    unreachable = make_url(persons_erp).set(port=1).render_as_string(hide_password=False)
    await point_source_at(db, web, interface_id, unreachable)
    event = await store_event(db, hubspot_id)

    with pytest.raises(PrivacyDeletionIncomplete):
        await handle_privacy_deletion(web.session_factory, event.id, box=web.secret_box)

    request = await only_request(db)
    assert (request.state, request.attempts, request.completed_at) == (
        DeletionState.failed, 1, None
    )  # fmt: skip
    assert request.next_attempt_at is not None
    assert request.next_attempt_at > utcnow()
    assert request.last_error is not None
    assert "ConnectorUnavailable" in request.last_error
    assert request.outcomes[f"{interface_id}:contacts"]["state"] == "failed"
    assert request.outcomes["hubsync"]["state"] == "pending"
    assert erp_person(persons_erp, ANNA["person_id"]) is not None  # still in the ERP
    assert await personal_data_hits(web.engine, values_of(ANNA)) == []  # hubsync's copy is gone
    link = await db.execute(select(RecordLink).where(RecordLink.hubspot_id == hubspot_id))
    assert link.scalar_one().source_values is None  # the key stays for the retry
    (told,) = await deliveries(db)
    assert str(request.id) in told.body
    assert "Datenschutz" in told.subject

    with pytest.raises(PrivacyDeletionIncomplete):  # the worker's own retry: failed again
        await handle_privacy_deletion(web.session_factory, event.id, box=web.secret_box)
    assert (await only_request(db)).attempts == 2
    assert len(await deliveries(db)) == 1  # told once per failure, not per attempt

    await point_source_at(db, web, interface_id, persons_erp)
    assert await retry_due_deletions(web.session_factory, box=web.secret_box) == 0  # not due
    later = utcnow() + timedelta(days=1)
    done = await retry_due_deletions(web.session_factory, box=web.secret_box, now=later)

    assert done == 1
    request = await only_request(db)
    assert (request.state, request.attempts, request.last_error) == (
        DeletionState.completed, 3, None
    )  # fmt: skip
    assert request.next_attempt_at is None
    assert request.outcomes[f"{interface_id}:contacts"]["state"] == "confirmed"
    assert request.outcomes["hubsync"]["state"] == "confirmed"
    assert erp_person(persons_erp, ANNA["person_id"]) is None
    assert await db.scalar(select(func.count()).select_from(RecordLink).where(
        RecordLink.hubspot_id == hubspot_id)) == 0  # fmt: skip
