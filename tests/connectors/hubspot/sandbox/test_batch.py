"""Batch endpoints: create, update, upsert with ``new``, 207 per-input errors, read, archive."""

from __future__ import annotations

from typing import Any

from tests.connectors.hubspot.sandbox.conftest import Sandbox


def contact(n: int, trace: bool = True, **extra: str) -> dict[str, Any]:
    entry: dict[str, Any] = {"properties": {"email": f"c{n}@x.de", **extra}}
    if trace:
        entry["objectWriteTraceId"] = f"run:{n}"
    return entry


async def test_batch_create_is_201_with_all_results(sbx: Sandbox) -> None:
    response = await sbx.http.post(
        "/crm/v3/objects/contacts/batch/create", json={"inputs": [contact(1), contact(2)]}
    )
    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "COMPLETE"
    assert [r["properties"]["email"] for r in body["results"]] == ["c1@x.de", "c2@x.de"]
    assert {"startedAt", "completedAt"} <= body.keys()
    assert "errors" not in body


async def test_batch_create_with_trace_ids_reports_failures_as_207(sbx: Sandbox) -> None:
    await sbx.create("contacts", email="c2@x.de")
    inputs = [contact(1), contact(2), contact(3, bogus="x")]
    response = await sbx.http.post("/crm/v3/objects/contacts/batch/create", json={"inputs": inputs})
    assert response.status_code == 207
    body = response.json()
    assert [r["properties"]["email"] for r in body["results"]] == ["c1@x.de"]
    assert body["numErrors"] == 2
    by_trace = {e["context"]["objectWriteTraceId"][0]: e for e in body["errors"]}
    assert by_trace["run:2"]["category"] == "CONFLICT"
    assert by_trace["run:3"]["errors"][0]["code"] == "PROPERTY_DOESNT_EXIST"
    for error in body["errors"]:
        assert {"status", "category", "message", "errors", "context", "links"} <= error.keys()


async def test_batch_create_without_trace_ids_fails_whole_batch(sbx: Sandbox) -> None:
    inputs = [contact(1, trace=False), contact(2, trace=False, bogus="x")]
    response = await sbx.http.post("/crm/v3/objects/contacts/batch/create", json={"inputs": inputs})
    assert response.status_code == 400
    assert response.json()["category"] == "VALIDATION_ERROR"
    listed = await sbx.http.get("/crm/v3/objects/contacts")
    assert listed.json()["results"] == []


async def test_duplicate_email_inside_one_batch_is_a_conflict(sbx: Sandbox) -> None:
    inputs = [contact(1, trace=False), contact(1, trace=False)]
    response = await sbx.http.post("/crm/v3/objects/contacts/batch/create", json={"inputs": inputs})
    assert response.status_code == 409
    assert response.json()["message"].startswith("Contact already exists. Existing ID:")


async def test_upsert_by_email_reports_new_and_existing(sbx: Sandbox) -> None:
    existing = await sbx.create("contacts", email="old@x.de", firstname="Old")
    inputs = [
        {"id": "OLD@x.de", "idProperty": "email", "properties": {"lastname": "Known"}},
        {"id": "new@x.de", "idProperty": "email", "properties": {"lastname": "Fresh"}},
    ]
    response = await sbx.http.post("/crm/v3/objects/contacts/batch/upsert", json={"inputs": inputs})
    assert response.status_code == 200
    results = {r["properties"]["email"]: r for r in response.json()["results"]}
    assert results["old@x.de"]["new"] is False
    assert results["old@x.de"]["id"] == existing["id"]
    assert results["old@x.de"]["properties"]["firstname"] == "Old"
    assert results["new@x.de"]["new"] is True


