"""A HubSpot privacy deletion reaches the PostgreSQL ERP and leaves no trace in hubsync.

End to end: the contacts interface syncs Anna and Bruno from the ERP into the
sandbox, a HubSpot user GDPR-deletes Anna, the receiver stores the event, and
``handle_privacy_deletion`` does the rest. Afterwards every table and column of
hubsync's database is searched for Anna's e-mail, names and phone.
"""

from __future__ import annotations

import io
import uuid

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import AuditEntry, DeletionRequest, RecordLink, RunItem, WebhookEvent
from app.models.enums import DeletionState, ErrorCategory, ItemAction, ItemStatus, SyncDirection
from app.sync.privacy.handler import handle_privacy_deletion
from app.web import WebState
from tests.factories import World
from tests.privacy.kit import (
    ANNA,
    BRUNO,
    PORTAL_ID,
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


async def synced(
    db: AsyncSession,
    web: WebState,
    world: World,
    erp: str,
    sandbox: str,
    *,
    policy: str = "delete",
    soft_delete: bool = False,
) -> tuple[uuid.UUID, str]:
    """The interface, synced once, and Anna's HubSpot id, deleted in HubSpot."""
    interface_id = await apply_contacts(db, web, world, erp_url=erp, sandbox_url=sandbox,
                                        policy=policy, soft_delete=soft_delete)  # fmt: skip
    await sync(web, interface_id)
    hubspot_id = await hubspot_id_of(db, interface_id, ANNA["person_id"])
    await gdpr_delete_in_hubspot(sandbox, hubspot_id)
    return interface_id, hubspot_id


async def add_traces(
    db: AsyncSession, world: World, interface_id: uuid.UUID, hubspot_id: str
) -> None:
    """More places Anna's data sits: a change event quoting her e-mail, a failed item's error."""
    await store_event(db, hubspot_id, kind="contact.propertyChange", propertyName="email",
                      propertyValue=ANNA["email"])  # fmt: skip
    run_id = (await db.execute(select(RunItem.run_id).limit(1))).scalar_one()
    db.add(RunItem(
        tenant_id=world.a.tenant.id, run_id=run_id, interface_id=interface_id,
        object_name="contacts", direction=SyncDirection.to_hubspot, action=ItemAction.update,
        status=ItemStatus.failed, source_key=ANNA["person_id"], hubspot_id=hubspot_id,
        error_message=f"Property values were not valid: {ANNA['email']} ({ANNA['phone']})",
        error_category=ErrorCategory.data, payload={"firstname": ANNA["first_name"]},
    ))  # fmt: skip
    await db.commit()


async def test_a_privacy_deletion_erases_the_person_everywhere(
    db: AsyncSession,
    web: WebState,
    world: World,
    persons_erp: str,
    sandbox_url: str,
    captured_logs: io.StringIO,
) -> None:
    interface_id, hubspot_id = await synced(db, web, world, persons_erp, sandbox_url)
    await add_traces(db, world, interface_id, hubspot_id)
    assert await personal_data_hits(web.engine, values_of(ANNA))  # the search does find them
    event = await store_event(db, hubspot_id)

    await handle_privacy_deletion(web.session_factory, event.id, box=web.secret_box)

    assert erp_person(persons_erp, ANNA["person_id"]) is None
    assert erp_person(persons_erp, BRUNO["person_id"]) is not None
    assert await personal_data_hits(web.engine, values_of(ANNA)) == []
    assert not any(v.lower() in captured_logs.getvalue().lower() for v in values_of(ANNA))
    request = await only_request(db)
    assert (request.state, request.policy, request.attempts) == (DeletionState.completed,
                                                                 "delete", 1)  # fmt: skip
    assert request.completed_at is not None
    assert (request.webhook_event_id, request.portal_id) == (event.id, PORTAL_ID)
    assert (request.hubspot_object_type, request.hubspot_object_id) == ("contacts", hubspot_id)
    source = request.outcomes[f"{interface_id}:contacts"]
    assert (source["state"], source["step"], source["records"]) == ("confirmed", "delete", 1)
    own = request.outcomes["hubsync"]
    assert own["state"] == "confirmed"
    assert own["record_links"] == 1
    assert own["run_items"] >= 2  # the created item and the failed one
    assert own["webhook_events"] == 2  # the change event and the privacy event itself
    links = (await db.execute(select(RecordLink.source_key))).scalars().all()
    assert links == [BRUNO["person_id"]]  # Bruno's pair is untouched
    audit = await db.scalar(
        select(func.count()).select_from(AuditEntry).where(
            AuditEntry.action == "privacy_deletion.complete",
            AuditEntry.target_id == str(request.id),
        )
    )  # fmt: skip
    assert audit == 1


async def test_a_second_call_changes_nothing(
    db: AsyncSession, web: WebState, world: World, persons_erp: str, sandbox_url: str
) -> None:
    _, hubspot_id = await synced(db, web, world, persons_erp, sandbox_url)
    event = await store_event(db, hubspot_id)
    await handle_privacy_deletion(web.session_factory, event.id, box=web.secret_box)
    first = await only_request(db)

    await handle_privacy_deletion(web.session_factory, event.id, box=web.secret_box)

    again = await only_request(db)
    assert (again.id, again.state, again.attempts) == (first.id, DeletionState.completed, 1)
    assert again.outcomes == first.outcomes
    assert await db.scalar(select(func.count()).select_from(DeletionRequest)) == 1


@pytest.mark.parametrize(
    ("policy", "soft_delete", "stays_deleted"),
    [("delete", True, True), ("anonymize", False, False)],
    ids=["soft-delete", "anonymize"],
)
async def test_a_row_that_stays_in_the_erp_keeps_no_personal_field(
    db: AsyncSession,
    web: WebState,
    world: World,
    persons_erp: str,
    sandbox_url: str,
    policy: str,
    soft_delete: bool,
    stays_deleted: bool,
) -> None:
    _, hubspot_id = await synced(db, web, world, persons_erp, sandbox_url, policy=policy,
                                 soft_delete=soft_delete)  # fmt: skip
    event = await store_event(db, hubspot_id)

    await handle_privacy_deletion(web.session_factory, event.id, box=web.secret_box)

    row = erp_person(persons_erp, ANNA["person_id"])
    assert row is not None
    assert [row[name] for name in ("email", "first_name", "last_name", "phone")] == [None] * 4
    assert (row["deleted_at"] is not None) is stays_deleted
    assert erp_person(persons_erp, BRUNO["person_id"])["email"] == BRUNO["email"]  # type: ignore[index]
    assert await personal_data_hits(web.engine, values_of(ANNA)) == []
    assert (await only_request(db)).state is DeletionState.completed


async def test_the_ignore_policy_keeps_the_erp_row_and_says_why(
    db: AsyncSession, web: WebState, world: World, persons_erp: str, sandbox_url: str
) -> None:
    interface_id, hubspot_id = await synced(db, web, world, persons_erp, sandbox_url,
                                            policy="ignore")  # fmt: skip
    event = await store_event(db, hubspot_id)

    await handle_privacy_deletion(web.session_factory, event.id, box=web.secret_box)

    assert erp_person(persons_erp, ANNA["person_id"])["email"] == ANNA["email"]  # type: ignore[index]
    request = await only_request(db)
    assert (request.state, request.policy) == (DeletionState.completed, "ignore")
    source = request.outcomes[f"{interface_id}:contacts"]
    assert (source["state"], source["step"], source["records"]) == ("ignored", "ignore", 1)
    assert "on_privacy_deletion: ignore" in source["reason"]
    assert await personal_data_hits(web.engine, values_of(ANNA)) == []  # hubsync's copy is gone


async def test_events_of_the_contact_keep_ids_but_lose_their_payload(
    db: AsyncSession, web: WebState, world: World, persons_erp: str, sandbox_url: str
) -> None:
    _, hubspot_id = await synced(db, web, world, persons_erp, sandbox_url)
    change = await store_event(db, hubspot_id, kind="contact.propertyChange",
                               propertyValue=ANNA["email"])  # fmt: skip
    event = await store_event(db, hubspot_id)

    await handle_privacy_deletion(web.session_factory, event.id, box=web.secret_box)

    stored = await db.get(WebhookEvent, change.id, populate_existing=True)
    assert stored is not None
    assert (stored.payload, stored.object_id, stored.subscription_type) == (
        {}, hubspot_id, "contact.propertyChange"
    )  # fmt: skip
