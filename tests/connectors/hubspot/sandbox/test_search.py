"""Search: operators, sorting, offset paging, filter limits, the 10k cap, lag, archived records."""

from __future__ import annotations

from typing import Any

import pytest

from tests.connectors.hubspot.sandbox.conftest import Sandbox


def where(*filters: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"filterGroups": [{"filters": list(filters)}], **extra}


def f(name: str, operator: str, value: Any = None, **more: Any) -> dict[str, Any]:
    spec = {"propertyName": name, "operator": operator, **more}
    if value is not None:
        spec["value"] = value
    return spec


async def ids(sbx: Sandbox, body: dict[str, Any], object_type: str = "companies") -> list[str]:
    response = await sbx.http.post(f"/crm/v3/objects/{object_type}/search", json=body)
    assert response.status_code == 200, response.text
    return [r["properties"]["name"] for r in response.json()["results"]]


@pytest.fixture
async def companies(sbx: Sandbox) -> Sandbox:
    for name, employees, domain in (
        ("Alpha AG", "10", "alpha.ch"),
        ("Beta GmbH", "200", "beta.de"),
        ("Gamma SA", "9", ""),
    ):
        props = {"name": name, "numberofemployees": employees}
        if domain:
            props["domain"] = domain
        await sbx.create("companies", **props)
        sbx.clock.advance(60)
    return sbx


async def test_comparison_operators_are_numeric_for_numbers(companies: Sandbox) -> None:
    assert await ids(companies, where(f("numberofemployees", "GT", "9"))) == [
        "Alpha AG",
        "Beta GmbH",
    ]
    assert await ids(companies, where(f("numberofemployees", "LTE", "10"))) == [
        "Alpha AG",
        "Gamma SA",
    ]
    assert await ids(companies, where(f("numberofemployees", "BETWEEN", "9", highValue="10"))) == [
        "Alpha AG", "Gamma SA",
    ]  # fmt: skip
    assert await ids(companies, where(f("name", "EQ", "beta gmbh"))) == ["Beta GmbH"]
    assert await ids(companies, where(f("name", "NEQ", "Beta GmbH"))) == ["Alpha AG", "Gamma SA"]


async def test_set_presence_and_token_operators(companies: Sandbox) -> None:
    assert await ids(companies, where(f("numberofemployees", "IN", values=["9", "200"]))) == [
        "Beta GmbH", "Gamma SA",
    ]  # fmt: skip
    assert await ids(companies, where(f("name", "NOT_IN", values=["alpha ag"]))) == [
        "Beta GmbH", "Gamma SA",
    ]  # fmt: skip
    assert await ids(companies, where(f("domain", "HAS_PROPERTY"))) == ["Alpha AG", "Beta GmbH"]
    assert await ids(companies, where(f("domain", "NOT_HAS_PROPERTY"))) == ["Gamma SA"]
    assert await ids(companies, where(f("name", "CONTAINS_TOKEN", "gmbh"))) == ["Beta GmbH"]
    assert await ids(companies, where(f("domain", "CONTAINS_TOKEN", "*.ch"))) == ["Alpha AG"]
    assert await ids(companies, where(f("name", "NOT_CONTAINS_TOKEN", "sa"))) == [
        "Alpha AG", "Beta GmbH",
    ]  # fmt: skip


async def test_groups_are_ored_and_filters_anded(companies: Sandbox) -> None:
    body = {
        "filterGroups": [
            {"filters": [f("name", "EQ", "Alpha AG"), f("numberofemployees", "GT", "100")]},
            {"filters": [f("name", "EQ", "Gamma SA")]},
        ]
    }
    assert await ids(companies, body) == ["Gamma SA"]


async def test_dates_compare_as_instants_from_ms_or_iso(companies: Sandbox) -> None:
    second = "2026-01-01T00:01:00.000Z"
    as_ms = str(1_767_225_600_000 + 60_000)
    for value in (second, as_ms):
        assert await ids(companies, where(f("hs_lastmodifieddate", "GTE", value))) == [
            "Beta GmbH", "Gamma SA",
        ]  # fmt: skip
    assert await ids(companies, where(f("createdate", "LT", as_ms))) == ["Alpha AG"]


