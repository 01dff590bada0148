"""The demo app served over loopback: the mounted sandbox, both interfaces, the activity."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.connectors.hubspot.sandbox.store import Record
from app.core.settings import Settings
from app.demo import DemoConfig, prepare_systems, seed_demo
from app.demo.accounts import demo_operator
from app.demo.erp import CONTACTS, CUSTOMERS, ORDERS, Erp
from app.demo.provision import DEMO_INTERFACES
from app.demo.server import DemoRuntime, create_demo_app
from app.models import Interface, RunItem, SyncRun
from app.models.enums import InterfaceState, ItemStatus, RunStatus
from app.sync.interfaces import find_interface
from app.sync.running import run_now
from app.web import WebState
from tests.live_server import listening_socket, serving

COMPANY, CONTACT, DEAL = "0-2", "0-1", "0-3"  # HubSpot object type ids


@dataclass(frozen=True, slots=True)
class Demo:
    """The served demo: its settings and parts, and the test's own database access."""

    config: DemoConfig
    runtime: DemoRuntime
    web: WebState

    def records(self, type_id: str) -> list[Record]:
        """The sandbox portal's live records of one object type."""
        return self.runtime.portal.store.page(type_id, 0, 100_000, archived=False)

    def associated(self, record: Record, to_type: str) -> set[int]:
        """The ids ``record`` is associated with."""
        return {to_id for to_id, _, _ in self.runtime.portal.store.associations(record.id, to_type)}

    async def run(self, name: str) -> SyncRun:
        """One run of demo interface ``name``, as the demo operator starts it."""
        async with self.web.session_factory() as session:
            actor = await demo_operator(session)
            interface = await find_interface(session, actor=actor, name=name)
        return await run_now(
            self.web.session_factory, actor=actor, box=self.web.secret_box,
            interface_id=interface.id, public_url=self.config.base_url,
        )  # fmt: skip


async def until_active(web: WebState) -> None:
    """Wait until the demo's background task has activated both interfaces."""
    for _ in range(150):
        async with web.session_factory() as session:
            states = (await session.execute(select(Interface.state))).scalars().all()
        if len(states) == len(DEMO_INTERFACES) and set(states) == {InterfaceState.active}:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"the demo interfaces did not become active: {states}")


@asynccontextmanager
async def served_demo(
    db: AsyncSession, web: WebState, settings: Settings, var_dir: Path
) -> AsyncIterator[Demo]:
    """Start the demo as ``hubsync demo`` does (12 customers, a free port) until its
    interfaces are active; stop it afterwards."""
    sock = listening_socket()
    config = DemoConfig(var_dir=var_dir, port=sock.getsockname()[1], companies=12,
                        activity_seed=5, activity_seconds=3600, failure_every=1)  # fmt: skip
    fresh = prepare_systems(config)
    await seed_demo(db, box=web.secret_box, config=config, fresh=fresh)
    await db.commit()
    app = create_demo_app(settings, config)
    async with serving(app, sock):
        await until_active(web)
        yield Demo(config, app.state.demo, web)


@pytest.fixture
async def demo(
    db: AsyncSession, web: WebState, settings: Settings, tmp_path: Path
) -> AsyncIterator[Demo]:
    """The demo, served for one test."""
    async with served_demo(db, web, settings, tmp_path) as served:
        yield served


