"""End to end: a PostgreSQL "ERP" ↔ the sandbox portal over loopback HTTP, both directions.

Companies flow both ways (matched on the unique custom ``erp_id``), contacts to
HubSpot (matched on e-mail) with their company association. ERP rows are
stamped a day in the past unless a test says otherwise, so HubSpot's edits
(stamped with wall time) are the newer side.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import URL, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.tenancy import TenantScope
from app.models.enums import RunStatus
from app.sync.engine.repository import ItemRepository
from app.sync.engine.state import RunHooks, Selection
from app.web import WebState
from tests.connectors.conformance.harness_sql import server_database
from tests.factories import World
from tests.sync.engine.pg_kit import (
    PgErp,
    PgRunner,
    companies_by_erp_id,
    contact_companies,
    create_schema,
    live_portal,
    mapping,
    rest,
)
from tests.sync.engine.runner_kit import Portal

WORKS_AT = {"ann@acme.example": ["C1"], "bob@acme.example": ["C1"], "cy@globex.example": ["C2"]}


@pytest.fixture(scope="module")
def pg_url() -> Iterator[URL]:
    """An ERP database of the module's own on the local PostgreSQL server."""
    with server_database("postgresql") as url:
        yield url


@pytest.fixture
def pg_erp(pg_url: URL) -> Iterator[PgErp]:
    """The ERP database with its tables created afresh."""
    erp = PgErp(pg_url)
    try:
        yield erp
    finally:
        erp.engine.dispose()


@pytest.fixture
async def live() -> AsyncIterator[Portal]:
    """A fresh sandbox portal served over loopback."""
    async with live_portal() as portal:
        yield portal


@pytest.fixture
async def e2e(
    pg_erp: PgErp, live: Portal, world: World, db: AsyncSession, web: WebState
) -> PgRunner:
    """Tenant A's interface between the PostgreSQL ERP and the live portal, the ERP seeded."""
    await db.commit()
    await create_schema(pg_erp)
    pg_erp.put("companies", id="C1", name=" Acme ", domain="acme.example", employees="12")
    pg_erp.put("companies", id="C2", name="Globex", domain="globex.example", employees="40")
    for email, (company,) in WORKS_AT.items():
        pg_erp.put("contacts", id=email[:3], email=email.title(), first_name=email[:3],
                   company_id=company)  # fmt: skip
    return PgRunner(pg_erp, live, web.session_factory, world.a.tenant.id, world.a.interface.id)


async def synced(runner: PgRunner, rule: str = "newest", **companies: Any) -> None:
    """The seeded ERP synced once under ``rule``."""
    runner.mapping = mapping(rule, **companies)
    first = await runner.run()
    assert first.status == RunStatus.succeeded, first.error_summary


async def rename_in_hubspot(runner: PgRunner, erp_id: str, name: str) -> None:
    """PATCH one company's name through the sandbox's public API, as a user would."""
    record = (await companies_by_erp_id(runner.portal))[erp_id]
    path = f"/crm/v3/objects/companies/{record.id}"
    await rest(runner.portal, "PATCH", path, json={"properties": {"name": name}})


async def items(runner: PgRunner, run_id: Any) -> list[Any]:
    """The items of one run."""
    async with runner.sessions() as session:
        repo = ItemRepository.scoped(session, TenantScope.only(runner.tenant_id))
        return list(await repo.for_run(run_id))


async def hubspot_names(runner: PgRunner) -> dict[str, Any]:
    """HubSpot's company names by ``erp_id``."""
    return {k: r.properties["name"] for k, r in (await companies_by_erp_id(runner.portal)).items()}


async def test_the_initial_sync_creates_records_and_associations(e2e: PgRunner) -> None:
    e2e.mapping = mapping()
    run = await e2e.run()
    assert run.status == RunStatus.succeeded, run.error_summary
    assert run.counts["companies"]["created"] == 2
    assert run.counts["contacts"]["created"] == 3
    companies = await companies_by_erp_id(e2e.portal)
    assert {k: r.properties["name"] for k, r in companies.items()} == {"C1": "Acme", "C2": "Globex"}
    assert companies["C2"].properties["numberofemployees"] == "40"
    assert await contact_companies(e2e.portal) == WORKS_AT
    assert len(e2e.erp.rows("companies")) == 2  # the HubSpot pass wrote nothing back
    again = await e2e.run()
    assert again.status == RunStatus.succeeded
    assert e2e.portal.transport.writes() == 0
    assert await items(e2e, again.id) == []


