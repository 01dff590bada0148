"""The source → HubSpot run end to end: ERP (SQLite) → sandbox portal, recorded as runs."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from app.connectors.hubspot.auth import StaticTokenProvider
from app.connectors.hubspot.client import HubSpotClient
from app.connectors.hubspot.objects import ObjectsApi
from app.core.tenancy import TenantScope
from app.models import SyncRun
from app.models.enums import ErrorCategory, ItemAction, ItemStatus, RunStatus
from app.sync.engine.repository import ItemRepository
from app.sync.engine.state import RunHooks, Selection
from tests.sync.engine.runner_kit import Erp, Runner


def seed(erp: Erp) -> None:
    """Two companies and three contacts, two of them at the first company."""
    erp.put("companies", id="C1", name=" Acme ", domain="acme.example", employees="12")
    erp.put("companies", id="C2", name="Globex", domain="globex.example", employees="40")
    erp.put("contacts", id="P1", email="Ann@Acme.example", first_name="Ann", company_id="C1")
    erp.put("contacts", id="P2", email="bob@acme.example", first_name="Bob", company_id="C1")
    erp.put("contacts", id="P3", email="cy@globex.example", first_name="Cy", company_id="C2")


async def items(runner: Runner, run: SyncRun) -> list[Any]:
    """The items of ``run``."""
    async with runner.sessions() as session:
        repo = ItemRepository.scoped(session, TenantScope.only(runner.tenant_id))
        return list(await repo.for_run(run.id))


async def by_erp_id(runner: Runner) -> dict[str, dict[str, str | None]]:
    """HubSpot's companies by ``erp_id``."""
    records = await runner.portal.records("companies", "erp_id", "name", "numberofemployees")
    return {str(r.properties["erp_id"]): r.properties for r in records}


async def test_initial_sync_creates_companies_contacts_and_associations(runner: Runner) -> None:
    seed(runner.erp)
    run = await runner.run()
    assert run.status == RunStatus.succeeded, run.error_summary
    assert run.counts["companies"]["created"] == 2
    assert run.counts["contacts"]["created"] == 3
    companies = await by_erp_id(runner)
    assert companies["C1"]["name"] == "Acme"
    assert companies["C2"]["numberofemployees"] == "40"
    contacts = {
        r.properties["email"]: r.id for r in await runner.portal.records("contacts", "email")
    }
    assert set(contacts) == {"ann@acme.example", "bob@acme.example", "cy@globex.example"}
    client = runner.portal.client
    linked = await client.associations.read("contacts", "companies", list(contacts.values()))
    targets = {s.input: [a.to_object_id for a in s.result] for s in linked.succeeded}
    acme = next(r.id for r in await runner.portal.records("companies", "erp_id")
                if r.properties["erp_id"] == "C1")  # fmt: skip
    assert targets[contacts["ann@acme.example"]] == [acme]
    assert run.cursors_after
    assert not run.cursors_before


async def test_a_second_run_without_changes_writes_nothing(runner: Runner) -> None:
    seed(runner.erp)
    await runner.run()
    run = await runner.run()
    assert run.status == RunStatus.succeeded
    assert runner.portal.transport.writes() == 0
    assert runner.portal.transport.calls.total() == 0  # nothing read from HubSpot either
    assert await items(runner, run) == []


async def test_the_initial_run_reread_counts_unchanged(runner: Runner) -> None:
    seed(runner.erp)
    await runner.run()
    runner.erp.put("companies", id="C1", name="Acme")  # same mapped values, new timestamp
    run = await runner.run()
    assert run.counts["companies"]["unchanged"] == 1
    assert runner.portal.transport.writes() == 0


async def test_one_changed_row_makes_one_update(runner: Runner) -> None:
    seed(runner.erp)
    await runner.run()
    runner.erp.put("companies", id="C2", name="Globex Corp")
    run = await runner.run()
    assert run.counts["companies"]["updated"] == 1
    assert run.counts["contacts"]["updated"] == 0
    upserts = [c for c in runner.portal.transport.calls if c.endswith("/batch/upsert")]
    assert upserts == ["POST /crm/v3/objects/companies/batch/upsert"]
    assert runner.portal.transport.calls[upserts[0]] == 1
    (item,) = await items(runner, run)
    assert item.action == ItemAction.update
    assert item.payload == {"properties": {"name": "Globex Corp", "erp_id": "C2"}}
    assert (await by_erp_id(runner))["C2"]["name"] == "Globex Corp"


async def test_a_record_failing_a_transform_fails_alone(runner: Runner) -> None:
    seed(runner.erp)
    runner.erp.put("companies", id="C3", name="Initech", employees="many")
    run = await runner.run()
    assert run.status == RunStatus.warning
    assert run.counts["companies"]["created"] == 2
    assert run.counts["companies"]["failed"] == 1
    (failed,) = [i for i in await items(runner, run) if i.status == ItemStatus.failed]
    assert failed.source_key == "C3"
    assert "numberofemployees" in (failed.error_message or "")
    assert failed.error_category == ErrorCategory.data
    assert failed.payload["record"]["employees"] == "many"
    assert "C3" not in await by_erp_id(runner)


