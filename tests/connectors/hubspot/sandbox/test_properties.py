"""Properties v3: list and read defaults, create custom (unique, enumeration), groups, errors."""

from __future__ import annotations

from typing import Any

from tests.connectors.hubspot.sandbox.conftest import Sandbox


def definition(name: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "label": name.title(), "type": "string", "fieldType": "text",
            "groupName": "dealinformation", **extra}  # fmt: skip


async def test_default_properties_are_listed(sbx: Sandbox) -> None:
    listed = (await sbx.http.get("/crm/v3/properties/deals")).json()["results"]
    names = {p["name"] for p in listed}
    assert {"dealname", "amount", "closedate", "pipeline", "dealstage", "hs_object_id"} <= names
    email = (await sbx.http.get("/crm/v3/properties/contacts/email")).json()
    assert email["hasUniqueValue"] is True
    assert email["hubspotDefined"] is True
    assert (await sbx.http.get("/crm/v3/properties/contacts/nope")).status_code == 404


async def test_create_enumeration_property_and_use_it(sbx: Sandbox) -> None:
    options = [{"label": "Open", "value": "open", "hidden": False, "displayOrder": 1},
               {"label": "Invoiced", "value": "invoiced", "hidden": False}]  # fmt: skip
    body = definition("erp_status", type="enumeration", fieldType="select", options=options)
    created = await sbx.http.post("/crm/v3/properties/deals", json=body)
    assert created.status_code == 201
    assert [o["value"] for o in created.json()["options"]] == ["open", "invoiced"]
    assert created.json()["createdAt"].endswith("Z")
    ok = await sbx.http.post("/crm/v3/objects/deals", json={"properties": {"erp_status": "open"}})
    assert ok.status_code == 201
    bad = await sbx.http.post("/crm/v3/objects/deals", json={"properties": {"erp_status": "Open"}})
    assert bad.json()["errors"][0]["code"] == "INVALID_OPTION"


async def test_existing_name_is_409_and_bad_definitions_400(sbx: Sandbox) -> None:
    assert (
        await sbx.http.post("/crm/v3/properties/deals", json=definition("erp_no"))
    ).status_code == 201
    again = await sbx.http.post("/crm/v3/properties/deals", json=definition("erp_no"))
    assert again.status_code == 409
    for bad in (
        definition("wrong_pair", type="number", fieldType="text"),
        definition("Upper"),
        definition("no_group", groupName="missing"),
        definition("no_options", type="enumeration", fieldType="select"),
        {"name": "incomplete"},
    ):
        response = await sbx.http.post("/crm/v3/properties/deals", json=bad)
        assert response.status_code == 400, bad
        assert response.json()["category"] == "VALIDATION_ERROR"


async def test_unique_property_rejects_duplicates(sbx: Sandbox) -> None:
    await sbx.http.post("/crm/v3/properties/deals", json=definition("erp_key", hasUniqueValue=True))
    first = await sbx.create("deals", erp_key="K1")
    response = await sbx.http.post("/crm/v3/objects/deals", json={"properties": {"erp_key": "K1"}})
    assert response.status_code == 409
    assert response.json()["message"] == f"Deal already exists. Existing ID: {first['id']}"


async def test_groups_list_and_create(sbx: Sandbox) -> None:
    created = await sbx.http.post(
        "/crm/v3/properties/companies/groups", json={"name": "erp_sync", "label": "ERP sync"}
    )
    assert created.status_code == 201
    assert created.json() == {
        "name": "erp_sync",
        "label": "ERP sync",
        "displayOrder": -1,
        "archived": False,
    }
    again = await sbx.http.post(
        "/crm/v3/properties/companies/groups", json={"name": "erp_sync", "label": "ERP sync"}
    )
    assert again.status_code == 409
    listed = (await sbx.http.get("/crm/v3/properties/companies/groups")).json()["results"]
    assert {"companyinformation", "erp_sync"} <= {g["name"] for g in listed}
    one = await sbx.http.get("/crm/v3/properties/companies/groups/erp_sync")
    assert one.json()["label"] == "ERP sync"


async def test_custom_properties_survive_a_restart(tmp_path: Any) -> None:
    from app.connectors.hubspot.sandbox.config import SandboxConfig
    from tests.connectors.hubspot.sandbox.conftest import TOKEN, open_sandbox

    config = SandboxConfig(
        private_tokens=[TOKEN], rate_limits=False, db_path=str(tmp_path / "p.db")
    )
    _, first = await open_sandbox(config)
    async with first.http:
        await first.http.post(
            "/crm/v3/properties/deals", json=definition("kept", hasUniqueValue=True)
        )
        await first.create("deals", kept="K")
    _, second = await open_sandbox(config)
    async with second.http:
        again = await second.http.post("/crm/v3/objects/deals", json={"properties": {"kept": "K"}})
        assert again.status_code == 409