async def test_one_sort_is_honoured_both_ways(companies: Sandbox) -> None:
    down = {"sorts": [{"propertyName": "numberofemployees", "direction": "DESCENDING"}]}
    assert await ids(companies, down) == ["Beta GmbH", "Alpha AG", "Gamma SA"]
    up = {"sorts": [{"propertyName": "numberofemployees", "direction": "ASCENDING"}]}
    assert await ids(companies, up) == ["Gamma SA", "Alpha AG", "Beta GmbH"]
    assert await ids(companies, {"sorts": ["-hs_lastmodifieddate"]}) == [
        "Gamma SA", "Beta GmbH", "Alpha AG",
    ]  # fmt: skip


async def test_offset_paging_and_total(companies: Sandbox) -> None:
    first = await companies.http.post(
        "/crm/v3/objects/companies/search", json={"limit": 2, "properties": ["name"]}
    )
    body = first.json()
    assert body["total"] == 3
    assert body["paging"]["next"]["after"] == "2"
    assert set(body["results"][0]["properties"]) == {
        "name", "createdate", "hs_lastmodifieddate", "hs_object_id",
    }  # fmt: skip
    rest = await companies.http.post(
        "/crm/v3/objects/companies/search", json={"limit": 2, "after": "2"}
    )
    assert len(rest.json()["results"]) == 1
    assert "paging" not in rest.json()


async def test_filter_limits_are_enforced(sbx: Sandbox) -> None:
    group = {"filters": [f("name", "HAS_PROPERTY")]}
    too_many_groups = {"filterGroups": [group] * 6}
    too_many_filters = {"filterGroups": [{"filters": [f("name", "HAS_PROPERTY")] * 7}]}
    too_many_total = {"filterGroups": [{"filters": [f("name", "HAS_PROPERTY")] * 5}] * 4}
    for body in (too_many_groups, too_many_filters, too_many_total, {"limit": 201}):
        response = await sbx.http.post("/crm/v3/objects/companies/search", json=body)
        assert response.status_code == 400, body
    unknown = await sbx.http.post(
        "/crm/v3/objects/companies/search", json=where(f("nope", "EQ", "1"))
    )
    assert unknown.status_code == 400


async def test_paging_stops_at_the_result_cap(sbx: Sandbox) -> None:
    sbx.state.config.search_result_cap = 3
    for n in range(5):
        await sbx.create("companies", name=f"C{n}")
    first = await sbx.http.post("/crm/v3/objects/companies/search", json={"limit": 2})
    assert first.json()["total"] == 5
    second = await sbx.http.post(
        "/crm/v3/objects/companies/search", json={"limit": 2, "after": "2"}
    )
    assert len(second.json()["results"]) == 1
    assert "paging" not in second.json()
    past = await sbx.http.post("/crm/v3/objects/companies/search", json={"limit": 2, "after": "3"})
    assert past.status_code == 400


async def test_search_lags_behind_writes(sbx: Sandbox) -> None:
    sbx.state.config.search_lag_seconds = 30
    made = await sbx.create("contacts", email="lag@x.de")
    query = where(f("email", "EQ", "lag@x.de"))
    assert await ids(sbx, query, "contacts") == []
    sbx.clock.advance(31)
    found = await sbx.http.post("/crm/v3/objects/contacts/search", json=query)
    assert [r["id"] for r in found.json()["results"]] == [made["id"]]


async def test_archived_records_never_show_up(sbx: Sandbox) -> None:
    made = await sbx.create("contacts", email="gone@x.de")
    await sbx.http.delete(f"/crm/v3/objects/contacts/{made['id']}")
    response = await sbx.http.post("/crm/v3/objects/contacts/search", json={})
    assert response.json() == {"total": 0, "results": []}


async def test_free_text_query(companies: Sandbox) -> None:
    assert await ids(companies, {"query": "bet"}) == ["Beta GmbH"]
