"""Creating the missing custom properties in the sandbox portal (in-process)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from app.connectors.hubspot.auth import StaticTokenProvider
from app.connectors.hubspot.client import HubSpotClient
from app.connectors.hubspot.paths import ApiPaths
from app.connectors.hubspot.properties import PropertiesApi, PropertyGroup, PropertySpec
from app.connectors.hubspot.sandbox.app import create_sandbox
from app.connectors.hubspot.sandbox.config import SandboxConfig
from app.sync.mapping.hubspot_properties import create_missing_properties
from app.sync.mapping.model import MappingTable
from app.sync.mapping.schema_check import check_against, hubspot_property

TOKEN = "properties-token"
TABLE = MappingTable.model_validate(
    {
        "objects": [
            {
                "name": "companies",
                "source": {"object": "customers", "key": "customer_no"},
                "hubspot": {"object": "companies", "match": "erp_customer_no"},
                "fields": [
                    {"source": "customer_no", "hubspot": "erp_customer_no"},
                    {"source": "name", "hubspot": "name", "transform": "trim"},
                    {"source": "tier", "hubspot": "erp_tier",
                     "transform": {"map": {"A": "gold", "B": "silver"}}},
                    {"source": "revenue", "hubspot": "erp_revenue", "transform": "number"},
                ],
            }
        ]
    }
)  # fmt: skip


@pytest.fixture
async def hubspot() -> AsyncIterator[HubSpotClient]:
    """A client of a fresh sandbox portal, called in-process."""
    sandbox = create_sandbox(SandboxConfig(private_tokens=[TOKEN], rate_limits=False))
    transport = httpx.ASGITransport(app=sandbox)
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox") as http:
        client = HubSpotClient(StaticTokenProvider(TOKEN), http=http, base_url="http://sandbox")
        async with client:
            yield client


@pytest.fixture
def properties(hubspot: HubSpotClient) -> PropertiesApi:
    """The sandbox portal's properties API."""
    return hubspot.properties


async def test_missing_properties_are_created_once(properties: PropertiesApi) -> None:
    created = await create_missing_properties(TABLE, properties)
    assert [p.name for p in created] == ["erp_customer_no", "erp_tier", "erp_revenue"]
    live = {p.name: p for p in await properties.list("companies")}
    assert live["erp_customer_no"].has_unique_value is True
    assert live["erp_customer_no"].group_name == "hubsync"
    assert (live["erp_tier"].type, live["erp_tier"].field_type) == ("enumeration", "select")
    assert sorted(o.value for o in live["erp_tier"].options or ()) == ["gold", "silver"]
    assert live["erp_revenue"].type == "number"
    assert "hubsync" in {g.name for g in await properties.list_groups("companies")}
    assert await create_missing_properties(TABLE, properties) == []


async def test_a_dry_run_creates_nothing(properties: PropertiesApi) -> None:
    planned = await create_missing_properties(TABLE, properties, dry_run=True)
    assert [p.name for p in planned] == ["erp_customer_no", "erp_tier", "erp_revenue"]
    names = {p.name for p in await properties.list("companies")}
    assert not names & {"erp_customer_no", "erp_tier", "erp_revenue"}
    assert "hubsync" not in {g.name for g in await properties.list_groups("companies")}


async def test_afterwards_the_table_has_no_hubspot_problems(properties: PropertiesApi) -> None:
    def problems() -> list[str]:
        hubspot = {"companies": [hubspot_property(d) for d in live]}
        found = check_against(TABLE, source_objects=None, hubspot_properties=hubspot)
        return [p.message for p in found]

    live = await properties.list("companies")
    assert any("no property 'erp_customer_no'" in m for m in problems())
    await create_missing_properties(TABLE, properties)
    live = await properties.list("companies")
    assert problems() == []


async def test_a_property_created_meanwhile_counts_as_done(hubspot: HubSpotClient) -> None:
    class Racing(PropertiesApi):
        """Another process creates erp_tier just after the properties were read."""

        async def list_groups(self, object_type: str) -> list[PropertyGroup]:
            groups = await super().list_groups(object_type)
            spec = PropertySpec(name="erp_tier", label="Tier", type="string",
                                field_type="text", group_name="companyinformation")  # fmt: skip
            await super().create(object_type, spec)
            return groups

    racing = Racing(hubspot.transport, ApiPaths())
    created = await create_missing_properties(TABLE, racing)
    assert "erp_tier" in [p.name for p in created]
    names = {p.name for p in await hubspot.properties.list("companies")}
    assert {"erp_customer_no", "erp_tier", "erp_revenue"} <= names
