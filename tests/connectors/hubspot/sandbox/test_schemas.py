"""Schemas v3: define custom objects, use their records by 2-<n> and p_<name>, archive, restart."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.connectors.hubspot.sandbox import routes_schemas
from app.connectors.hubspot.sandbox.app import create_sandbox
from app.connectors.hubspot.sandbox.config import SandboxConfig
from tests.connectors.hubspot.sandbox.conftest import FakeClock, client

TOKEN = "sandbox-token"
SCHEMAS = "/crm/v3/schemas"


def portal(db_path: str = ":memory:") -> httpx.AsyncClient:
    """A client for a fresh sandbox on ``db_path`` with the schemas routes included."""
    app = create_sandbox(SandboxConfig(rate_limits=False, db_path=db_path), clock=FakeClock())
    app.include_router(routes_schemas.router)
    return client(app, TOKEN)


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    """A client for a fresh in-memory sandbox."""
    async with portal() as sandbox:
        yield sandbox


def prop(name: str, kind: str = "string", field: str = "text", **extra: Any) -> dict[str, Any]:
    return {"name": name, "label": name.title(), "type": kind, "fieldType": field, **extra}


def egg(name: str = "orders", **extra: Any) -> dict[str, Any]:
    options = [{"label": "Open", "value": "open"}, {"label": "Shipped", "value": "shipped"}]
    return {
        "name": name,
        "labels": {"singular": "Auftrag", "plural": "Aufträge"},
        "primaryDisplayProperty": "order_no",
        "requiredProperties": ["order_no"],
        "searchableProperties": ["order_no", "customer"],
        "secondaryDisplayProperties": ["amount"],
        "properties": [
            prop("order_no", hasUniqueValue=True),
            prop("amount", "number", "number"),
            prop("status", "enumeration", "select", options=options),
            prop("customer"),
        ],
        "associatedObjects": ["CONTACT", "COMPANY"],
        **extra,
    }


async def define(http: httpx.AsyncClient, **extra: Any) -> dict[str, Any]:
    response = await http.post(SCHEMAS, json=egg(**extra))
    assert response.status_code == 201, response.text
    schema: dict[str, Any] = response.json()
    return schema


async def create(http: httpx.AsyncClient, object_type: str, **props: str) -> str:
    response = await http.post(f"/crm/v3/objects/{object_type}", json={"properties": props})
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def test_create_answers_the_object_schema(http: httpx.AsyncClient) -> None:
    schema = await define(http)
    assert schema["id"] == "1"
    assert schema["objectTypeId"] == "2-1"
    assert schema["fullyQualifiedName"] == "p62515_orders"
    assert schema["labels"] == {"singular": "Auftrag", "plural": "Aufträge"}
    assert schema["archived"] is False
    assert schema["createdAt"] == schema["updatedAt"] == "2026-01-01T00:00:00.000Z"
    assert schema["primaryDisplayProperty"] == "order_no"
    assert schema["searchableProperties"] == ["order_no", "customer"]
    props = {p["name"]: p for p in schema["properties"]}
    assert {"order_no", "amount", "status", "customer", "hs_object_id"} <= set(props)
    assert props["order_no"]["hasUniqueValue"] is True
    assert props["order_no"]["groupName"] == "orders_information"
    assert [o["value"] for o in props["status"]["options"]] == ["open", "shipped"]
    assert [(a["toObjectTypeId"], a["id"], a["name"]) for a in schema["associations"]] == [
        ("0-1", "1000", "orders_to_contact"),
        ("0-2", "1002", "orders_to_company"),
    ]
    second = await define(http, name="Auftraege", associatedObjects=[])
    assert (second["objectTypeId"], second["fullyQualifiedName"]) == ("2-2", "p62515_Auftraege")


async def test_records_by_type_id_alias_and_full_name(http: httpx.AsyncClient) -> None:
    await define(http)
    oid = await create(http, "2-1", order_no="A-1", amount="12.5", status="open")
    read = await http.get(f"/crm/v3/objects/p_orders/{oid}", params={"properties": "order_no"})
    assert read.json()["properties"]["order_no"] == "A-1"
    bad = await http.post("/crm/v3/objects/p_orders", json={"properties": {"status": "lost"}})
    assert bad.json()["errors"][0]["code"] == "INVALID_OPTION"
    equals = {"propertyName": "order_no", "operator": "EQ", "value": "A-1"}
    search = {"filterGroups": [{"filters": [equals]}], "properties": ["amount"]}
    found = (await http.post("/crm/v3/objects/p62515_orders/search", json=search)).json()
    assert (found["total"], found["results"][0]["properties"]["amount"]) == (1, "12.5")
    upsert = {
        "inputs": [
            {"id": "A-1", "idProperty": "order_no", "properties": {"amount": "20"}},
            {"id": "A-2", "idProperty": "order_no", "properties": {"status": "shipped"}},
        ]
    }
    done = await http.post("/crm/v3/objects/2-1/batch/upsert", json=upsert)
    assert done.status_code == 200, done.text
    assert sorted((r["properties"]["order_no"], r["new"]) for r in done.json()["results"]) == [
        ("A-1", False),
        ("A-2", True),
    ]
    listed = (await http.get("/crm/v3/objects/orders", params={"properties": "amount"})).json()
    assert [r["properties"].get("amount") for r in listed["results"]] == ["20", None]


async def test_unique_property_of_a_custom_object(http: httpx.AsyncClient) -> None:
    await define(http)
    first = await create(http, "2-1", order_no="A-1")
    again = await http.post("/crm/v3/objects/2-1", json={"properties": {"order_no": "A-1"}})
    assert again.status_code == 409
    assert again.json()["message"].endswith(f"already exists. Existing ID: {first}")


async def test_custom_record_associates_with_a_contact(http: httpx.AsyncClient) -> None:
    schema = await define(http)
    type_id = int(schema["associations"][0]["id"])
    contact = await create(http, "contacts", email="kim@example.de")
    link = {"to": {"id": contact}, "types": [
        {"associationCategory": "USER_DEFINED", "associationTypeId": type_id}]}  # fmt: skip
    made = await http.post(
        "/crm/v3/objects/2-1", json={"properties": {"order_no": "A-1"}, "associations": [link]}
    )
    assert made.status_code == 201, made.text
    order = made.json()["id"]
    forward = await http.get(f"/crm/v4/objects/p_orders/{order}/associations/contacts")
    assert forward.json()["results"] == [
        {"toObjectId": contact, "associationTypes": [{"category": "USER_DEFINED", "typeId": 1000}]}
    ]
    other = await create(http, "2-1", order_no="A-2")
    put = await http.put(f"/crm/v4/objects/contacts/{contact}/associations/default/2-1/{other}")
    assert put.json()["results"][0]["associationSpec"]["associationTypeId"] == 1001
    back = await http.get(f"/crm/v4/objects/contacts/{contact}/associations/orders")
    assert [r["toObjectId"] for r in back.json()["results"]] == [order, other]


async def test_list_get_and_archive(http: httpx.AsyncClient) -> None:
    await define(http)
    listed = (await http.get(SCHEMAS)).json()["results"]
    assert [s["name"] for s in listed] == ["orders"]
    for ref in ("orders", "2-1", "p_orders", "p62515_orders"):
        assert (await http.get(f"{SCHEMAS}/{ref}")).json()["objectTypeId"] == "2-1"
    assert (await http.get(f"{SCHEMAS}/contacts")).status_code == 404
    oid = await create(http, "2-1", order_no="A-1")
    busy = await http.delete(f"{SCHEMAS}/orders")
    assert (busy.status_code, busy.json()["category"]) == (400, "VALIDATION_ERROR")
    assert (await http.delete(f"/crm/v3/objects/2-1/{oid}")).status_code == 204
    assert (await http.delete(f"{SCHEMAS}/p_orders")).status_code == 204
    assert (await http.get(f"{SCHEMAS}/orders")).status_code == 404
    assert (await http.get(SCHEMAS)).json()["results"] == []
    archived = (await http.get(SCHEMAS, params={"archived": "true"})).json()["results"]
    assert [(s["objectTypeId"], s["archived"]) for s in archived] == [("2-1", True)]
    assert (await http.get("/crm/v3/objects/2-1")).status_code == 400
    assert (await define(http))["objectTypeId"] == "2-2"


async def test_taken_names_are_409(http: httpx.AsyncClient) -> None:
    await define(http)
    for name in ("orders", "ORDERS", "contacts", "deal"):
        response = await http.post(SCHEMAS, json=egg(name))
        assert (response.status_code, response.json()["category"]) == (
            409,
            "OBJECT_ALREADY_EXISTS",
        ), name


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"name": "1st"}, "name is required"),
        ({"labels": {"singular": "Auftrag"}}, "labels.plural"),
        ({"properties": [prop("x", "number", "text")]}, "properties[0]: fieldType 'text'"),
        ({"properties": [prop("x"), prop("x")]}, "properties[1]: a property named 'x'"),
        ({"properties": [prop("Upper")]}, "properties[0]: Property name 'Upper'"),
        ({"requiredProperties": ["nope"]}, "requiredProperties: unknown property 'nope'"),
        ({"primaryDisplayProperty": "nope"}, "primaryDisplayProperty: unknown property"),
        ({"associatedObjects": ["WIDGET"]}, "unknown object type 'WIDGET'"),
    ],
)
async def test_invalid_definitions_are_400(
    http: httpx.AsyncClient, change: dict[str, Any], problem: str
) -> None:
    response = await http.post(SCHEMAS, json={**egg(), **change})
    assert response.status_code == 400
    assert response.json()["category"] == "VALIDATION_ERROR"
    assert problem in response.json()["message"]
    assert (await http.get(SCHEMAS)).json()["results"] == []


async def test_schema_writes_need_the_schema_write_scope() -> None:
    app = create_sandbox(SandboxConfig(rate_limits=False))
    app.include_router(routes_schemas.router)
    app.state.sandbox.tokens.add_private_token("reader", ("crm.schemas.custom.read",))
    async with client(app, "reader") as http:
        assert (await http.get(SCHEMAS)).status_code == 200
        denied = await http.post(SCHEMAS, json=egg())
        assert (denied.status_code, denied.json()["category"]) == (403, "MISSING_SCOPES")


def without_properties(schema: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in schema.items() if k != "properties"}


async def test_types_records_and_links_survive_a_restart(tmp_path: Path) -> None:
    db = str(tmp_path / "portal.db")
    async with portal(db) as first:
        schema = await define(first)
        extra = prop("erp_ref", groupName="orders_information")
        assert (await first.post("/crm/v3/properties/2-1", json=extra)).status_code == 201
        contact = await create(first, "contacts", email="kim@example.de")
        order = await create(first, "p_orders", order_no="A-1", erp_ref="E-7")
        await first.put(f"/crm/v4/objects/2-1/{order}/associations/default/contacts/{contact}")
    async with portal(db) as second:
        kept = (await second.get(f"{SCHEMAS}/orders")).json()
        assert without_properties(kept) == without_properties(schema)
        assert "erp_ref" in {p["name"] for p in kept["properties"]}
        read = await second.get(f"/crm/v3/objects/2-1/{order}?properties=order_no,erp_ref")
        assert read.json()["properties"].items() >= {"order_no": "A-1", "erp_ref": "E-7"}.items()
        again = await second.post("/crm/v3/objects/2-1", json={"properties": {"order_no": "A-1"}})
        assert again.status_code == 409
        links = await second.get(f"/crm/v4/objects/contacts/{contact}/associations/p_orders")
        assert links.json()["results"][0]["associationTypes"][0]["typeId"] == 1001
        more = await define(second, name="returns", associatedObjects=["CONTACT"])
        assert (more["objectTypeId"], more["associations"][0]["id"]) == ("2-2", "1004")
