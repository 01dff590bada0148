"""Every exchange of a broad scenario conforms to HubSpot's OpenAPI specs (openapi-core)."""

from __future__ import annotations

import uuid

import httpx

from app.connectors.hubspot.sandbox.app import create_sandbox
from app.connectors.hubspot.sandbox.config import SandboxConfig
from tests.connectors.hubspot.sandbox.conftest import TOKEN
from tests.hubspot_spec import RecordingTransport

P = "/crm/v3/objects"
# openapi-core cannot check these, whatever the server sends: HubSpot's specs give 204s an
# empty ``content`` map (so it demands a body) and type error bodies as ``*/*`` (so it never
# parses them as JSON). Error bodies are checked against the ``Error`` schema by hand below.
ERROR_REQUIRED = {"category", "correlationId", "message"}
SPEC_279 = {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 279}


def checkable(problem: str) -> bool:
    """Whether openapi-core's complaint is about the server rather than its own limits."""
    if problem.startswith("response 204"):
        return "Missing response data" not in problem
    return not (problem.startswith("response 4") and "' is not of type 'object'" in problem)


def create(**properties: str) -> dict[str, object]:
    """A ``SimplePublicObjectInputForCreate`` body."""
    return {"properties": properties, "associations": []}


async def scenario(http: httpx.AsyncClient) -> None:
    """Successes, 207s and errors on most endpoints the sandbox answers."""
    await http.post("/crm/v3/properties/companies/groups", json={"name": "erp", "label": "ERP"})
    await http.post("/crm/v3/properties/companies", json={
        "name": "erp_id", "label": "ERP id", "type": "string", "fieldType": "text",
        "groupName": "erp", "hasUniqueValue": True})  # fmt: skip
    await http.get("/crm/v3/properties/companies")
    await http.get("/crm/v3/properties/companies/erp_id")
    await http.get("/crm/v3/properties/companies/groups")
    contact = (await http.post(f"{P}/contacts", json=create(email="s@x.de"))).json()
    await http.post(f"{P}/contacts", json=create(email="s@x.de"))
    await http.post(f"{P}/contacts", json=create(nope="1"))
    upsert = {"inputs": [{"id": f"C{n}", "idProperty": "erp_id", "properties": {"name": f"N{n}"},
                          "objectWriteTraceId": f"t{n}"} for n in range(3)]}  # fmt: skip
    companies = (await http.post(f"{P}/companies/batch/upsert", json=upsert)).json()["results"]
    await http.post(f"{P}/companies/batch/create", json={"inputs": [
        {**create(name="X"), "objectWriteTraceId": "a"},
        {**create(bad="1"), "objectWriteTraceId": "b"}]})  # fmt: skip
    await http.post(f"{P}/companies/batch/update", json={"inputs": [
        {"id": companies[0]["id"], "properties": {"city": "Bern"}}]})  # fmt: skip
    await http.post(f"{P}/companies/batch/read", json={
        "inputs": [{"id": companies[0]["id"]}, {"id": "1"}], "properties": ["name"],
        "propertiesWithHistory": []})  # fmt: skip
    await http.get(f"{P}/companies", params={"limit": "2", "associations": "contacts"})
    await http.patch(f"{P}/contacts/{contact['id']}", json={"properties": {"firstname": "S"}})
    await http.post(f"{P}/contacts/search", json={
        "filterGroups": [
            {"filters": [{"propertyName": "email", "operator": "EQ", "value": "s@x.de"}]}],
        "sorts": [{"propertyName": "createdate", "direction": "DESCENDING"}],
        "properties": ["email"], "limit": 1, "after": "0"})  # fmt: skip
    pair = {"from": {"id": contact["id"]}, "to": {"id": companies[0]["id"]}}
    await http.post(
        "/crm/v4/associations/contacts/companies/batch/associate/default", json={"inputs": [pair]}
    )
    await http.post(
        "/crm/v4/associations/contacts/companies/batch/create",
        json={"inputs": [{**pair, "types": [SPEC_279]}]},
    )
    await http.post(
        "/crm/v4/associations/companies/contacts/batch/read",
        json={"inputs": [{"id": companies[0]["id"]}, {"id": companies[1]["id"]}]},
    )
    await http.get(f"/crm/v4/objects/contacts/{contact['id']}/associations/companies")
    await http.get(f"{P}/contacts/{contact['id']}", params={"associations": "companies"})
    await http.delete(f"{P}/contacts/{contact['id']}")
    await http.get(f"{P}/contacts/{contact['id']}", params={"archived": "true"})
    await http.get(f"{P}/contacts/{contact['id']}")
    await http.post(f"{P}/companies/batch/archive", json={"inputs": [{"id": companies[2]["id"]}]})
    await http.post(f"{P}/contacts/gdpr-delete", json={"objectId": contact["id"]})


async def test_sandbox_answers_match_the_openapi_specs() -> None:
    app = create_sandbox(SandboxConfig(private_tokens=[TOKEN], rate_limits=False))
    recorder = RecordingTransport(httpx.ASGITransport(app=app))
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with httpx.AsyncClient(
        transport=recorder, base_url="https://api.hubapi.com", headers=headers
    ) as http:
        await scenario(http)
    problems = [p for p in recorder.problems() if checkable(p)]
    assert problems == []
    assert len(recorder.covered()) >= 20
    errors = [response for _, response in recorder.exchanges if response.status_code >= 400]
    assert {r.status_code for r in errors} == {400, 404, 409}
    for response in errors:
        body = response.json()
        assert body.keys() >= ERROR_REQUIRED, body
        assert uuid.UUID(body["correlationId"]).version == 4
