"""End to end from the command line: a PostgreSQL "ERP" synced into the sandbox over loopback.

``hubsync interface apply`` → ``mapping approve`` → ``run`` (and ``run --dry-run``),
with the ERP in a fresh PostgreSQL database read by the sql connector and the
sandbox portal served over real HTTP.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from app.connectors.hubspot.sandbox.app import create_sandbox
from app.connectors.hubspot.sandbox.config import SandboxConfig
from tests.databases import fresh_database
from tests.live_server import listening_socket, serving
from tests.test_cli import acme, db_file, invoke, migrated

__all__ = ["acme", "db_file", "migrated"]  # fixtures used by name
TOKEN = "run-token"
INTERFACE = """\
tenant: acme
name: erp-companies
interval_minutes: 15
source:
  connector: sql
  config:
    url: "{erp_url}"
    objects: {{customers: {{table: customers, key: [customer_no], cursor: updated_at}}}}
hubspot:
  base_url: {sandbox_url}
  access_token: {token}
mapping:
  objects:
    - name: companies
      source: {{object: customers, key: customer_no, updated: updated_at}}
      hubspot: {{object: companies, match: erp_customer_no}}
      fields:
        - {{source: customer_no, hubspot: erp_customer_no}}
        - {{source: name, hubspot: name, transform: trim}}
        - {{source: city, hubspot: city}}
"""


@pytest.fixture
async def erp_url(tmp_path: Path) -> AsyncIterator[str]:
    """A fresh PostgreSQL database with three customers, as the sql connector reads it."""
    async with fresh_database("postgresql", tmp_path) as url:
        sync_url = make_url(url).set(drivername="postgresql+psycopg")
        engine = create_engine(sync_url)
        with engine.begin() as connection:
            connection.execute(
                text(
                    "CREATE TABLE customers (customer_no varchar(20) PRIMARY KEY, name text, "
                    "city text, updated_at timestamptz NOT NULL DEFAULT now())"
                )
            )
            connection.execute(
                text(
                    "INSERT INTO customers (customer_no, name, city, updated_at) VALUES "
                    "('10001', ' Muster AG ', 'Zürich', :t), "
                    "('10002', 'Beispiel GmbH', 'Bern', :t), "
                    "('10003', 'Müller & Söhne AG', 'Genève', :t)"
                ),
                {"t": datetime(2026, 1, 5, tzinfo=UTC)},
            )
        engine.dispose()
        yield sync_url.render_as_string(hide_password=False)


@pytest.fixture
async def sandbox_url() -> AsyncIterator[str]:
    """The sandbox portal over loopback, with the unique match property the table needs."""
    app = create_sandbox(SandboxConfig(private_tokens=[TOKEN], rate_limits=False))
    async with serving(app, listening_socket()) as base_url:
        async with httpx.AsyncClient(
            base_url=base_url, headers={"Authorization": f"Bearer {TOKEN}"}
        ) as api:
            await api.post(
                "/crm/v3/properties/companies/groups", json={"name": "erp", "label": "ERP"}
            )
            await api.post(
                "/crm/v3/properties/companies",
                json={
                    "name": "erp_customer_no",
                    "label": "ERP-Nr.",
                    "type": "string",
                    "fieldType": "text",
                    "groupName": "erp",
                    "hasUniqueValue": True,
                },
            )
        yield base_url


@pytest.fixture
def interface_file(tmp_path: Path, erp_url: str, sandbox_url: str) -> Path:
    """The interface file pointing at both systems."""
    path = tmp_path / "erp-companies.yaml"
    path.write_text(
        INTERFACE.format(erp_url=erp_url, sandbox_url=sandbox_url, token=TOKEN), encoding="utf-8"
    )
    return path


async def companies(sandbox_url: str) -> dict[str, dict[str, str]]:
    """The sandbox's companies by ERP number."""
    async with httpx.AsyncClient(
        base_url=sandbox_url, headers={"Authorization": f"Bearer {TOKEN}"}
    ) as api:
        page = (
            await api.get(
                "/crm/v3/objects/companies",
                params={"limit": 100, "properties": "erp_customer_no,name,city"},
            )
        ).json()
    return {r["properties"]["erp_customer_no"]: r["properties"] for r in page["results"]}


async def cli(*args: str) -> tuple[int, str]:
    """Run a hubsync command (it runs its own event loop, so in a worker thread)."""
    result = await asyncio.to_thread(invoke, list(args))
    return result.exit_code, result.output


async def test_apply_approve_run_from_the_command_line(
    acme: Path, interface_file: Path, sandbox_url: str
) -> None:
    assert (await cli("interface", "apply", str(interface_file)))[0] == 0
    code, output = await cli("run", "erp-companies")
    assert code == 1
    assert "approve" in output  # an unapproved mapping never runs
    assert (await cli("mapping", "approve", "erp-companies", "1"))[0] == 0
    code, output = await cli("run", "erp-companies", "--dry-run")
    assert (code, await companies(sandbox_url)) == (0, {}), output
    code, output = await cli("run", "erp-companies")
    assert code == 0, output
    assert "succeeded" in output
    stored = await companies(sandbox_url)
    assert sorted(stored) == ["10001", "10002", "10003"]
    assert stored["10001"]["name"] == "Muster AG"
    assert stored["10003"]["city"] == "Genève"
    code, output = await cli("run", "erp-companies")
    assert code == 0, output
    assert "created" not in output
    assert "updated" not in output
