"""The suppression list keeps a privacy-deleted person out of HubSpot, until lifted.

End to end on the PostgreSQL ERP and the sandbox: the contacts interface syncs
Anna and Bruno, a HubSpot user GDPR-deletes Anna, and the mapping keeps her in
the ERP (``ignore``). Later runs, also after her row changes or comes back
under a new key with her e-mail, do not create her in HubSpot again, and leave
nothing of her in hubsync; once an admin lifts the entries, her next change
syncs. hubsync's own GDPR delete (an ERP erasure) suppresses the same way.
"""

from __future__ import annotations

import asyncio
import hashlib

import httpx
from sqlalchemy import create_engine, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import PrivacySuppression, RunItem, SyncRun
from app.sync.privacy.handler import handle_privacy_deletion
from app.web import WebState
from tests.factories import World, bearer
from tests.privacy.kit import (
    ANNA,
    BRUNO,
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
from tests.test_cli_run import TOKEN

API = "/api/v1/suppressions"


def run_sql(url: str, statement: str, **values: object) -> None:
    """One statement in the ERP (call off the event loop)."""
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text(statement), values)
    engine.dispose()


async def change_in_erp(url: str, person_id: str, phone: str) -> None:
    """The ERP changes a person's phone: the next run reads the row again."""
    await asyncio.to_thread(
        run_sql,
        url,
        "UPDATE persons SET phone = :phone, updated_at = now() WHERE person_id = :id",
        phone=phone,
        id=person_id,
    )


async def hubspot_emails(sandbox_url: str) -> set[str]:
    """The e-mails of every contact the sandbox portal holds."""
    async with httpx.AsyncClient(
        base_url=sandbox_url, headers={"Authorization": f"Bearer {TOKEN}"}
    ) as api:
        response = await api.get(
            "/crm/v3/objects/contacts", params={"properties": "email", "limit": 100}
        )
    assert response.status_code == 200, response.text
    return {r["properties"].get("email") or "" for r in response.json()["results"]}


async def last_run(db: AsyncSession) -> SyncRun:
    statement = (
        select(SyncRun)
        .order_by(SyncRun.started_at.desc())
        .limit(1)
        .execution_options(populate_existing=True)
    )
    return (await db.execute(statement)).scalar_one()


async def entries(db: AsyncSession) -> list[PrivacySuppression]:
    statement = select(PrivacySuppression).execution_options(populate_existing=True)
    return list((await db.execute(statement)).scalars())


def unkeyed_hashes(values: list[str]) -> list[str]:
    """Plain SHA-256 hashes of the values, as a list without a key would hold them."""
    forms = {
        v
        for value in values
        for v in (value, value.casefold(), f"match\x1f{value}", f"source_key\x1f{value}")
    }
    return [hashlib.sha256(form.encode()).hexdigest() for form in forms]


async def test_an_ignored_person_stays_out_of_hubspot_until_lifted(
    db: AsyncSession,
    web: WebState,
    world: World,
    persons_erp: str,
    sandbox_url: str,
    client: httpx.AsyncClient,
) -> None:
    interface_id = await apply_contacts(
        db, web, world, erp_url=persons_erp, sandbox_url=sandbox_url, policy="ignore"
    )
    await sync(web, interface_id)
    hubspot_id = await hubspot_id_of(db, interface_id, ANNA["person_id"])
    await gdpr_delete_in_hubspot(sandbox_url, hubspot_id)
    event = await store_event(db, hubspot_id)

    await handle_privacy_deletion(web.session_factory, event.id, box=web.secret_box)

    request = await only_request(db)
    assert erp_person(persons_erp, ANNA["person_id"]) is not None  # ignore: the ERP keeps her
    listed = await entries(db)
    assert sorted(e.kind for e in listed) == ["match", "source_key"]
    owners = {(e.tenant_id, e.interface_id, e.object_name, e.deletion_request_id) for e in listed}
    assert owners == {(world.a.tenant.id, interface_id, "contacts", request.id)}

    await sync(web, interface_id)  # nothing changed: nothing read
    await change_in_erp(persons_erp, ANNA["person_id"], "+41 79 555 77 77")
    await change_in_erp(persons_erp, BRUNO["person_id"], "+41 31 555 11 11")
    await asyncio.to_thread(
        run_sql,
        persons_erp,
        "INSERT INTO persons (person_id, email, first_name, last_name, phone) "
        "VALUES ('P-9', :email, 'Anna', 'Neu', NULL)",
        email=f"  {ANNA['email'].upper()} ",
    )
    await sync(web, interface_id)

    emails = await hubspot_emails(sandbox_url)
    assert ANNA["email"] not in {e.casefold().strip() for e in emails}
    assert BRUNO["email"] in emails  # the rest of the run went on
    run = await last_run(db)
    assert run.counts["contacts"]["skipped"] == 2  # her row and the new one with her e-mail
    assert run.counts["contacts"]["updated"] == 1
    keys = (await db.execute(select(RunItem.source_key).where(RunItem.run_id == run.id))).all()
    assert [k for (k,) in keys] == [BRUNO["person_id"]]  # no item for her: no payload
    hits = await personal_data_hits(
        web.engine, [*values_of(ANNA), *unkeyed_hashes([ANNA["email"], ANNA["person_id"]])]
    )
    assert hits == []

    lifted = [
        await client.post(
            f"{API}/{e.id}/lift",
            json={"reason": "Kundin wünscht Kontakt"},
            headers=bearer(world.a.admin_token),
        )
        for e in listed
    ]
    assert [r.status_code for r in lifted] == [200, 200], lifted[0].text
    await change_in_erp(persons_erp, ANNA["person_id"], "+41 79 555 88 88")
    await sync(web, interface_id)

    assert ANNA["email"] in await hubspot_emails(sandbox_url)


async def test_an_erp_erasure_keeps_the_row_out_when_it_comes_back(
    db: AsyncSession, web: WebState, world: World, persons_erp: str, sandbox_url: str
) -> None:
    interface_id = await apply_contacts(
        db,
        web,
        world,
        erp_url=persons_erp,
        sandbox_url=sandbox_url,
        soft_delete=True,
        source_deleted="gdpr_delete",
    )
    await sync(web, interface_id)
    await asyncio.to_thread(
        run_sql,
        persons_erp,
        "UPDATE persons SET deleted_at = now(), updated_at = now(), email = NULL, "
        "first_name = NULL, last_name = NULL, phone = NULL WHERE person_id = :id",
        id=ANNA["person_id"],
    )
    await sync(web, interface_id)
    request = await only_request(db)
    assert {(e.kind, e.deletion_request_id) for e in await entries(db)} == {
        ("source_key", request.id),
        ("match", request.id),
    }

    await asyncio.to_thread(
        run_sql,
        persons_erp,
        "UPDATE persons SET deleted_at = NULL, updated_at = now(), email = :email, "
        "first_name = :first_name, last_name = :last_name WHERE person_id = :id",
        email=ANNA["email"],
        first_name=ANNA["first_name"],
        last_name=ANNA["last_name"],
        id=ANNA["person_id"],
    )
    await sync(web, interface_id)

    assert ANNA["email"] not in await hubspot_emails(sandbox_url)
    assert (await last_run(db)).counts["contacts"]["skipped"] == 1
    assert await personal_data_hits(web.engine, values_of(ANNA)) == []
