"""A person erased in the PostgreSQL ERP is GDPR-deleted in HubSpot by hubsync, with proof.

End to end: the contacts interface (``on_delete.source_deleted: gdpr_delete``)
syncs Anna and Bruno into the sandbox, the ERP erases Anna, the next run asks
HubSpot to delete her for good, records a deletion request and purges
hubsync's own rows about her; every table and column is then searched for her
e-mail, names and phone. A refusal by HubSpot fails the request, is told once
and retried until HubSpot confirms.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import AuditEntry, NotificationDelivery, NotificationTarget, RecordLink
from app.models.base import utcnow
from app.models.enums import DeletionState, NotificationKind
from app.sync.privacy.handler import retry_due_deletions
from app.web import WebState
from tests.factories import World
from tests.privacy.kit import (
    ANNA,
    BRUNO,
    PORTAL_ID,
    apply_contacts,
    erase_in_erp,
    hubspot_id_of,
    only_request,
    personal_data_hits,
    sync,
    values_of,
)
from tests.privacy.test_erasure import add_traces
from tests.test_cli_run import TOKEN
from tests.ui_session import sign_in


@pytest.fixture
async def hubspot(sandbox_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """The sandbox portal's API, as a HubSpot user (or a test) calls it."""
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with httpx.AsyncClient(base_url=sandbox_url, headers=headers) as api:
        yield api


async def contact_status(api: httpx.AsyncClient, hubspot_id: str) -> tuple[int, int]:
    """HTTP status of the contact, and of it among archived ones (404 twice: purged)."""
    live = await api.get(f"/crm/v3/objects/contacts/{hubspot_id}")
    archived = await api.get(f"/crm/v3/objects/contacts/{hubspot_id}?archived=true")
    return live.status_code, archived.status_code


async def synced_and_erased(
    db: AsyncSession, web: WebState, world: World, erp: str, sandbox: str
) -> tuple[uuid.UUID, str]:
    """The interface after one run, Anna's HubSpot id, and Anna erased in the ERP."""
    interface_id = await apply_contacts(db, web, world, erp_url=erp, sandbox_url=sandbox,
                                        soft_delete=True, source_deleted="gdpr_delete")  # fmt: skip
    await sync(web, interface_id)
    hubspot_id = await hubspot_id_of(db, interface_id, ANNA["person_id"])
    await add_traces(db, world, interface_id, hubspot_id)
    await asyncio.to_thread(erase_in_erp, erp, ANNA["person_id"])
    return interface_id, hubspot_id


async def test_an_erp_erasure_gdpr_deletes_the_contact_and_leaves_no_trace(
    db: AsyncSession,
    web: WebState,
    world: World,
    persons_erp: str,
    sandbox_url: str,
    hubspot: httpx.AsyncClient,
) -> None:
    interface_id, hubspot_id = await synced_and_erased(db, web, world, persons_erp, sandbox_url)
    bruno_id = await hubspot_id_of(db, interface_id, BRUNO["person_id"])
    assert await personal_data_hits(web.engine, values_of(ANNA))  # the search does find her

    await sync(web, interface_id)

    assert await contact_status(hubspot, hubspot_id) == (404, 404)  # gone, not archived
    assert (await contact_status(hubspot, bruno_id))[0] == 200
    assert await personal_data_hits(web.engine, values_of(ANNA)) == []
    request = await only_request(db)
    assert (request.state, request.policy, request.attempts) == (
        DeletionState.completed, "gdpr_delete", 1
    )  # fmt: skip
    assert (request.portal_id, request.hubspot_object_type, request.hubspot_object_id) == (
        PORTAL_ID, "contacts", hubspot_id
    )  # fmt: skip
    assert (request.webhook_event_id, request.next_attempt_at) == (None, None)
    assert request.completed_at is not None
    sent = request.outcomes["hubspot"]
    assert (sent["state"], sent["step"], sent["interface"]) == (
        "confirmed", "gdpr_delete", "erp-persons"
    )  # fmt: skip
    own = request.outcomes["hubsync"]
    assert (own["state"], own["record_links"], own["webhook_events"]) == ("confirmed", 1, 1)
    assert own["run_items"] >= 2  # the created item and the failed one
    links = (await db.execute(select(RecordLink.source_key))).scalars().all()
    assert links == [BRUNO["person_id"]]
    audit = await db.scalar(
        select(func.count()).select_from(AuditEntry).where(
            AuditEntry.action == "privacy_deletion.complete",
            AuditEntry.target_id == str(request.id),
        )
    )  # fmt: skip
    assert audit == 1


