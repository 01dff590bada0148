"""Associations v4: default and labelled links stored both ways, batch read paging, removal."""

from __future__ import annotations

from typing import Any

from tests.connectors.hubspot.sandbox.conftest import Sandbox


def pairs(*ids: tuple[str, str]) -> dict[str, Any]:
    return {"inputs": [{"from": {"id": a}, "to": {"id": b}} for a, b in ids]}


async def type_ids(sbx: Sandbox, object_type: str, oid: str, to: str) -> dict[str, set[int]]:
    response = await sbx.http.get(f"/crm/v4/objects/{object_type}/{oid}/associations/{to}")
    assert response.status_code == 200
    return {
        r["toObjectId"]: {t["typeId"] for t in r["associationTypes"]}
        for r in response.json()["results"]
    }


async def test_default_association_is_stored_both_ways(sbx: Sandbox) -> None:
    contact = (await sbx.create("contacts", email="a@x.de"))["id"]
    company = (await sbx.create("companies", name="Acme"))["id"]
    deal = (await sbx.create("deals", dealname="D"))["id"]
    linked = await sbx.http.post(
        "/crm/v4/associations/contacts/companies/batch/associate/default",
        json=pairs((contact, company)),
    )
    assert linked.status_code == 200
    assert linked.json()["results"][0]["associationSpec"]["associationTypeId"] == 279
    await sbx.http.post(
        "/crm/v4/associations/deals/companies/batch/associate/default", json=pairs((deal, company))
    )
    await sbx.http.post(
        "/crm/v4/associations/deals/contacts/batch/associate/default", json=pairs((deal, contact))
    )
    assert await type_ids(sbx, "contacts", contact, "companies") == {company: {279}}
    assert await type_ids(sbx, "companies", company, "contacts") == {contact: {280}}
    assert await type_ids(sbx, "companies", company, "deals") == {deal: {342}}
    assert await type_ids(sbx, "deals", deal, "companies") == {company: {341}}
    assert await type_ids(sbx, "contacts", contact, "deals") == {deal: {4}}
    assert await type_ids(sbx, "deals", deal, "contacts") == {contact: {3}}


async def test_labelled_create_adds_the_unlabelled_type(sbx: Sandbox) -> None:
    contact = (await sbx.create("contacts", email="p@x.de"))["id"]
    company = (await sbx.create("companies", name="Primary"))["id"]
    primary = [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 1}]
    body = {"inputs": [{"from": {"id": contact}, "to": {"id": company}, "types": primary}]}
    created = await sbx.http.post("/crm/v4/associations/contacts/companies/batch/create", json=body)
    assert created.status_code == 201
    assert created.json()["results"][0]["labels"] == ["Primary"]
    assert await type_ids(sbx, "companies", company, "contacts") == {contact: {2, 280}}
    wrong = {
        "inputs": [
            {
                **body["inputs"][0],
                "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 3}],
            }
        ]
    }
    assert (
        await sbx.http.post("/crm/v4/associations/contacts/companies/batch/create", json=wrong)
    ).status_code == 400


async def test_batch_create_reports_unknown_records_as_207(sbx: Sandbox) -> None:
    contact = (await sbx.create("contacts", email="u@x.de"))["id"]
    spec = [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 279}]
    body = {"inputs": [{"from": {"id": contact}, "to": {"id": "98765"}, "types": spec}]}
    response = await sbx.http.post(
        "/crm/v4/associations/contacts/companies/batch/create", json=body
    )
    assert response.status_code == 207
    assert response.json()["errors"][0]["context"]["ids"] == ["98765"]


async def test_batch_read_pages_per_input(sbx: Sandbox) -> None:
    company = (await sbx.create("companies", name="Big"))["id"]
    contacts = [(await sbx.create("contacts", email=f"m{n}@x.de"))["id"] for n in range(3)]
    await sbx.http.post(
        "/crm/v4/associations/companies/contacts/batch/associate/default",
        json=pairs(*((company, c) for c in contacts)),
    )
    lonely = (await sbx.create("companies", name="Lonely"))["id"]
    body = {"inputs": [{"id": company}, {"id": lonely}]}
    response = await sbx.http.post("/crm/v4/associations/companies/contacts/batch/read", json=body)
    assert response.status_code == 207
    result = response.json()["results"][0]
    assert result["from"] == {"id": company}
    assert [t["toObjectId"] for t in result["to"]] == contacts
    assert "paging" not in result
    assert response.json()["errors"][0]["context"]["fromObjectId"] == [lonely]
    page = await sbx.http.get(
        f"/crm/v4/objects/companies/{company}/associations/contacts", params={"limit": "2"}
    )
    assert page.json()["paging"]["next"]["after"] == "2"


async def test_removal_drops_both_directions(sbx: Sandbox) -> None:
    contact = (await sbx.create("contacts", email="r@x.de"))["id"]
    company = (await sbx.create("companies", name="R"))["id"]
    put = await sbx.http.put(
        f"/crm/v4/objects/contacts/{contact}/associations/default/companies/{company}"
    )
    assert put.status_code == 200
    archive = {"inputs": [{"from": {"id": company}, "to": [{"id": contact}]}]}
    response = await sbx.http.post(
        "/crm/v4/associations/companies/contacts/batch/archive", json=archive
    )
    assert response.status_code == 204
    assert await type_ids(sbx, "contacts", contact, "companies") == {}