async def test_a_207_failure_is_retried_and_succeeds_once_fixed(runner: Runner) -> None:
    seed(runner.erp)
    runner.portal.faults(record_failure_rate=1.0, seed=1)
    run = await runner.run()
    assert run.status == RunStatus.warning
    failed = [i for i in await items(runner, run) if i.status == ItemStatus.failed]
    assert {i.source_key for i in failed} >= {"C1", "C2"}
    assert all(
        i.payload and i.payload["properties"] for i in failed if i.object_name == "companies"
    )
    assert all(i.error_message and i.error_category == ErrorCategory.data for i in failed)
    runner.portal.faults(record_failure_rate=0.0)
    retried = await runner.run()  # no source change: the failures are sent again
    assert retried.status == RunStatus.succeeded, retried.error_summary
    assert retried.counts["companies"]["created"] == 2
    assert set(await by_erp_id(runner)) == {"C1", "C2"}
    async with runner.sessions() as session:
        repo = ItemRepository.scoped(session, TenantScope.only(runner.tenant_id))
        old = {i.id: i.status for i in await repo.for_run(run.id)}
    assert set(old.values()) <= {ItemStatus.resolved, ItemStatus.succeeded}


async def test_chosen_failures_are_retried_on_their_own(runner: Runner) -> None:
    seed(runner.erp)
    runner.portal.faults(record_failure_rate=1.0, seed=1)
    failing = await runner.run()
    assert failing.counts["companies"]["failed"] == 2
    runner.portal.faults(record_failure_rate=0.0)
    runner.erp.put("companies", id="C9", name="Umbrella")  # a change only a full run reads
    chosen = Selection(source_keys={"companies": frozenset({"C1"})})
    retry = await runner.run(hooks=RunHooks(only=chosen))
    assert retry.status == RunStatus.succeeded, retry.error_summary
    assert retry.counts["companies"]["created"] == 1
    assert retry.counts["contacts"]["created"] == 0
    assert set(await by_erp_id(runner)) == {"C1"}
    assert retry.cursors_after == retry.cursors_before
    statuses = {(i.source_key, i.status) for i in await items(runner, failing)
                if i.object_name == "companies"}  # fmt: skip
    assert statuses == {("C1", ItemStatus.resolved), ("C2", ItemStatus.failed)}
    full = await runner.run()  # the rest follows on the next run, as before
    assert full.status == RunStatus.succeeded, full.error_summary
    assert set(await by_erp_id(runner)) == {"C1", "C2", "C9"}


async def test_an_invalid_enumeration_value_fails_until_the_row_is_fixed(runner: Runner) -> None:
    seed(runner.erp)
    runner.erp.put("contacts", id="P2", lead_status="BOGUS")
    run = await runner.run()
    assert run.status == RunStatus.warning
    (failed,) = [i for i in await items(runner, run) if i.status == ItemStatus.failed]
    assert failed.source_key == "P2"
    assert "BOGUS" in (failed.error_message or "")
    assert failed.payload["properties"]["hs_lead_status"] == "BOGUS"
    runner.erp.put("contacts", id="P2", lead_status="NEW")
    fixed = await runner.run()
    assert fixed.status == RunStatus.succeeded
    assert fixed.counts["contacts"]["created"] == 1


async def test_deleted_rows_are_archived_under_an_archive_policy(runner: Runner) -> None:
    runner.mapping = runner.mapping.model_copy(
        update={"objects": [runner.mapping.mapping("contacts"), _archiving(runner)]}
    )
    seed(runner.erp)
    await runner.run()
    runner.erp.remove("companies", "C2")
    run = await runner.run()
    assert run.counts["companies"]["deleted"] == 1
    assert set(await by_erp_id(runner)) == {"C1"}


async def test_deleted_rows_are_left_under_the_default_policy(runner: Runner) -> None:
    seed(runner.erp)
    await runner.run()
    runner.erp.remove("companies", "C2")
    run = await runner.run()
    assert run.counts["companies"]["skipped"] == 1
    assert set(await by_erp_id(runner)) == {"C1", "C2"}


def _archiving(runner: Runner) -> Any:
    companies = runner.mapping.mapping("companies")
    rules = companies.on_delete.model_copy(update={"source_deleted": "archive"})
    return companies.model_copy(update={"on_delete": rules})


async def test_a_crash_after_the_hubspot_write_neither_loses_nor_duplicates(
    runner: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed(runner.erp)
    real = ObjectsApi.batch_upsert

    async def upsert_then_crash(self: ObjectsApi, *args: Any, **kwargs: Any) -> Any:
        await real(self, *args, **kwargs)
        raise RuntimeError("process killed before the commit")

    monkeypatch.setattr(ObjectsApi, "batch_upsert", upsert_then_crash)
    with pytest.raises(RuntimeError):
        await runner.run()
    monkeypatch.setattr(ObjectsApi, "batch_upsert", real)
    run = await runner.run()
    assert run.status == RunStatus.succeeded, run.error_summary
    assert sorted(await by_erp_id(runner)) == ["C1", "C2"]
    contacts = await runner.portal.records("contacts", "email")
    assert len(contacts) == 3
    again = await runner.run()
    assert runner.portal.transport.writes() == 0
    assert again.status == RunStatus.succeeded


async def test_a_dry_run_writes_nothing_and_reports(runner: Runner) -> None:
    seed(runner.erp)
    run = await runner.run(dry_run=True)
    assert run.dry_run
    assert run.status == RunStatus.succeeded
    assert runner.portal.transport.writes() == 0
    reported = await items(runner, run)
    assert {i.action for i in reported} == {ItemAction.create}
    assert len(reported) == 5
    assert run.cursors_after == {}
    real = await runner.run()
    assert real.counts["companies"]["created"] == 2


async def test_an_auth_error_fails_the_run(runner: Runner) -> None:
    seed(runner.erp)
    bad = HubSpotClient(StaticTokenProvider("wrong-token"), http=runner.portal.http,
                        base_url="http://sandbox")  # fmt: skip
    runner.portal = replace(runner.portal, client=bad)
    run = await runner.run()
    assert run.status == RunStatus.failed
    assert run.error_category == ErrorCategory.config
    assert run.error_summary
