"""The demo's activity: repeatable changes in the ERP and the sandbox portal, step by step."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import asdict
from datetime import date, datetime
from pathlib import Path

import pytest
from sqlalchemy import Table

from app.connectors.hubspot.sandbox.app import create_sandbox
from app.connectors.hubspot.sandbox.config import SandboxConfig
from app.connectors.hubspot.sandbox.records import WriteInput
from app.connectors.hubspot.sandbox.schema import PropertyDef
from app.connectors.hubspot.sandbox.state import SandboxState
from app.demo.activity import ActivityGenerator, ActivityReport, run_activity
from app.demo.erp import CONTACTS, CUSTOMERS, ORDERS, Erp, build_erp, key_column

BUILT = date(2026, 1, 15)
START = datetime(2026, 1, 15)  # every generated change stamp lies before it


def portal_with(*names: str) -> SandboxState:
    """A sandbox portal whose companies came from the ERP (they carry a customer number)."""
    state: SandboxState = create_sandbox(SandboxConfig(rate_limits=False)).state.sandbox
    companies = state.portal.catalog.find("companies")
    assert companies is not None
    companies.add(PropertyDef("erp_customer_no", has_unique_value=True, hubspot_defined=False))
    inputs = [WriteInput({"name": name, "erp_customer_no": str(10001 + n)})
              for n, name in enumerate(names)]  # fmt: skip
    state.portal.write(companies, inputs, "create")
    return state


def generator_at(path: Path, failure_every: int = 2) -> ActivityGenerator:
    """A generator on a small new ERP and a portal with two of its companies."""
    build_erp(path, seed=3, companies=8, today=BUILT)
    portal = portal_with("Meier Holzbau GmbH", "Favre & Rochat SA")
    return ActivityGenerator(Erp(path), portal, seed=5, failure_every=failure_every)


@pytest.fixture
def generator(tmp_path: Path) -> Iterator[ActivityGenerator]:
    """A generator that adds a mistyped contact every second step."""
    made = generator_at(tmp_path / "erp.sqlite")
    yield made
    made.close()


def changed(erp: Erp, table: Table) -> set[str]:
    """Keys of the rows changed after the ERP was built."""
    key = key_column(table).name
    return {row[key] for row in erp.rows(table, deleted=True) if row["updated_at"] >= START}


def email_of(erp: Erp, contact_no: str) -> str:
    return str(next(r["email"] for r in erp.rows(CONTACTS) if r["contact_no"] == contact_no))


class TestStep:
    async def test_every_erp_change_is_stamped(self, generator: ActivityGenerator) -> None:
        report = await generator.step()
        erp = generator.erp
        assert changed(erp, CUSTOMERS) == set(report.renamed)
        rows = changed(erp, CONTACTS) | changed(erp, ORDERS)
        assert rows == {*report.phones, *report.orders, *report.deleted}
        assert (len(report.phones), len(report.orders), len(report.renamed)) == (2, 2, 1)
        placed = [r for r in erp.rows(ORDERS) if r["order_no"] in report.orders]
        assert {r["status"] for r in placed} == {"bestellt"}

    async def test_the_same_seed_does_the_same(self, tmp_path: Path) -> None:
        reports = []
        for name in ("a.sqlite", "b.sqlite"):
            made = generator_at(tmp_path / name)
            reports.append([asdict(await made.step()) for _ in range(3)])
            made.close()
        assert reports[0] == reports[1]

    async def test_every_nth_step_adds_a_contact_with_a_mistyped_address(
        self, generator: ActivityGenerator
    ) -> None:
        assert (await generator.step()).invalid_contacts == []
        mistyped = (await generator.step()).invalid_contacts
        assert len(mistyped) == 1
        local, _, domain = email_of(generator.erp, mistyped[0]).partition("@")
        assert "." in local
        assert "." not in domain

    async def test_mistyped_addresses_get_corrected_in_time(self, tmp_path: Path) -> None:
        made = generator_at(tmp_path / "erp.sqlite", failure_every=1)
        reports = [await made.step() for _ in range(30)]
        corrected = [key for report in reports for key in report.corrected]
        assert corrected
        assert email_of(made.erp, corrected[0]).endswith(".ch")
        made.close()

    async def test_a_crm_user_renames_a_company_in_hubspot(
        self, generator: ActivityGenerator
    ) -> None:
        report = await generator.step()
        assert len(report.hubspot_renamed) == 1
        record = generator.portal.store.get([int(report.hubspot_renamed[0])])
        name = next(iter(record.values())).props["name"]
        assert name in {"Meier Holzbau AG", "Favre & Rochat Holding SA"}


class TestRunActivity:
    async def test_steps_on_after_a_failed_step_until_cancelled(
        self, generator: ActivityGenerator, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        real_step, twice = generator.step, asyncio.Event()
        calls: list[int] = []

        async def flaky_step() -> ActivityReport:
            calls.append(len(calls))
            if len(calls) == 1:
                raise RuntimeError("the ERP file is locked")
            twice.set()
            return await real_step()

        monkeypatch.setattr(generator, "step", flaky_step)
        task = asyncio.create_task(run_activity(generator, 0.01))
        await asyncio.wait_for(twice.wait(), timeout=5)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert len(calls) >= 2
