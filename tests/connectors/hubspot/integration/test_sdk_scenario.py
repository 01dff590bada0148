"""HubSpot's own Python SDK works against the sandbox over real HTTP, errors included.

If the sandbox answered with shapes HubSpot does not use, the SDK's strict
deserialisation would fail here.
"""

from __future__ import annotations

import asyncio
import uuid

import pytest
from hubspot import HubSpot
from hubspot.crm.associations.v4 import (
    BatchInputPublicDefaultAssociationMultiPost,
    PublicDefaultAssociationMultiPost,
    PublicObjectId,
)
from hubspot.crm.companies import (
    BatchInputSimplePublicObjectBatchInputUpsert,
    SimplePublicObjectBatchInputUpsert,
)
from hubspot.crm.contacts import ApiException, PublicObjectSearchRequest
from hubspot.crm.contacts import SimplePublicObjectInputForCreate as ContactInput
from hubspot.crm.properties import PropertyCreate

from tests.connectors.hubspot.integration.conftest import SANDBOX_TOKEN, LiveSandbox


def sdk(sandbox: LiveSandbox) -> HubSpot:
    """HubSpot's SDK pointed at the sandbox instead of api.hubapi.com."""
    return HubSpot(access_token=SANDBOX_TOKEN, host=sandbox.base_url)


def create_erp_property(client: HubSpot) -> str:
    name = f"erp_id_{uuid.uuid4().hex[:8]}"
    client.crm.properties.core_api.create(
        object_type="companies",
        property_create=PropertyCreate(
            name=name,
            label="ERP id",
            type="string",
            field_type="text",
            group_name="companyinformation",
            has_unique_value=True,
        ),
    )
    return name


def scenario(client: HubSpot) -> dict[str, object]:
    """Create, batch upsert, search, read, associate, archive — as an integrator would."""
    erp_id = create_erp_property(client)
    email = f"anna.muster.{uuid.uuid4().hex[:6]}@example.ch"
    contact = client.crm.contacts.basic_api.create(
        simple_public_object_input_for_create=ContactInput(
            properties={"email": email, "firstname": "Anna", "lastname": "Muster"}
        )
    )
    upsert = BatchInputSimplePublicObjectBatchInputUpsert(
        inputs=[
            SimplePublicObjectBatchInputUpsert(
                id=f"C-{n}",
                id_property=erp_id,
                properties={"name": f"Firma {n} AG", erp_id: f"C-{n}"},
            )
            for n in range(3)
        ]
    )
    first = client.crm.companies.batch_api.upsert(upsert)
    second = client.crm.companies.batch_api.upsert(upsert)
    found = client.crm.contacts.search_api.do_search(
        public_object_search_request=PublicObjectSearchRequest(
            filter_groups=[
                {"filters": [{"propertyName": "email", "operator": "EQ", "value": email}]}
            ],
            properties=["email", "firstname"],
        )
    )
    read = client.crm.contacts.basic_api.get_by_id(contact.id, properties=["email", "lastname"])
    company_id = first.results[0].id
    client.crm.associations.v4.batch_api.create_default(
        from_object_type="contacts",
        to_object_type="companies",
        batch_input_public_default_association_multi_post=BatchInputPublicDefaultAssociationMultiPost(
            inputs=[
                PublicDefaultAssociationMultiPost(
                    _from=PublicObjectId(id=contact.id), to=PublicObjectId(id=company_id)
                )
            ]
        ),
    )
    associated = client.crm.associations.v4.basic_api.get_page(
        object_type="contacts", object_id=contact.id, to_object_type="companies"
    )
    client.crm.contacts.basic_api.archive(contact.id)
    return {
        "contact": contact,
        "email": email,
        "first": first,
        "second": second,
        "found": found,
        "read": read,
        "associated": associated,
        "company_id": company_id,
    }


async def test_sdk_scenario_against_the_sandbox(live_sandbox: LiveSandbox) -> None:
    client = sdk(live_sandbox)
    result = await asyncio.to_thread(scenario, client)
    contact = result["contact"]
    assert contact.properties["email"] == result["email"]  # type: ignore[attr-defined]
    assert {r.new for r in result["first"].results} == {True}  # type: ignore[attr-defined]
    assert {r.new for r in result["second"].results} == {False}  # type: ignore[attr-defined]
    assert [r.id for r in result["found"].results] == [contact.id]  # type: ignore[attr-defined]
    assert result["read"].properties["lastname"] == "Muster"  # type: ignore[attr-defined]
    targets = [str(r.to_object_id) for r in result["associated"].results]  # type: ignore[attr-defined]
    assert targets == [result["company_id"]]
    with pytest.raises(ApiException) as archived:
        await asyncio.to_thread(client.crm.contacts.basic_api.get_by_id, contact.id)  # type: ignore[attr-defined]
    assert archived.value.status == 404


async def test_sdk_sees_hubspot_shaped_errors(live_sandbox: LiveSandbox) -> None:
    client = sdk(live_sandbox)
    email = f"dup.{uuid.uuid4().hex[:6]}@example.ch"
    create = ContactInput(properties={"email": email})
    await asyncio.to_thread(client.crm.contacts.basic_api.create, create)
    with pytest.raises(ApiException) as duplicate:
        await asyncio.to_thread(client.crm.contacts.basic_api.create, create)
    assert duplicate.value.status == 409
    assert "Contact already exists" in str(duplicate.value.body)
    bad = ContactInput(properties={"no_such_property": "x"})
    with pytest.raises(ApiException) as invalid:
        await asyncio.to_thread(client.crm.contacts.basic_api.create, bad)
    assert invalid.value.status == 400
    assert "VALIDATION_ERROR" in str(invalid.value.body)
    unauthorised = HubSpot(access_token="wrong", host=live_sandbox.base_url)
    with pytest.raises(ApiException) as denied:
        await asyncio.to_thread(unauthorised.crm.contacts.basic_api.get_page)
    assert denied.value.status == 401
