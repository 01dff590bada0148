"""``from_hubspot`` and ``both`` runs: HubSpot's changes reach the ERP; conflicts obey the rule."""

from __future__ import annotations

from typing import Any

from app.connectors.hubspot.objects import RecordInput
from app.core.tenancy import TenantScope
from app.models.enums import ItemStatus, RunStatus, SyncDirection
from app.sync.engine.repository import ItemRepository
from app.sync.mapping.model import MappingTable
from tests.sync.engine.runner_kit import Runner, table


def both(rule: str = "newest") -> MappingTable:
    """The kit's table with companies flowing both ways under ``rule``."""
    return table(direction="both", conflict=rule)


async def synced(runner: Runner, rule: str = "newest") -> None:
    """Two companies synced once under a ``both`` mapping."""
    runner.mapping = both(rule)
    runner.erp.put("companies", id="C1", name="Acme", domain="acme.example", employees="12")
    runner.erp.put("companies", id="C2", name="Globex", domain="globex.example", employees="40")
    first = await runner.run()
    assert first.status == RunStatus.succeeded, first.error_summary


async def edit_in_hubspot(runner: Runner, erp_id: str, **properties: str) -> None:
    """Change one company in HubSpot as a user would."""
    record = RecordInput(properties, id=erp_id, id_property="erp_id")
    result = await runner.portal.client.objects.batch_update("companies", [record])
    assert result.ok


async def items(runner: Runner, run_id: Any) -> list[Any]:
    """The items of one run."""
    async with runner.sessions() as session:
        repo = ItemRepository.scoped(session, TenantScope.only(runner.tenant_id))
        return list(await repo.for_run(run_id))


async def test_the_initial_both_run_writes_nothing_back_to_the_source(runner: Runner) -> None:
    await synced(runner)
    again = await runner.run()
    assert runner.portal.transport.writes() == 0
    assert again.counts["companies"]["updated"] == 0
    assert [i for i in await items(runner, again.id) if i.object_name == "companies"] == []


async def test_a_change_in_hubspot_flows_to_the_source(runner: Runner) -> None:
    await synced(runner)
    await edit_in_hubspot(runner, "C2", name="Globex International")
    run = await runner.run()
    assert run.status == RunStatus.succeeded, [
        (i.error_message, i.payload) for i in await items(runner, run.id)
    ]
    assert runner.erp.row("companies", "C2")["name"] == "Globex International"
    changed = [i for i in await items(runner, run.id) if i.object_name == "companies"]
    assert [(i.direction, i.source_key) for i in changed] == [(SyncDirection.from_hubspot, "C2")]
    quiet = await runner.run()  # hubsync's own write to the ERP comes back as an echo
    assert runner.portal.transport.writes() == 0
    assert quiet.counts["companies"]["updated"] == 0


async def test_a_conflict_under_the_hubspot_rule_keeps_hubspot_and_is_recorded(
    runner: Runner,
) -> None:
    await synced(runner, "hubspot")
    await edit_in_hubspot(runner, "C1", name="Acme (HubSpot)")
    runner.erp.put("companies", id="C1", name="Acme (ERP)")
    run = await runner.run()
    assert run.status == RunStatus.succeeded, run.error_summary
    assert runner.erp.row("companies", "C1")["name"] == "Acme (HubSpot)"
    records = await runner.portal.records("companies", "erp_id", "name")
    assert {r.properties["erp_id"]: r.properties["name"] for r in records}["C1"] == "Acme (HubSpot)"
    conflicts = [
        c for i in await items(runner, run.id) for c in (i.payload or {}).get("conflicts", [])
    ]
    assert conflicts
    assert conflicts[0]["source_value"] == "Acme (ERP)"
    assert conflicts[0]["hubspot_value"] == "Acme (HubSpot)"
    assert conflicts[0]["winner"] == "hubspot"


async def test_a_conflict_under_the_source_rule_keeps_the_source(runner: Runner) -> None:
    await synced(runner, "source")
    await edit_in_hubspot(runner, "C1", name="Acme (HubSpot)")
    runner.erp.put("companies", id="C1", name="Acme (ERP)")
    run = await runner.run()
    assert run.status == RunStatus.succeeded, run.error_summary
    assert runner.erp.row("companies", "C1")["name"] == "Acme (ERP)"
    records = await runner.portal.records("companies", "erp_id", "name")
    assert {r.properties["erp_id"]: r.properties["name"] for r in records}["C1"] == "Acme (ERP)"
    failed = [i for i in await items(runner, run.id) if i.status == ItemStatus.failed]
    assert failed == []


async def test_a_from_hubspot_dry_run_writes_nothing(runner: Runner) -> None:
    await synced(runner)
    await edit_in_hubspot(runner, "C2", name="Globex International")
    run = await runner.run(dry_run=True)
    assert runner.erp.row("companies", "C2")["name"] == "Globex"
    assert [i.source_key for i in await items(runner, run.id)] == ["C2"]
    real = await runner.run()
    assert real.counts["companies"]["updated"] == 1
