"""A PostgreSQL "ERP" and a sandbox portal served over loopback HTTP, for end-to-end runs."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import URL, Engine, create_engine, text

from app.connectors.hubspot.auth import StaticTokenProvider
from app.connectors.hubspot.client import HubSpotClient
from app.connectors.hubspot.limiter import LimitConfig, PortalLimiter
from app.connectors.hubspot.properties import PropertySpec
from app.connectors.hubspot.retry import RetryPolicy
from app.connectors.hubspot.sandbox.app import create_sandbox
from app.connectors.hubspot.sandbox.config import SandboxConfig
from app.connectors.sql import SqlConnector
from app.core.db import SessionFactory
from app.models import SyncRun
from app.models.enums import RunTrigger
from app.sync.engine.runner import run_interface
from app.sync.engine.state import RunHooks
from app.sync.mapping.model import MappingTable
from tests.live_server import listening_socket, serving
from tests.sync.engine.runner_kit import TOKEN, CountingTransport, Portal, table

SCHEMA = (
    "DROP TABLE IF EXISTS contacts, companies",
    """CREATE TABLE companies (
        id text PRIMARY KEY, name text, domain text, employees text,
        updated_at timestamptz NOT NULL DEFAULT now(), deleted_at timestamptz)""",
    """CREATE TABLE contacts (
        id text PRIMARY KEY, email text, first_name text, last_name text, lead_status text,
        company_id text REFERENCES companies (id),
        updated_at timestamptz NOT NULL DEFAULT now(), deleted_at timestamptz)""",
)
COLUMNS = {
    "companies": ("id", "name", "domain", "employees", "deleted_at"),
    "contacts": ("id", "email", "first_name", "last_name", "lead_status", "company_id",
                 "deleted_at"),
}  # fmt: skip


class PgErp:
    """A PostgreSQL database with companies and contacts, changed behind the connector's back.

    Rows are stamped from a clock a day in the past, one second per change, so
    HubSpot's own timestamps (wall time) are newer unless a change says ``at=``.
    """

    def __init__(self, url: URL) -> None:
        self.url = url
        self.engine: Engine = create_engine(url)
        self.clock = datetime.now(UTC) - timedelta(days=1)

    def create_schema(self) -> None:
        """The two tables (afresh), with the contact → company foreign key."""
        with self.engine.begin() as connection:
            for statement in SCHEMA:
                connection.execute(text(statement))

    def connector(self) -> SqlConnector:
        """A fresh sql connector (one per run, as in production)."""
        spec = {"cursor": "updated_at", "soft_delete": "deleted_at"}
        return SqlConnector.from_settings(
            {
                "url": self.url.render_as_string(hide_password=False),
                "objects": {name: {"table": name, **spec} for name in COLUMNS},
                "batch_size": 2,  # several batches even for a handful of rows
            }
        )

    def put(self, name: str, /, *, at: datetime | None = None, **row: Any) -> None:
        """Insert or change one row, stamped ``at`` (default: the next clock tick)."""
        if at is None:
            self.clock += timedelta(seconds=1)
            at = self.clock
        values = {**row, "updated_at": at}
        names = ", ".join(values)
        changes = ", ".join(f"{column} = excluded.{column}" for column in values if column != "id")
        statement = (
            f"INSERT INTO {name} ({names}) VALUES ({', '.join(f':{c}' for c in values)}) "  # noqa: S608 - fixed test tables
            f"ON CONFLICT (id) DO UPDATE SET {changes}"
        )
        with self.engine.begin() as connection:
            connection.execute(text(statement), values)

    def remove(self, name: str, key: str) -> None:
        """Soft-delete one row."""
        self.put(name, id=key, deleted_at=self.clock)

    def rows(self, name: str) -> list[dict[str, Any]]:
        """Every row of ``name`` (soft-deleted ones too), by key order."""
        with self.engine.begin() as connection:
            found = connection.execute(text(f"SELECT * FROM {name} ORDER BY id"))  # noqa: S608
            return [dict(row) for row in found.mappings()]

    def row(self, name: str, key: str) -> dict[str, Any]:
        """One row as stored."""
        (found,) = [r for r in self.rows(name) if r["id"] == key]
        return found


@asynccontextmanager
async def live_portal() -> AsyncIterator[Portal]:
    """A fresh sandbox served over loopback HTTP, with the unique ``erp_id`` company property."""
    app = create_sandbox(SandboxConfig(private_tokens=[TOKEN], rate_limits=False))
    async with serving(app, listening_socket()) as base_url:
        transport = CountingTransport(httpx.AsyncHTTPTransport())
        http = httpx.AsyncClient(transport=transport, base_url=base_url, timeout=10)
        client = HubSpotClient(
            StaticTokenProvider(TOKEN),
            http=http,
            base_url=base_url,
            retry=RetryPolicy(max_attempts=3, base_s=0.01, cap_s=0.02, window_s=0.02),
            limiter=PortalLimiter(LimitConfig(burst=100_000, window_s=1, search_per_second=1_000)),
        )
        spec = PropertySpec(name="erp_id", label="ERP id", type="string", field_type="text",
                            group_name="companyinformation", has_unique_value=True)  # fmt: skip
        await client.properties.create("companies", spec)
        transport.calls.clear()
        try:
            yield Portal(app, client, transport, http)
        finally:
            await http.aclose()
            await transport.inner.aclose()  # CountingTransport does not close what it wraps


async def rest(portal: Portal, method: str, path: str, **kwargs: Any) -> Any:
    """One raw call to the sandbox's public API, as a HubSpot user's tool would make it."""
    headers = {"Authorization": f"Bearer {TOKEN}"}
    response = await portal.http.request(method, path, headers=headers, **kwargs)
    assert response.is_success, response.text
    return response.json() if response.content else None


async def companies_by_erp_id(portal: Portal) -> dict[str, Any]:
    """HubSpot's live companies by ``erp_id`` (one each, or the assertion fails)."""
    records = await portal.records("companies", "erp_id", "name", "domain", "numberofemployees")
    by_key = {str(r.properties["erp_id"]): r for r in records}
    assert len(by_key) == len(records), "two HubSpot companies share an erp_id"
    return by_key