async def test_upsert_on_custom_unique_property(sbx: Sandbox) -> None:
    created = await sbx.http.post(
        "/crm/v3/properties/companies",
        json={"name": "erp_id", "label": "ERP id", "type": "string", "fieldType": "text",
              "groupName": "companyinformation", "hasUniqueValue": True},
    )  # fmt: skip
    assert created.status_code == 201
    body = {"inputs": [{"id": "C-1", "idProperty": "erp_id", "properties": {"name": "A"}}]}
    first = await sbx.http.post("/crm/v3/objects/companies/batch/upsert", json=body)
    second = await sbx.http.post("/crm/v3/objects/companies/batch/upsert", json=body)
    assert first.json()["results"][0]["new"] is True
    assert first.json()["results"][0]["properties"]["erp_id"] == "C-1"
    assert second.json()["results"][0]["new"] is False
    assert second.json()["results"][0]["id"] == first.json()["results"][0]["id"]


async def test_upsert_needs_a_unique_id_property(sbx: Sandbox) -> None:
    body = {"inputs": [{"id": "Acme", "idProperty": "name", "properties": {}}]}
    response = await sbx.http.post("/crm/v3/objects/companies/batch/upsert", json=body)
    assert response.status_code == 400


async def test_batch_update_and_duplicate_ids(sbx: Sandbox) -> None:
    made = await sbx.create("companies", name="A", city="Basel")
    body = {"inputs": [{"id": made["id"], "properties": {"city": "Bern"}}]}
    updated = await sbx.http.post("/crm/v3/objects/companies/batch/update", json=body)
    assert updated.status_code == 200
    assert updated.json()["results"][0]["properties"]["city"] == "Bern"
    missing = {"inputs": [{"id": "424242", "properties": {}, "objectWriteTraceId": "t"}]}
    gone = await sbx.http.post("/crm/v3/objects/companies/batch/update", json=missing)
    assert gone.status_code == 207
    assert gone.json()["errors"][0]["context"]["ids"] == ["424242"]
    twice = {"inputs": body["inputs"] * 2}
    duplicate = await sbx.http.post("/crm/v3/objects/companies/batch/update", json=twice)
    assert duplicate.status_code == 400
    assert "Duplicate IDs" in duplicate.json()["message"]


async def test_batch_read_reports_missing_ids_as_207(sbx: Sandbox) -> None:
    made = await sbx.create("contacts", email="r@x.de", city="Chur")
    body = {"inputs": [{"id": made["id"]}, {"id": "999"}], "properties": ["city"]}
    response = await sbx.http.post("/crm/v3/objects/contacts/batch/read", json=body)
    assert response.status_code == 207
    assert response.json()["results"][0]["properties"]["city"] == "Chur"
    error = response.json()["errors"][0]
    assert error["category"] == "OBJECT_NOT_FOUND"
    assert error["context"]["ids"] == ["999"]
    by_email = {"inputs": [{"id": "r@x.de"}], "idProperty": "email", "properties": []}
    found = await sbx.http.post("/crm/v3/objects/contacts/batch/read", json=by_email)
    assert found.status_code == 200
    assert found.json()["results"][0]["id"] == made["id"]


async def test_batch_archive_and_limit(sbx: Sandbox) -> None:
    made = await sbx.create("contacts", email="a@x.de")
    body = {"inputs": [{"id": made["id"]}, {"id": "777"}]}
    response = await sbx.http.post("/crm/v3/objects/contacts/batch/archive", json=body)
    assert response.status_code == 204
    assert (await sbx.http.get(f"/crm/v3/objects/contacts/{made['id']}")).status_code == 404
    many = {"inputs": [contact(n) for n in range(101)]}
    too_many = await sbx.http.post("/crm/v3/objects/contacts/batch/create", json=many)
    assert too_many.status_code == 400


async def test_create_with_associations(sbx: Sandbox) -> None:
    company = await sbx.create("companies", name="Acme")
    spec = {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 279}
    body = {
        "properties": {"email": "w@x.de"},
        "associations": [{"to": {"id": company["id"]}, "types": [spec]}],
    }
    made = await sbx.http.post("/crm/v3/objects/contacts", json=body)
    assert made.status_code == 201
    back = await sbx.http.get(f"/crm/v4/objects/companies/{company['id']}/associations/contacts")
    assert back.json()["results"][0]["toObjectId"] == made.json()["id"]
    bad = {"properties": {}, "associations": [{"to": {"id": "5555"}, "types": [spec]}]}
    assert (await sbx.http.post("/crm/v3/objects/contacts", json=bad)).status_code == 400
