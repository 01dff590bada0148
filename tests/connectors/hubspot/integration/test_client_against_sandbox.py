"""hubsync's client against the sandbox: spec-conformant requests, nothing lost under faults."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import httpx
import pytest

from app.connectors.hubspot.associations import AssociationInput
from app.connectors.hubspot.auth import StaticTokenProvider
from app.connectors.hubspot.client import HubSpotClient
from app.connectors.hubspot.limiter import LimitConfig, PortalLimiter
from app.connectors.hubspot.objects import RecordInput
from app.connectors.hubspot.properties import PropertyGroup, PropertyOption, PropertySpec
from app.connectors.hubspot.retry import RetryPolicy
from app.connectors.hubspot.sandbox.app import create_sandbox
from app.connectors.hubspot.sandbox.config import SandboxConfig
from app.connectors.hubspot.search import Filter, SearchRequest
from tests.connectors.hubspot.integration.conftest import SANDBOX_TOKEN, LiveSandbox
from tests.hubspot_spec import RecordingTransport

FAST_RETRIES = RetryPolicy(max_attempts=10, base_s=0.01, cap_s=0.05, window_s=0.05)
NO_CLIENT_LIMITS = LimitConfig(burst=100_000, window_s=1, search_per_second=1_000)
FAULTS = {
    "error_rate": 0.15,
    "rate_limit_burst": 3,
    "latency_ms": 2,
    "drop_rate": 0.05,
    "record_failure_rate": 0.02,
    "seed": 7,
}


def client_for(base_url: str, http: httpx.AsyncClient | None = None) -> HubSpotClient:
    """A client with quick retries and no client-side limits (the sandbox's own apply)."""
    return HubSpotClient(
        StaticTokenProvider(SANDBOX_TOKEN),
        http=http,
        base_url=base_url,
        retry=FAST_RETRIES,
        limiter=PortalLimiter(NO_CLIENT_LIMITS),
    )


@pytest.fixture
async def recorded() -> AsyncIterator[tuple[HubSpotClient, RecordingTransport]]:
    """A client talking in-process to a fresh sandbox, every exchange recorded."""
    app = create_sandbox(SandboxConfig(private_tokens=[SANDBOX_TOKEN], rate_limits=False))
    recorder = RecordingTransport(httpx.ASGITransport(app=app))
    http = httpx.AsyncClient(transport=recorder, base_url="http://sandbox")
    yield client_for("http://sandbox", http), recorder
    await http.aclose()


async def run_scenario(client: HubSpotClient) -> None:
    """Every kind of call the sync engine makes, once."""
    await client.properties.create_group("companies", PropertyGroup(name="erp_sync", label="ERP"))
    await client.properties.create(
        "companies",
        PropertySpec(
            name="erp_id",
            label="ERP id",
            type="string",
            field_type="text",
            group_name="erp_sync",
            has_unique_value=True,
        ),
    )
    await client.properties.create(
        "companies",
        PropertySpec(
            name="erp_status",
            label="Status",
            type="enumeration",
            field_type="select",
            group_name="erp_sync",
            options=[PropertyOption(label="Offen", value="open")],
        ),
    )
    assert any(p.name == "erp_id" for p in await client.properties.list("companies"))
    companies = await client.objects.batch_upsert(
        "companies",
        [
            RecordInput(
                id=f"C-{n}",
                id_property="erp_id",
                properties={"erp_id": f"C-{n}", "name": f"Firma {n}", "erp_status": "open"},
            )
            for n in range(3)
        ],
    )
    contacts = await client.objects.batch_create(
        "contacts",
        [
            RecordInput(properties={"email": f"p{n}@example.ch", "firstname": f"P{n}"})
            for n in range(3)
        ],
    )
    assert companies.ok
    assert contacts.ok
    contact_ids = [s.result.id for s in contacts.succeeded]
    company_ids = [s.result.id for s in companies.succeeded]
    await client.objects.batch_update(
        "contacts", [RecordInput(id=i, properties={"lastname": "Muster"}) for i in contact_ids]
    )
    read = await client.objects.batch_read("contacts", contact_ids, properties=["lastname"])
    assert {s.result.properties.get("lastname") for s in read.succeeded} == {"Muster"}
    page = await client.search.page(
        "contacts",
        SearchRequest(filter_groups=[[Filter("lastname", "EQ", "Muster")]], properties=["email"]),
    )
    assert page.total == 3
    modified = [o async for o in client.search.iter_modified_since("companies", 0)]
    assert len(modified) == 3
    links = await client.associations.create_default(
        "contacts", "companies", [AssociationInput(contact_ids[0], company_ids[0])]
    )
    assert links.ok
    associated = await client.associations.read("contacts", "companies", [contact_ids[0]])
    assert [a.to_object_id for a in associated.succeeded[0].result] == [company_ids[0]]
    await client.associations.remove(
        "contacts", "companies", [AssociationInput(contact_ids[0], company_ids[0])]
    )
    gone = await client.associations.read("contacts", "companies", [contact_ids[0]])
    assert not any(s.result for s in gone.succeeded)
    assert (await client.objects.get("contacts", contact_ids[1])).id == contact_ids[1]
    assert [p async for p in client.objects.iter_pages("contacts", limit=2)]
    await client.objects.batch_archive("contacts", [contact_ids[2]])
    await client.objects.gdpr_delete(contact_ids[1])


async def test_client_requests_and_sandbox_answers_follow_the_specs(
    recorded: tuple[HubSpotClient, RecordingTransport],
) -> None:
    client, recorder = recorded
    await run_scenario(client)
    assert recorder.problems() == []
    covered = recorder.covered()
    assert len(covered) >= 12, covered


async def upsert_until_done(client: HubSpotClient, inputs: list[RecordInput]) -> int:
    """Upsert, then re-send only the records reported failed, as the sync engine will."""
    passes = 0
    pending = inputs
    while pending and passes < 6:
        passes += 1
        result = await client.objects.batch_upsert("contacts", pending)
        pending = [f.input for f in result.failed]
    assert not pending, f"{len(pending)} records still failing after {passes} passes"
    return passes


async def test_no_record_lost_or_doubled_under_faults(live_sandbox: LiveSandbox) -> None:
    admin = {"Authorization": f"Bearer {SANDBOX_TOKEN}"}
    run = uuid.uuid4().hex[:6]
    inputs = [
        RecordInput(
            id=f"f{run}-{n}@example.ch",
            id_property="email",
            properties={"email": f"f{run}-{n}@example.ch", "firstname": f"N{n}"},
        )
        for n in range(1_500)
    ]
    async with httpx.AsyncClient(base_url=live_sandbox.base_url, headers=admin) as control:
        assert (await control.put("/_sandbox/faults", json=FAULTS)).status_code == 200
        try:
            async with client_for(live_sandbox.base_url) as client:
                passes = await upsert_until_done(client, inputs)
        finally:
            await control.put(
                "/_sandbox/faults",
                json={
                    "error_rate": 0,
                    "rate_limit_burst": 0,
                    "latency_ms": 0,
                    "drop_rate": 0,
                    "record_failure_rate": 0,
                },
            )
        stats = (await control.get("/_sandbox/stats")).json()
    assert stats["injected_errors"] > 0
    assert stats["dropped"] > 0
    assert stats["rate_limited"] > 0
    assert passes >= 2  # some records failed on purpose and were sent again
    async with client_for(live_sandbox.base_url) as client:
        stored = [
            o
            async for p in client.objects.iter_pages("contacts", properties=["email", "firstname"])
            for o in p.results
            if (o.properties.get("email") or "").startswith(f"f{run}-")
        ]
    emails = [o.properties["email"] for o in stored]
    assert len(emails) == len(set(emails)) == len(inputs)
    assert {o.properties["email"]: o.properties["firstname"] for o in stored} == {
        i.properties["email"]: i.properties["firstname"] for i in inputs
    }
