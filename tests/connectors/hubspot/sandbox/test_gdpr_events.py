"""Change events for webhooks, and GDPR deletion (permanent, with privacy events)."""

from __future__ import annotations

from tests.connectors.hubspot.sandbox.conftest import Sandbox


async def test_writes_publish_creation_property_change_and_deletion(sbx: Sandbox) -> None:
    made = await sbx.create("companies", name="Acme")
    oid = int(made["id"])
    await sbx.http.patch(
        f"/crm/v3/objects/companies/{oid}", json={"properties": {"name": "Acme", "city": "Bern"}}
    )
    await sbx.http.delete(f"/crm/v3/objects/companies/{oid}")
    seen = [(e.subscription_type, e.property_name, e.property_value) for e in sbx.sink.events]
    assert seen == [
        ("company.creation", None, None),
        ("company.propertyChange", "name", "Acme"),
        ("company.propertyChange", "city", "Bern"),
        ("company.deletion", None, None),
    ]
    assert {e.object_id for e in sbx.sink.events} == {oid}
    assert {e.object_type_id for e in sbx.sink.events} == {"0-2"}
    assert {e.change_source for e in sbx.sink.events} == {"API"}


async def test_gdpr_delete_by_email_is_permanent(sbx: Sandbox) -> None:
    made = await sbx.create("contacts", email="forget@x.de")
    sbx.sink.events.clear()
    response = await sbx.http.post(
        "/crm/v3/objects/contacts/gdpr-delete",
        json={"objectId": "forget@x.de", "idProperty": "email"},
    )
    assert response.status_code == 204
    url = f"/crm/v3/objects/contacts/{made['id']}"
    assert (await sbx.http.get(url)).status_code == 404
    assert (await sbx.http.get(url, params={"archived": "true"})).status_code == 404
    kinds = [e.subscription_type for e in sbx.sink.events]
    assert kinds == ["contact.privacyDeletion", "contact.deletion"]
    await sbx.create("contacts", email="forget@x.de")


async def test_gdpr_delete_by_id_and_unknown(sbx: Sandbox) -> None:
    made = await sbx.create("contacts", email="id@x.de")
    by_id = await sbx.http.post(
        "/crm/v3/objects/contacts/gdpr-delete", json={"objectId": made["id"]}
    )
    assert by_id.status_code == 204
    again = await sbx.http.post(
        "/crm/v3/objects/contacts/gdpr-delete", json={"objectId": made["id"]}
    )
    assert again.status_code == 404
    companies = await sbx.http.post("/crm/v3/objects/companies/gdpr-delete", json={"objectId": "1"})
    assert companies.status_code == 400


async def test_associations_added_and_removed_publish_association_changes(sbx: Sandbox) -> None:
    company = int((await sbx.create("companies", name="Acme"))["id"])
    contact = int((await sbx.create("contacts", email="a@acme.test"))["id"])
    sbx.sink.events.clear()
    path = f"/crm/v4/objects/contacts/{contact}/associations/default/companies/{company}"
    assert (await sbx.http.put(path)).status_code == 200
    removal = f"/crm/v4/objects/contacts/{contact}/associations/companies/{company}"
    assert (await sbx.http.delete(removal)).status_code == 204
    seen = [
        (e.subscription_type, e.object_id, e.link and (e.link.to_object_id, e.link.name,
                                                      e.link.removed))
        for e in sbx.sink.events
    ]  # fmt: skip
    assert seen == [
        ("contact.associationChange", contact, (company, "CONTACT_TO_COMPANY", False)),
        ("company.associationChange", company, (contact, "COMPANY_TO_CONTACT", False)),
        ("contact.associationChange", contact, (company, "CONTACT_TO_COMPANY", True)),
        ("company.associationChange", company, (contact, "COMPANY_TO_CONTACT", True)),
    ]


async def test_a_record_created_with_an_association_reports_it(sbx: Sandbox) -> None:
    company = int((await sbx.create("companies", name="Acme"))["id"])
    sbx.sink.events.clear()
    made = await sbx.http.post("/crm/v3/objects/contacts", json={
        "properties": {"email": "b@acme.test"},
        "associations": [{"to": {"id": str(company)}, "types": [
            {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 1}]}],
    })  # fmt: skip
    assert made.status_code == 201
    links = {(e.subscription_type, e.link.primary) for e in sbx.sink.events if e.link}
    assert links == {("contact.associationChange", True), ("company.associationChange", True)}