class TestCreateDemoApp:
    async def test_the_sandbox_answers_under_its_prefix(self, demo: Demo) -> None:
        bearer = {"Authorization": f"Bearer {demo.config.token}"}
        async with httpx.AsyncClient(base_url=demo.config.sandbox_url) as api:
            assert (await api.get("/crm/v3/objects/companies")).status_code == 401
            listed = await api.get("/crm/v3/objects/companies", headers=bearer)
            assert listed.status_code == 200
            assert listed.headers["X-HubSpot-RateLimit-Max"] == "190"  # a Professional portal
            match = await api.get("/crm/v3/properties/companies/erp_customer_no", headers=bearer)
            assert match.json()["hasUniqueValue"] is True
            page = await api.get("/ui/", auth=("demo", demo.config.token))
            assert page.status_code == 200
            assert 'href="/hubspot-sandbox/ui/companies"' in page.text
        async with httpx.AsyncClient(base_url=demo.config.base_url) as hubsync:
            assert (await hubsync.get("/healthz")).status_code == 200
            assert (await hubsync.get("/ui/login")).status_code == 200

    async def test_one_run_of_each_interface_fills_the_portal(self, demo: Demo) -> None:
        runs = [await demo.run(name) for name in DEMO_INTERFACES]
        assert [r.status for r in runs] == [RunStatus.succeeded] * 2, [
            r.error_summary for r in runs
        ]
        erp = Erp(demo.config.erp_path)
        customers, contacts, orders = (erp.rows(t) for t in (CUSTOMERS, CONTACTS, ORDERS))
        erp.close()
        assert runs[0].counts["companies"]["created"] == len(customers) == 12
        assert runs[0].counts["contacts"]["created"] == len(contacts)
        assert runs[1].counts["deals"]["created"] == len(orders)
        companies = {r.id: r.props["erp_customer_no"] for r in demo.records(COMPANY)}
        assert sorted(companies.values()) == [c["customer_no"] for c in customers]
        by_email = {c["email"]: c["customer_no"] for c in contacts}
        for person in demo.records(CONTACT):
            linked = {companies[i] for i in demo.associated(person, COMPANY)}
            assert linked == {by_email[person.props["email"]]}
        by_order = {o["order_no"]: o for o in orders}
        for deal in demo.records(DEAL):
            order = by_order[deal.props["erp_order_no"]]
            assert {companies[i] for i in demo.associated(deal, COMPANY)} == {order["customer_no"]}
            assert float(deal.props["amount"]) == float(order["amount_chf"])
            assert (deal.props["pipeline"], deal.props["closedate"][:10]) == (
                "default",
                order["order_date"].isoformat(),
            )

    async def test_an_activity_step_flows_both_ways_and_its_typo_fails_alone(
        self, demo: Demo, db: AsyncSession
    ) -> None:
        for name in DEMO_INTERFACES:
            await demo.run(name)
        report = await demo.runtime.activity.step()
        assert len(report.invalid_contacts) == 1
        assert len(report.hubspot_renamed) == 1
        first, second = [await demo.run(name) for name in DEMO_INTERFACES]
        assert (first.status, second.status) == (RunStatus.warning, RunStatus.succeeded)
        assert first.counts["companies"]["updated"] >= 2  # renamed in the ERP and in HubSpot
        assert first.counts["contacts"]["updated"] >= 1
        assert first.counts["contacts"]["failed"] == 1
        assert sum(c["failed"] for c in first.counts.values()) == 1
        assert second.counts["deals"]["created"] == len(report.orders)
        failed = (
            await db.execute(select(RunItem).where(RunItem.status == ItemStatus.failed))
        ).scalar_one()
        assert failed.source_key == report.invalid_contacts[0]
        assert failed.payload is not None
        assert "." not in failed.payload["record"]["email"].rpartition("@")[2]
        assert failed.error_message is not None
        assert "INVALID_EMAIL" in failed.error_message
        renamed = demo.runtime.portal.store.get([int(report.hubspot_renamed[0])])
        company = next(iter(renamed.values())).props
        erp = Erp(demo.config.erp_path)
        rows = erp.rows(CUSTOMERS, customer_no=company["erp_customer_no"])
        erp.close()
        assert rows[0]["name"] == company["name"]

    async def test_a_restart_keeps_the_portal_and_what_hubsync_knows_of_it(
        self, db: AsyncSession, web: WebState, settings: Settings, tmp_path: Path
    ) -> None:
        async with served_demo(db, web, settings, tmp_path) as first:
            for name in DEMO_INTERFACES:
                await first.run(name)
        async with served_demo(db, web, settings, tmp_path) as second:
            assert second.config.token != first.config.token
            runs = [await second.run(name) for name in DEMO_INTERFACES]
            assert len(second.records(COMPANY)) == 12
        assert [r.status for r in runs] == [RunStatus.succeeded] * 2
        assert sum(c["created"] for run in runs for c in run.counts.values()) == 0
