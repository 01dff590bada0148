"""End to end over loopback: a change made in the sandbox portal reaches a PostgreSQL ERP.

The sandbox (HubSpot) sends its signed webhook to a live hubsync; hubsync
stores the event, its worker (a scheduler job in that process) starts a
targeted run of the interface on that portal, and the run writes the change
into the ERP table — within seconds, without waiting for the schedule.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import pytest
import yaml
from sqlalchemy import URL
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.settings import Settings
from app.models.enums import RunStatus, RunTrigger, WebhookState
from app.sync.versions import dump_mapping
from app.web import WebState
from tests.connectors.conformance.harness_sql import server_database
from tests.factories import World
from tests.sync.engine.pg_kit import (
    PgErp,
    companies_by_erp_id,
    create_schema,
    live_portal,
    mapping,
    rest,
)
from tests.sync.engine.runner_kit import TOKEN, Portal
from tests.webhooks.kit import WebhookInterface, stored
from tests.webhooks.live import SANDBOX, LiveHubsync, eventually, live_hubsync, webhook_interface

pytestmark = pytest.mark.database
DEBOUNCE_S = 2.0  # the default: a burst of edits well within it becomes one run


@pytest.fixture(scope="module")
def pg_url() -> Iterator[URL]:
    """An ERP database of the module's own on the local PostgreSQL server."""
    with server_database("postgresql") as url:
        yield url


@dataclass(kw_only=True)
class Setup(WebhookInterface):
    """The ERP, the portal, hubsync between them, and the interface that connects them."""

    erp: PgErp
    portal: Portal
    hubsync: LiveHubsync

    async def rename(self, erp_id: str, *names: str) -> None:
        """Change a company's name in HubSpot, as a user would (several times in a row)."""
        record = (await companies_by_erp_id(self.portal))[erp_id]
        for name in names:
            await rest(self.portal, "PATCH", f"/crm/v3/objects/companies/{record.id}",
                       json={"properties": {"name": name}})  # fmt: skip

    async def erp_name(self, erp_id: str) -> str:
        """The company's name in the ERP now."""
        row = await asyncio.to_thread(self.erp.row, "companies", erp_id)
        return str(row["name"]).strip()

    async def has_name(self, erp_id: str, name: str) -> bool:
        """Whether the ERP holds ``name`` for the company now."""
        return await self.erp_name(erp_id) == name


async def add_interface(
    db: AsyncSession, web: WebState, world: World, erp: PgErp, portal_url: str
) -> uuid.UUID:
    """Tenant A's active interface between the ERP and the portal, approved, not due."""
    objects = {name: {"table": name, "cursor": "updated_at", "soft_delete": "deleted_at"}
               for name in ("companies", "contacts")}  # fmt: skip
    text = yaml.safe_dump({
        "tenant": world.a.tenant.slug, "name": "erp-webhooks", "interval_minutes": 15,
        "source": {"connector": "sql", "config": {
            "url": erp.url.render_as_string(hide_password=False), "objects": objects}},
        "hubspot": {"base_url": portal_url, "access_token": TOKEN},
        "mapping": yaml.safe_load(dump_mapping(mapping())),
    })  # fmt: skip
    return await webhook_interface(db, web, text)


@pytest.fixture
async def setup(
    pg_url: URL, settings: Settings, db: AsyncSession, web: WebState, world: World
) -> AsyncIterator[Setup]:
    """Everything synced once; the portal then sends name changes of companies to hubsync."""
    erp = PgErp(pg_url)
    await create_schema(erp)
    erp.put("companies", id="C1", name="Acme", domain="acme.example", employees="12")
    erp.put("companies", id="C2", name="Globex", domain="globex.example", employees="40")
    try:
        async with (
            live_portal() as portal,
            live_hubsync(
                settings, scheduler_enabled=True, webhook_debounce_seconds=DEBOUNCE_S
            ) as hubsync,
        ):
            interface_id = await add_interface(db, web, world, erp, str(portal.http.base_url))
            first = await web.executor.run(interface_id, trigger=RunTrigger.manual)
            assert first.status == RunStatus.succeeded, first.error_summary
            await subscribe(portal, hubsync.webhook_url)
            yield Setup(interface_id, web, erp=erp, portal=portal, hubsync=hubsync)
    finally:
        erp.engine.dispose()


async def subscribe(portal: Portal, target_url: str) -> None:
    """Point the sandbox app's webhooks at hubsync; subscribe to company name changes."""
    app = f"/webhooks/v3/{SANDBOX.app_id}"
    settings = {"targetUrl": target_url, "throttling": {"maxConcurrentRequests": 10}}
    await rest(portal, "PUT", f"{app}/settings", json=settings)
    for subscription in ({"eventType": "company.propertyChange", "propertyName": "name"},
                         {"eventType": "company.deletion"}):  # fmt: skip
        await rest(portal, "POST", f"{app}/subscriptions", json={**subscription, "active": True})


async def test_a_change_in_hubspot_reaches_the_erp_within_seconds(setup: Setup) -> None:
    started = asyncio.get_running_loop().time()
    await setup.rename("C2", "Globex International")
    await eventually(lambda: setup.has_name("C2", "Globex International"), timeout_s=15)
    took = asyncio.get_running_loop().time() - started
    assert took < 10, f"{took:.1f} s"
    await eventually(setup.runs_finished)
    (run,) = await setup.webhook_runs()
    assert run.status == RunStatus.succeeded, run.error_summary
    assert run.counts["companies"]["updated"] == 1
    assert await setup.erp_name("C1") == "Acme"  # not named by any event: left alone
    (event,) = await stored(setup.web.session_factory)
    assert event.state == WebhookState.processed


async def test_a_burst_of_edits_becomes_one_run(setup: Setup) -> None:
    await setup.rename("C1", *(f"Acme {n}" for n in range(1, 11)))
    await eventually(lambda: setup.has_name("C1", "Acme 10"))
    await eventually(setup.runs_finished)
    events = await stored(setup.web.session_factory)
    assert [e.state for e in events] == [WebhookState.processed] * 10
    runs = await setup.webhook_runs()
    assert len(runs) == 1, [r.started_at for r in runs]