async def test_erp_changes_flow_to_hubspot(e2e: PgRunner) -> None:
    await synced(e2e)
    e2e.erp.put("companies", id="C2", name="Globex Corp")
    e2e.erp.put("contacts", id="dee", email="dee@globex.example", company_id="C2")
    run = await e2e.run()
    assert run.status == RunStatus.succeeded, run.error_summary
    assert run.counts["companies"]["updated"] == 1
    assert run.counts["contacts"]["created"] == 1
    assert await hubspot_names(e2e) == {"C1": "Acme", "C2": "Globex Corp"}
    assert await contact_companies(e2e.portal) == {**WORKS_AT, "dee@globex.example": ["C2"]}
    assert e2e.erp.row("companies", "C2")["name"] == "Globex Corp"


async def test_a_contact_moved_to_another_company_is_reassociated(e2e: PgRunner) -> None:
    await synced(e2e)
    e2e.erp.put("contacts", id="cy@", company_id="C1")
    run = await e2e.run()
    assert run.status == RunStatus.succeeded, run.error_summary
    assert await contact_companies(e2e.portal) == {**WORKS_AT, "cy@globex.example": ["C1"]}
    assert run.counts["contacts"]["updated"] == 1
    quiet = await e2e.run()  # the move is remembered: nothing left to do
    assert e2e.portal.transport.writes() == 0
    assert quiet.counts["contacts"]["updated"] == 0


async def test_a_cleared_company_reference_removes_the_association(e2e: PgRunner) -> None:
    await synced(e2e)
    e2e.erp.put("contacts", id="cy@", company_id=None)
    run = await e2e.run()
    assert run.status == RunStatus.succeeded, run.error_summary
    linked = await contact_companies(e2e.portal)
    assert linked.get("cy@globex.example", []) == []
    assert {k: v for k, v in linked.items() if v} == {
        k: v for k, v in WORKS_AT.items() if k != "cy@globex.example"
    }


async def test_a_hubspot_change_flows_to_the_erp_row(e2e: PgRunner) -> None:
    await synced(e2e)
    await rename_in_hubspot(e2e, "C2", "Globex International")
    run = await e2e.run()
    assert run.status == RunStatus.succeeded, run.error_summary
    assert e2e.erp.row("companies", "C2")["name"] == "Globex International"
    assert [r["id"] for r in e2e.erp.rows("companies")] == ["C1", "C2"]
    assert len(await companies_by_erp_id(e2e.portal)) == 2
    quiet = await e2e.run()  # hubsync's own write to the ERP is not sent back
    assert e2e.portal.transport.writes() == 0
    assert quiet.counts["companies"]["updated"] == 0


CONFLICTS = {  # rule, whether the ERP's edit is the newer one → the winning side
    "newest-erp-newer": ("newest", True, "source"),
    "newest-hubspot-newer": ("newest", False, "hubspot"),
    "source": ("source", False, "source"),
    "hubspot": ("hubspot", True, "hubspot"),
}


@pytest.mark.parametrize("case", list(CONFLICTS))
async def test_a_conflict_is_decided_by_the_rule(e2e: PgRunner, case: str) -> None:
    rule, erp_newer, winner = CONFLICTS[case]
    await synced(e2e, rule)
    await rename_in_hubspot(e2e, "C1", "Acme (HubSpot)")
    at = datetime.now(UTC) + timedelta(hours=1) if erp_newer else None
    e2e.erp.put("companies", id="C1", name="Acme (ERP)", at=at)
    run = await e2e.run()
    assert run.status == RunStatus.succeeded, run.error_summary
    expected = "Acme (ERP)" if winner == "source" else "Acme (HubSpot)"
    assert e2e.erp.row("companies", "C1")["name"] == expected
    assert (await hubspot_names(e2e))["C1"] == expected
    conflicts = [
        c for i in await items(e2e, run.id) for c in (i.payload or {}).get("conflicts", [])
    ]
    assert conflicts
    seen = {(c["field"], c["source_value"], c["hubspot_value"], c["rule"], c["winner"])
            for c in conflicts}  # fmt: skip
    assert seen == {("name", "Acme (ERP)", "Acme (HubSpot)", rule, winner)}
    quiet = await e2e.run()
    assert e2e.portal.transport.writes() == 0
    assert quiet.status == RunStatus.succeeded


async def test_an_erp_soft_delete_archives_under_the_archive_policy(e2e: PgRunner) -> None:
    await synced(e2e, on_delete={"source_deleted": "archive"})
    e2e.erp.remove("companies", "C2")
    run = await e2e.run()
    assert run.status == RunStatus.succeeded, run.error_summary
    assert run.counts["companies"]["deleted"] == 1
    assert set(await companies_by_erp_id(e2e.portal)) == {"C1"}
    archived = await companies_by_erp_id_archived(e2e.portal)
    assert set(archived) == {"C2"}
    assert e2e.erp.row("companies", "C2")["deleted_at"] is not None
    assert (await e2e.run()).status == RunStatus.succeeded
    assert e2e.portal.transport.writes() == 0


