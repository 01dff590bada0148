"""Single-record endpoints: create, read, partial update, clear, archive, list paging, errors."""

from __future__ import annotations

import uuid

from tests.connectors.hubspot.sandbox.conftest import Sandbox


async def test_create_returns_hubspot_shape(sbx: Sandbox) -> None:
    body = await sbx.create("contacts", email="Ana@Example.com", firstname="Ana")
    assert body["id"] == body["properties"]["hs_object_id"]
    assert body["properties"]["email"] == "ana@example.com"
    assert body["createdAt"] == "2026-01-01T00:00:00.000Z" == body["properties"]["createdate"]
    assert body["properties"]["lastmodifieddate"] == body["updatedAt"]
    assert body["archived"] is False
    assert "archivedAt" not in body


async def test_read_returns_defaults_or_requested_properties(sbx: Sandbox) -> None:
    made = await sbx.create("contacts", email="a@x.de", firstname="A", city="Bern")
    default = (await sbx.http.get(f"/crm/v3/objects/contacts/{made['id']}")).json()
    assert set(default["properties"]) == {
        "email", "firstname", "createdate", "lastmodifieddate", "hs_object_id",
    }  # fmt: skip
    chosen = await sbx.http.get(
        f"/crm/v3/objects/0-1/{made['id']}", params={"properties": "city,nonexistent"}
    )
    assert chosen.json()["properties"]["city"] == "Bern"
    assert "nonexistent" not in chosen.json()["properties"]


async def test_companies_use_hs_lastmodifieddate(sbx: Sandbox) -> None:
    body = await sbx.create("companies", name="Acme", domain="acme.ch")
    assert "hs_lastmodifieddate" in body["properties"]
    assert "lastmodifieddate" not in body["properties"]


async def test_patch_is_partial_and_empty_string_clears(sbx: Sandbox) -> None:
    made = await sbx.create("contacts", email="p@x.de", firstname="P", lastname="Q")
    sbx.clock.advance(5)
    patched = await sbx.http.patch(
        f"/crm/v3/objects/contacts/{made['id']}", json={"properties": {"lastname": ""}}
    )
    assert patched.status_code == 200
    props = patched.json()["properties"]
    assert props["firstname"] == "P"
    assert "lastname" not in props
    assert patched.json()["updatedAt"] == "2026-01-01T00:00:05.000Z"


async def test_patch_by_unique_id_property(sbx: Sandbox) -> None:
    await sbx.create("contacts", email="id@x.de")
    patched = await sbx.http.patch(
        "/crm/v3/objects/contacts/ID@x.de",
        params={"idProperty": "email"},
        json={"properties": {"firstname": "Ida"}},
    )
    assert patched.json()["properties"]["firstname"] == "Ida"


async def test_archive_hides_record_except_with_archived_flag(sbx: Sandbox) -> None:
    made = await sbx.create("deals", dealname="Big", amount="100")
    url = f"/crm/v3/objects/deals/{made['id']}"
    assert (await sbx.http.delete(url)).status_code == 204
    assert (await sbx.http.get(url)).status_code == 404
    archived = await sbx.http.get(url, params={"archived": "true"})
    assert archived.json()["archived"] is True
    assert archived.json()["archivedAt"].endswith("Z")
    listed = await sbx.http.get("/crm/v3/objects/deals", params={"archived": "true"})
    assert [r["id"] for r in listed.json()["results"]] == [made["id"]]
    assert (await sbx.http.get("/crm/v3/objects/deals")).json()["results"] == []
    assert (await sbx.http.delete(url)).status_code == 204


async def test_list_pages_with_after_cursor(sbx: Sandbox) -> None:
    ids = [(await sbx.create("companies", name=f"C{n}"))["id"] for n in range(5)]
    seen: list[str] = []
    params = {"limit": "2"}
    while True:
        page = (await sbx.http.get("/crm/v3/objects/companies", params=params)).json()
        seen += [r["id"] for r in page["results"]]
        if "paging" not in page:
            break
        assert page["paging"]["next"]["link"].startswith("https://api.hubapi.com/")
        params["after"] = page["paging"]["next"]["after"]
    assert seen == ids
    too_many = await sbx.http.get("/crm/v3/objects/companies", params={"limit": "101"})
    assert too_many.status_code == 400


