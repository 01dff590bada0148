"""An "ERP" (SQLite through the sql connector) and a sandbox portal for run-engine tests."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Column, DateTime, Engine, MetaData, String, Table, create_engine, select

from app.connectors.hubspot.auth import StaticTokenProvider
from app.connectors.hubspot.client import HubSpotClient
from app.connectors.hubspot.limiter import LimitConfig, PortalLimiter
from app.connectors.hubspot.models import CrmObject
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

TOKEN = "runner-token"
METADATA = MetaData()
COMPANIES = Table(
    "companies",
    METADATA,
    Column("id", String(32), primary_key=True),
    Column("name", String(200)),
    Column("domain", String(200)),
    Column("employees", String(20)),
    Column("updated_at", DateTime(timezone=True)),  # nullable: the connector upserts partial rows
    Column("deleted_at", DateTime(timezone=True)),
)
CONTACTS = Table(
    "contacts",
    METADATA,
    Column("id", String(32), primary_key=True),
    Column("email", String(200)),
    Column("first_name", String(200)),
    Column("last_name", String(200)),
    Column("lead_status", String(40)),
    Column("company_id", String(32)),
    Column("updated_at", DateTime(timezone=True)),  # nullable: the connector upserts partial rows
    Column("deleted_at", DateTime(timezone=True)),
)
TABLES = {"companies": COMPANIES, "contacts": CONTACTS}


def table(**companies: Any) -> MappingTable:
    """Companies (matched on a custom ``erp_id``) and contacts (on e-mail) with associations."""
    company = {
        "name": "companies",
        "source": {"object": "companies", "key": "id", "updated": "updated_at"},
        "hubspot": {"object": "companies", "match": "erp_id"},
        "fields": [
            {"source": "id", "hubspot": "erp_id"},
            {"source": "name", "hubspot": "name", "transform": "trim"},
            {"source": "domain", "hubspot": "domain"},
            {"source": "employees", "hubspot": "numberofemployees", "transform": "integer"},
        ],
        **companies,
    }
    contact = {
        "name": "contacts",
        "source": {"object": "contacts", "key": "id", "updated": "updated_at"},
        "hubspot": {"object": "contacts", "match": "email"},
        "fields": [
            {"source": "email", "hubspot": "email", "transform": ["trim", "lower"]},
            {"source": "first_name", "hubspot": "firstname"},
            {"source": "last_name", "hubspot": "lastname"},
            {"source": "lead_status", "hubspot": "hs_lead_status"},
        ],
        "associations": [{"field": "company_id", "to": "companies"}],
    }
    return MappingTable.model_validate({"objects": [contact, company]})


class Erp:
    """A SQLite database with companies and contacts, changed behind the connector's back."""

    def __init__(self, path: Path) -> None:
        self.url = f"sqlite:///{path}"
        self.engine: Engine = create_engine(self.url)
        METADATA.create_all(self.engine)
        self.clock = datetime(2026, 1, 1, tzinfo=UTC)

    def connector(self) -> SqlConnector:
        """A fresh sql connector (one per run, as in production)."""
        spec = {"cursor": "updated_at", "soft_delete": "deleted_at"}
        return SqlConnector.from_settings(
            {
                "url": self.url,
                "allow_local_files": True,
                "objects": {name: {"table": name, **spec} for name in TABLES},
                "batch_size": 2,  # several batches even for a handful of rows
            }
        )

    def _tick(self) -> datetime:
        self.clock += timedelta(seconds=1)
        return self.clock

    def put(self, table_name: str, /, **row: Any) -> None:
        """Insert or change one row, stamped with the next timestamp."""
        target = TABLES[table_name]
        with self.engine.begin() as connection:
            exists = connection.execute(select(target.c.id).where(target.c.id == row["id"])).first()
            values = {**row, "updated_at": self._tick()}
            if exists:
                connection.execute(target.update().where(target.c.id == row["id"]).values(values))
            else:
                connection.execute(target.insert().values(values))

    def remove(self, name: str, key: str) -> None:
        """Soft-delete one row."""
        self.put(name, id=key, deleted_at=self.clock)

    def row(self, name: str, key: str) -> dict[str, Any]:
        """One row as stored."""
        target = TABLES[name]
        with self.engine.begin() as connection:
            found = connection.execute(select(target).where(target.c.id == key)).mappings().one()
            return dict(found)


class CountingTransport(httpx.AsyncBaseTransport):
    """Counts requests by method and path before passing them on."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.calls: Counter[str] = Counter()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.calls[f"{request.method} {request.url.path}"] += 1
        return await self.inner.handle_async_request(request)

    def writes(self) -> int:
        """Requests that change something in HubSpot (batch writes and associations)."""
        return sum(n for call, n in self.calls.items() if not _is_read(call))


def _is_read(call: str) -> bool:
    return call.startswith("GET") or call.endswith(("/search", "/batch/read"))


@dataclass
class Portal:
    """A sandbox portal in-process, a client on it, and the request counter."""

    app: Any
    client: HubSpotClient
    transport: CountingTransport
    http: httpx.AsyncClient

    async def records(self, object_type: str, *properties: str) -> list[CrmObject]:
        """Every live record of ``object_type``."""
        found: list[CrmObject] = []
        async for page in self.client.objects.iter_pages(object_type, properties=properties):
            found.extend(page.results)
        return found

    def faults(self, **changes: Any) -> None:
        """Change the sandbox's fault injection."""
        self.app.state.sandbox.faults.update(changes)


async def open_portal() -> AsyncIterator[Portal]:
    """A fresh sandbox with the custom unique ``erp_id`` company property."""
    app = create_sandbox(SandboxConfig(private_tokens=[TOKEN], rate_limits=False))
    transport = CountingTransport(httpx.ASGITransport(app=app))
    http = httpx.AsyncClient(transport=transport, base_url="http://sandbox")
    client = HubSpotClient(
        StaticTokenProvider(TOKEN),
        http=http,
        base_url="http://sandbox",
        retry=RetryPolicy(max_attempts=3, base_s=0.01, cap_s=0.02, window_s=0.02),
        limiter=PortalLimiter(LimitConfig(burst=100_000, window_s=1, search_per_second=1_000)),
    )
    spec = PropertySpec(name="erp_id", label="ERP id", type="string", field_type="text",
                        group_name="companyinformation", has_unique_value=True)  # fmt: skip
    await client.properties.create("companies", spec)
    transport.calls.clear()
    yield Portal(app, client, transport, http)
    await http.aclose()


@dataclass
class Runner:
    """Runs the interface of a test against the ERP and the portal."""

    erp: Erp
    portal: Portal
    sessions: SessionFactory
    tenant_id: uuid.UUID
    interface_id: uuid.UUID
    mapping: MappingTable = field(default_factory=table)

    async def run(self, *, dry_run: bool = False, hooks: RunHooks | None = None) -> SyncRun:
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
                dry_run=dry_run,
                hooks=hooks,
            )
