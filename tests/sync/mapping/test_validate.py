"""``hubsync mapping validate``: an interface file checked against both real systems."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from app.connectors.hubspot.sandbox.app import create_sandbox
from app.connectors.hubspot.sandbox.config import SandboxConfig
from app.sync.mapping.problems import MappingError
from app.sync.mapping.validate import validate_file
from tests.live_server import listening_socket, serving

TOKEN = "validate-token"
INTERFACE = """\
tenant: muster
name: erp-companies
interval_minutes: 15
source:
  connector: csv
  config: {{folder: "{folder}", delimiter: ";"}}
hubspot:
  base_url: {base_url}
  access_token: ${{HUBSPOT_TOKEN}}
mapping:
  objects:
    - name: companies
      source: {{object: customers, key: customer_no}}
      hubspot: {{object: companies, match: erp_customer_no}}
      fields:
        - {{source: customer_no, hubspot: erp_customer_no}}
        - {{source: name, hubspot: name}}
        - {{source: city, hubspot: citty}}
"""


@pytest.fixture
async def sandbox_url() -> AsyncIterator[str]:
    """A sandbox portal over loopback (the validator opens its own HTTP client)."""
    app = create_sandbox(SandboxConfig(private_tokens=[TOKEN], rate_limits=False))
    async with serving(app, listening_socket()) as base_url:
        yield base_url


@pytest.fixture
def erp_folder(tmp_path: Path) -> Path:
    """An ERP export folder with a customers file."""
    (tmp_path / "customers.csv").write_text(
        "customer_no;name;city\n10001;Muster AG;Zürich\n", encoding="utf-8"
    )
    return tmp_path


async def test_problems_in_both_systems_name_object_field_and_line(
    sandbox_url: str, erp_folder: Path
) -> None:
    text = INTERFACE.format(folder=erp_folder, base_url=sandbox_url)
    report = await validate_file(text, source_name="erp.yaml", environ={"HUBSPOT_TOKEN": TOKEN})
    described = [p.describe("erp.yaml") for p in report.problems]
    assert any(d.startswith("erp.yaml:18: companies › citty") for d in described), described
    assert any(d.startswith("erp.yaml:14: companies › hubspot.match") for d in described)


async def test_valid_once_the_properties_exist(sandbox_url: str, erp_folder: Path) -> None:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with httpx.AsyncClient(base_url=sandbox_url, headers=headers) as api:
        await api.post("/crm/v3/properties/companies/groups", json={"name": "erp", "label": "ERP"})
        created = await api.post("/crm/v3/properties/companies", json={
            "name": "erp_customer_no", "label": "ERP-Nr.", "type": "string", "fieldType": "text",
            "groupName": "erp", "hasUniqueValue": True})  # fmt: skip
        assert created.status_code == 201, created.text
    text = INTERFACE.format(folder=erp_folder, base_url=sandbox_url).replace("citty", "city")
    report = await validate_file(text, source_name="erp.yaml", environ={"HUBSPOT_TOKEN": TOKEN})
    assert report.problems == []
    assert [o.name for o in report.table.objects] == ["companies"]


async def test_a_broken_file_fails_before_any_system_is_asked(erp_folder: Path) -> None:
    text = INTERFACE.format(folder=erp_folder, base_url="http://127.0.0.1:1").replace(
        "interval_minutes: 15", "interval_minutes: 5"
    )
    with pytest.raises(MappingError) as error:
        await validate_file(text, source_name="erp.yaml", environ={"HUBSPOT_TOKEN": TOKEN})
    assert "erp.yaml:3" in str(error.value)
    assert "between 10 and 45" in str(error.value)