async def test_unknown_property_is_a_hubspot_validation_error(sbx: Sandbox) -> None:
    response = await sbx.http.post(
        "/crm/v3/objects/contacts", json={"properties": {"erp_idd": "1"}}
    )
    assert response.status_code == 400
    body = response.json()
    assert body["category"] == "VALIDATION_ERROR"
    assert body["status"] == "error"
    assert uuid.UUID(body["correlationId"])
    assert body["message"].startswith("Property values were not valid")
    assert body["errors"] == [
        {
            "message": 'Property "erp_idd" does not exist',
            "code": "PROPERTY_DOESNT_EXIST",
            "in": "erp_idd",
            "context": {"propertyName": ["erp_idd"]},
        }
    ]


async def test_type_errors_have_hubspot_codes(sbx: Sandbox) -> None:
    cases = {
        ("companies", "numberofemployees", "many"): "INVALID_INTEGER",
        ("deals", "dealstage", "nope"): "INVALID_OPTION",
        ("deals", "closedate", "yesterday"): "INVALID_DATETIME",
        ("contacts", "email", "not-an-email"): "INVALID_EMAIL",
        ("contacts", "hs_object_id", "5"): "READ_ONLY_VALUE",
    }
    for (object_type, name, value), code in cases.items():
        response = await sbx.http.post(
            f"/crm/v3/objects/{object_type}", json={"properties": {name: value}}
        )
        assert response.status_code == 400, (name, response.text)
        assert response.json()["errors"][0]["code"] == code


async def test_values_are_normalised_strings(sbx: Sandbox) -> None:
    body = await sbx.create(
        "deals", amount="12.5", closedate="1767225600000", dealstage="closedwon"
    )
    assert body["properties"]["closedate"] == "2026-01-01T00:00:00.000Z"
    number = await sbx.http.post(
        "/crm/v3/objects/companies", json={"properties": {"numberofemployees": 12}}
    )
    assert number.json()["properties"]["numberofemployees"] == "12"


async def test_duplicate_email_is_409_with_existing_id(sbx: Sandbox) -> None:
    first = await sbx.create("contacts", email="dup@x.de")
    response = await sbx.http.post(
        "/crm/v3/objects/contacts", json={"properties": {"email": "DUP@x.de"}}
    )
    assert response.status_code == 409
    body = response.json()
    assert body["category"] == "CONFLICT"
    assert body["message"] == f"Contact already exists. Existing ID: {first['id']}"


async def test_email_is_free_again_after_archive_and_change(sbx: Sandbox) -> None:
    first = await sbx.create("contacts", email="free@x.de")
    await sbx.http.patch(
        f"/crm/v3/objects/contacts/{first['id']}", json={"properties": {"email": "new@x.de"}}
    )
    second = await sbx.create("contacts", email="free@x.de")
    await sbx.http.delete(f"/crm/v3/objects/contacts/{second['id']}")
    await sbx.create("contacts", email="free@x.de")


async def test_unknown_object_type_and_path(sbx: Sandbox) -> None:
    unknown = await sbx.http.get("/crm/v3/objects/widgets")
    assert unknown.status_code == 400
    assert "Unable to infer object type" in unknown.json()["message"]
    missing = await sbx.http.get("/crm/v3/objects/contacts/999999")
    assert missing.status_code == 404
    assert missing.json()["category"] == "OBJECT_NOT_FOUND"


async def test_date_versioned_paths_answer_too(sbx: Sandbox) -> None:
    made = await sbx.create("contacts", email="v@x.de")
    read = await sbx.http.get(f"/crm/objects/2026-03/contacts/{made['id']}")
    assert read.json()["id"] == made["id"]