async def contact_companies(portal: Portal) -> dict[str, list[str]]:
    """Each live contact's e-mail → the ``erp_id`` of its associated companies (v4 API)."""
    names = {r.id: k for k, r in (await companies_by_erp_id(portal)).items()}
    linked: dict[str, list[str]] = {}
    for contact in await portal.records("contacts", "email"):
        path = f"/crm/v4/objects/contacts/{contact.id}/associations/companies"
        found = await rest(portal, "GET", path)
        targets = [names.get(str(r["toObjectId"]), "?") for r in found["results"]]
        linked[str(contact.properties["email"])] = sorted(targets)
    return linked


def mapping(rule: str = "newest", **companies: Any) -> MappingTable:
    """Companies both ways under ``rule``, contacts to HubSpot with their company association."""
    return table(direction="both", conflict=rule, **companies)


@dataclass
class PgRunner:
    """Runs tenant A's interface between the PostgreSQL ERP and the live portal."""

    erp: PgErp
    portal: Portal
    sessions: SessionFactory
    tenant_id: uuid.UUID
    interface_id: uuid.UUID
    mapping: MappingTable = field(default_factory=mapping)

    async def run(self, hooks: RunHooks | None = None) -> SyncRun:
        """One run with a fresh connector; the request counter starts at zero."""
        self.portal.transport.calls.clear()
        async with self.erp.connector() as connector:
            return await run_interface(
                table=self.mapping,
                connector=connector,
                hubspot=self.portal.client,
                sessions=self.sessions,
                tenant_id=self.tenant_id,
                interface_id=self.interface_id,
                trigger=RunTrigger.manual,
                hooks=hooks,
            )


async def create_schema(erp: PgErp) -> None:
    """Create the ERP's tables off the event loop."""
    await asyncio.to_thread(erp.create_schema)
