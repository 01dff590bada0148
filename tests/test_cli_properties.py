"""`hubsync mapping create-properties` against the sandbox portal over loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from app.connectors.hubspot.sandbox.app import create_sandbox
from app.connectors.hubspot.sandbox.config import SandboxConfig
from tests.live_server import listening_socket, serving
from tests.test_cli import db_file
from tests.test_cli_run import INTERFACE, TOKEN, cli

__all__ = ["db_file"]  # fixtures used by name
ERP_URL = "postgresql+psycopg://erp@127.0.0.1:9/erp"  # never connected to by this command


@pytest.fixture
async def bare_sandbox_url() -> AsyncIterator[str]:
    """A fresh sandbox portal over loopback, without any custom property."""
    app = create_sandbox(SandboxConfig(private_tokens=[TOKEN], rate_limits=False))
    async with serving(app, listening_socket()) as base_url:
        yield base_url


async def company_properties(base_url: str) -> dict[str, dict[str, object]]:
    """The sandbox's company property definitions by name."""
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with httpx.AsyncClient(base_url=base_url, headers=headers) as api:
        page = (await api.get("/crm/v3/properties/companies")).json()
    return {p["name"]: p for p in page["results"]}


async def test_create_properties_from_an_interface_file(
    db_file: Path, tmp_path: Path, bare_sandbox_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HS_TOKEN", TOKEN)
    path = tmp_path / "erp-companies.yaml"
    text = INTERFACE.format(erp_url=ERP_URL, sandbox_url=bare_sandbox_url, token="${HS_TOKEN}")
    path.write_text(text, encoding="utf-8")

    code, output = await cli("mapping", "create-properties", str(path), "--dry-run")
    assert (code, output) == (0, "would create companies.erp_customer_no (string/text; unique)\n")
    assert "erp_customer_no" not in await company_properties(bare_sandbox_url)

    code, output = await cli("mapping", "create-properties", str(path))
    assert (code, output) == (0, "created companies.erp_customer_no (string/text; unique)\n")
    created = (await company_properties(bare_sandbox_url))["erp_customer_no"]
    assert (created["hasUniqueValue"], created["groupName"]) == (True, "hubsync")

    code, output = await cli("mapping", "create-properties", str(path))
    assert (code, output) == (0, "erp-companies.yaml: nothing to create\n")


async def test_an_unset_variable_is_refused(
    db_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HS_TOKEN", raising=False)
    path = tmp_path / "erp-companies.yaml"
    text = INTERFACE.format(erp_url=ERP_URL, sandbox_url="http://127.0.0.1:9", token="${HS_TOKEN}")
    path.write_text(text, encoding="utf-8")
    code, output = await cli("mapping", "create-properties", str(path))
    assert code == 1
    assert "HS_TOKEN" in output