async def test_the_request_is_on_the_deletion_page_and_in_its_export(
    client: httpx.AsyncClient,
    db: AsyncSession,
    web: WebState,
    world: World,
    persons_erp: str,
    sandbox_url: str,
) -> None:
    interface_id, hubspot_id = await synced_and_erased(db, web, world, persons_erp, sandbox_url)
    await sync(web, interface_id)
    request = await only_request(db)
    await sign_in(client, world.a.admin.email)

    page = await client.get("/ui/deletions")
    export = await client.get("/ui/deletions/export?format=csv")

    assert page.status_code == 200, page.text
    assert f"contacts {hubspot_id}" in page.text
    assert "<code>gdpr_delete</code>" in page.text
    assert export.status_code == 200
    ours = [line for line in export.text.splitlines() if str(request.id) in line]
    assert len(ours) == 2  # one row per system: HubSpot, then hubsync
    assert "gdpr_delete;completed" in ours[0]
    assert ";hubspot;erp-persons;contacts;gdpr_delete;confirmed;1;" in ours[0]
    assert ";hubsync;" in ours[1]


async def test_a_refusal_fails_the_request_is_told_once_and_a_retry_completes_it(
    db: AsyncSession,
    web: WebState,
    world: World,
    persons_erp: str,
    sandbox_url: str,
    hubspot: httpx.AsyncClient,
) -> None:
    interface_id, hubspot_id = await synced_and_erased(db, web, world, persons_erp, sandbox_url)
    db.add(NotificationTarget(tenant_id=world.a.tenant.id, interface_id=interface_id,
                              kind=NotificationKind.email, address="ops@example.com"))  # fmt: skip
    await db.commit()
    refuse = {"error_rate": 1.0, "error_status": 403}
    await hubspot.put("/_sandbox/faults", json=refuse)

    await sync(web, interface_id)  # the run itself succeeds: the request carries the failure

    request = await only_request(db)
    assert (request.state, request.attempts) == (DeletionState.failed, 1)
    assert request.last_error is not None
    assert "HubSpot refused the GDPR delete" in request.last_error
    assert request.outcomes["hubspot"]["state"] == "failed"
    assert await personal_data_hits(web.engine, values_of(ANNA)) == []  # hubsync's copy: gone
    later = utcnow() + timedelta(hours=1)
    assert await retry_due_deletions(web.session_factory, box=web.secret_box, now=later) == 0
    told = (await db.execute(select(NotificationDelivery))).scalars().all()
    assert len(told) == 1  # the first failure, not the retry's
    assert str(request.id) in told[0].body
    assert ANNA["email"] not in told[0].body

    await hubspot.put("/_sandbox/faults", json={"error_rate": 0.0})
    done = await retry_due_deletions(
        web.session_factory, box=web.secret_box, now=later + timedelta(days=1)
    )

    assert done == 1
    request = await only_request(db)
    assert (request.state, request.attempts, request.last_error) == (
        DeletionState.completed, 3, None
    )  # fmt: skip
    assert request.outcomes["hubspot"]["state"] == "confirmed"
    assert await contact_status(hubspot, hubspot_id) == (404, 404)
    assert len((await db.execute(select(NotificationDelivery))).scalars().all()) == 1