async def test_an_erp_soft_delete_is_ignored_under_the_ignore_policy(e2e: PgRunner) -> None:
    await synced(e2e)
    e2e.erp.remove("companies", "C2")
    run = await e2e.run()
    assert run.status == RunStatus.succeeded, run.error_summary
    assert run.counts["companies"]["skipped"] == 1
    assert await hubspot_names(e2e) == {"C1": "Acme", "C2": "Globex"}
    assert e2e.portal.transport.writes() == 0


async def archive_in_hubspot(runner: PgRunner, erp_id: str) -> None:
    """Archive one company through the sandbox's public API, as a user would."""
    record = (await companies_by_erp_id(runner.portal))[erp_id]
    await rest(runner.portal, "DELETE", f"/crm/v3/objects/companies/{record.id}")


async def test_a_hubspot_archival_deletes_the_erp_row_under_the_archive_policy(
    e2e: PgRunner,
) -> None:
    await synced(e2e, on_delete={"hubspot_deleted": "archive"})
    await archive_in_hubspot(e2e, "C2")
    run = await e2e.run()
    failed = [i.error_message for i in await items(e2e, run.id) if i.error_message]
    assert run.status == RunStatus.succeeded, failed
    assert run.counts["companies"]["deleted"] == 1
    assert e2e.erp.row("companies", "C2")["deleted_at"] is not None
    assert e2e.erp.row("companies", "C1")["deleted_at"] is None
    quiet = await e2e.run()  # the archival is behind the watermark and the link forgotten
    assert quiet.status == RunStatus.succeeded, quiet.error_summary
    assert quiet.counts["companies"]["deleted"] == 0
    assert e2e.portal.transport.writes() == 0


async def test_a_hubspot_archival_is_not_looked_for_under_the_ignore_policy(
    e2e: PgRunner,
) -> None:
    await synced(e2e)
    await archive_in_hubspot(e2e, "C2")
    run = await e2e.run()
    assert run.status == RunStatus.succeeded, run.error_summary
    assert e2e.erp.row("companies", "C2")["deleted_at"] is None
    assert not [c for c in e2e.portal.transport.calls if "archived" in c]


async def companies_by_erp_id_archived(portal: Portal) -> dict[str, Any]:
    """HubSpot's archived companies by ``erp_id``."""
    found = await rest(
        portal,
        "GET",
        "/crm/v3/objects/companies",
        params={"archived": "true", "properties": "erp_id"},
    )
    return {r["properties"]["erp_id"]: r for r in found["results"]}


async def test_a_write_the_erp_refused_is_retried_on_the_next_run(e2e: PgRunner) -> None:
    await synced(e2e)
    with e2e.erp.engine.begin() as connection:
        connection.execute(
            text("ALTER TABLE companies ADD CONSTRAINT short CHECK (length(name) < 20)")
        )
    await rename_in_hubspot(e2e, "C2", "Globex International Holdings")
    refused = await e2e.run()
    assert refused.status == RunStatus.warning
    (failed,) = [i for i in await items(e2e, refused.id) if i.error_message]
    assert (failed.source_key, failed.direction) == ("C2", "from_hubspot")
    with e2e.erp.engine.begin() as connection:
        connection.execute(text("ALTER TABLE companies DROP CONSTRAINT short"))
    retried = await e2e.run()  # HubSpot did not change again: only the retry brings it
    assert retried.status == RunStatus.succeeded, retried.error_summary
    assert e2e.erp.row("companies", "C2")["name"] == "Globex International Holdings"
    statuses = {i.status for i in await items(e2e, refused.id) if i.error_message}
    assert statuses == {"resolved"}


async def test_a_targeted_run_applies_just_the_named_hubspot_records(e2e: PgRunner) -> None:
    await synced(e2e, on_delete={"hubspot_deleted": "archive"})
    companies = await companies_by_erp_id(e2e.portal)
    await rename_in_hubspot(e2e, "C1", "Acme Renamed")
    await rename_in_hubspot(e2e, "C2", "Globex Renamed")
    await archive_in_hubspot(e2e, "C2")
    chosen = Selection(hubspot_ids={"companies": frozenset({companies["C2"].id})})
    run = await e2e.run(RunHooks(only=chosen))  # as a webhook names C2: deleted in HubSpot
    assert run.status == RunStatus.succeeded, run.error_summary
    assert run.counts["companies"]["deleted"] == 1
    assert e2e.erp.row("companies", "C2")["deleted_at"] is not None
    assert e2e.erp.row("companies", "C1")["name"].strip() == "Acme"  # not named: left for later
    assert run.cursors_after == run.cursors_before
    chosen = Selection(hubspot_ids={"companies": frozenset({companies["C1"].id})})
    renamed = await e2e.run(RunHooks(only=chosen))
    assert renamed.counts["companies"]["updated"] == 1
    assert e2e.erp.row("companies", "C1")["name"] == "Acme Renamed"
