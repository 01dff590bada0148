"""End to end over loopback: a custom object changed in the sandbox portal reaches the ERP.

The mapping names the custom object ``p_cars``; the sandbox's ``object.propertyChange``
event names only its type id (``2-…``). hubsync's worker asks the portal's schema API
which type that is (through the interface's own HubSpot connection), routes the event
to the ``cars`` mapping and starts a targeted run, which writes the change into the ERP.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from sqlalchemy import (
    Column,
    DateTime,
    Engine,
    MetaData,
    String,
    Table,
    create_engine,
    select,
    text,
)
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.settings import Settings
from app.models.enums import RunStatus, RunTrigger, WebhookState
from app.web import WebState
from tests.factories import World
from tests.sync.engine.pg_kit import live_portal, rest
from tests.sync.engine.runner_kit import TOKEN, Portal
from tests.webhooks.kit import WebhookInterface, stored
from tests.webhooks.live import SANDBOX, eventually, live_hubsync, webhook_interface

pytestmark = pytest.mark.database
VEHICLES = Table(
    "vehicles", MetaData(),
    Column("id", String, primary_key=True), Column("model", String),
    Column("updated_at", DateTime(timezone=True), server_default=text("CURRENT_TIMESTAMP")),
    Column("deleted_at", DateTime(timezone=True)),
)  # fmt: skip
CARS = {
    "name": "cars",
    "labels": {"singular": "Car", "plural": "Cars"},
    "primaryDisplayProperty": "vin",
    "requiredProperties": ["vin"],
    "properties": [
        {"name": "vin", "label": "VIN", "type": "string", "fieldType": "text",
         "hasUniqueValue": True},
        {"name": "model", "label": "Model", "type": "string", "fieldType": "text"},
    ],
}  # fmt: skip
MAPPING = {
    "objects": [{
        "name": "cars",
        "source": {"object": "vehicles", "key": "id", "updated": "updated_at"},
        "hubspot": {"object": "p_cars", "match": "vin"},
        "direction": "both",
        "fields": [{"source": "id", "hubspot": "vin"}, {"source": "model", "hubspot": "model"}],
    }],
}  # fmt: skip


@dataclass(kw_only=True)
class Setup(WebhookInterface):
    """The ERP, the portal with its custom object type, and the interface between them."""

    erp: Engine
    portal: Portal

    async def model(self, key: str) -> str:
        """The vehicle's model in the ERP now."""

        def read() -> str:
            with self.erp.begin() as connection:
                query = select(VEHICLES.c.model).where(VEHICLES.c.id == key)
                return str(connection.execute(query).scalar_one())

        return await asyncio.to_thread(read)

    async def has_model(self, key: str, model: str) -> bool:
        """Whether the ERP holds ``model`` for the vehicle now."""
        return await self.model(key) == model


async def add_interface(
    db: AsyncSession, web: WebState, world: World, erp_url: str, portal_url: str
) -> uuid.UUID:
    """Tenant A's active interface between the ERP's vehicles and the portal's cars."""
    objects = {"vehicles": {"table": "vehicles", "cursor": "updated_at",
                            "soft_delete": "deleted_at"}}  # fmt: skip
    interface_file = yaml.safe_dump({
        "tenant": world.a.tenant.slug, "name": "erp-cars", "interval_minutes": 15,
        "source": {"connector": "sql", "config": {"url": erp_url, "allow_local_files": True,
                                                  "objects": objects}},
        "hubspot": {"base_url": portal_url, "access_token": TOKEN},
        "mapping": MAPPING,
    })  # fmt: skip
    return await webhook_interface(db, web, interface_file)


@pytest.fixture
async def setup(
    tmp_path: Path, settings: Settings, db: AsyncSession, web: WebState, world: World
) -> AsyncIterator[Setup]:
    """Two vehicles synced to HubSpot once; the portal then sends car model changes."""
    erp_url = f"sqlite:///{tmp_path / 'erp.sqlite'}"
    erp = create_engine(erp_url)
    VEHICLES.create(erp)
    stamp = datetime(2026, 1, 1, tzinfo=UTC)  # older than anything HubSpot stamps
    with erp.begin() as connection:
        rows = [{"id": key, "model": model, "updated_at": stamp}
                for key, model in (("V1", "Beetle"), ("V2", "Golf"))]  # fmt: skip
        connection.execute(VEHICLES.insert(), rows)
    try:
        async with live_portal() as portal, live_hubsync(settings, scheduler_enabled=True) as hub:
            schema = await rest(portal, "POST", "/crm/v3/schemas", json=CARS)
            interface_id = await add_interface(db, web, world, erp_url, str(portal.http.base_url))
            first = await web.executor.run(interface_id, trigger=RunTrigger.manual)
            assert first.status == RunStatus.succeeded, first.error_summary
            app = f"/webhooks/v3/{SANDBOX.app_id}"
            target = {"targetUrl": hub.webhook_url, "throttling": {"maxConcurrentRequests": 10}}
            await rest(portal, "PUT", f"{app}/settings", json=target)
            await rest(portal, "POST", f"{app}/subscriptions", json={
                "eventType": "object.propertyChange", "objectTypeId": schema["objectTypeId"],
                "propertyName": "model", "active": True})  # fmt: skip
            yield Setup(interface_id, web, erp=erp, portal=portal)
    finally:
        erp.dispose()


async def test_a_custom_object_change_in_hubspot_reaches_the_erp(setup: Setup) -> None:
    cars = {r.properties["vin"]: r for r in await setup.portal.records("p_cars", "vin", "model")}
    assert {vin: r.properties["model"] for vin, r in cars.items()} == {"V1": "Beetle",
                                                                        "V2": "Golf"}  # fmt: skip
    await rest(setup.portal, "PATCH", f"/crm/v3/objects/p_cars/{cars['V2'].id}",
               json={"properties": {"model": "Golf GTI"}})  # fmt: skip
    await eventually(lambda: setup.has_model("V2", "Golf GTI"), timeout_s=15)
    await eventually(setup.runs_finished)
    (run,) = await setup.webhook_runs()
    assert run.status == RunStatus.succeeded, run.error_summary
    assert run.counts["cars"]["updated"] == 1
    assert await setup.model("V1") == "Beetle"  # not named by any event: left alone
    (event,) = await stored(setup.web.session_factory)
    assert (event.subscription_type, event.state) == ("object.propertyChange",
                                                      WebhookState.processed)  # fmt: skip
