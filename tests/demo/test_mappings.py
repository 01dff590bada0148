"""The demo's mapping tables, validated as ``hubsync mapping validate`` does, against the demo
ERP's and a sandbox portal's real schemas."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path

import pytest

from app.connectors.hubspot.sandbox.app import create_sandbox
from app.connectors.hubspot.sandbox.config import SandboxConfig
from app.demo.config import DemoConfig
from app.demo.erp import build_erp
from app.demo.provision import DEMO_INTERFACES, demo_environ, interface_file
from app.sync.mapping.hubspot_properties import create_from_interface_file
from app.sync.mapping.validate import validate_file
from tests.live_server import listening_socket, serving

SHARED_CONNECTION = "  connection: erp-firmen-kontakte-hubspot\n"
OWN_TOKEN = "  base_url: ${DEMO_HUBSPOT_URL}\n  access_token: ${DEMO_HUBSPOT_TOKEN}\n"


@pytest.fixture
async def environ(tmp_path: Path) -> AsyncIterator[dict[str, str]]:
    """``${DEMO_*}`` values for a small demo ERP and a fresh sandbox portal over loopback."""
    config = DemoConfig(var_dir=tmp_path, companies=5)
    build_erp(config.erp_path, seed=config.seed, companies=5, today=date(2026, 1, 15))
    portal = create_sandbox(SandboxConfig(private_tokens=[config.token], rate_limits=False))
    async with serving(portal, listening_socket()) as url:
        yield {**demo_environ(config), "DEMO_HUBSPOT_URL": url}


def checkable(name: str) -> str:
    """The interface file with a token of its own: a stored connection is not checked remotely."""
    return interface_file(name).replace(SHARED_CONNECTION, OWN_TOKEN)


class TestDemoMappings:
    @pytest.mark.parametrize("name", DEMO_INTERFACES)
    async def test_validate_against_both_systems_once_properties_exist(
        self, environ: dict[str, str], name: str
    ) -> None:
        text, source = checkable(name), f"{name}.yaml"
        created = await create_from_interface_file(text, source_name=source, environ=environ)
        assert {p.name for p in created} <= {
            "erp_customer_no", "erp_industry", "erp_language", "erp_order_no"
        }  # fmt: skip
        report = await validate_file(text, source_name=source, environ=environ)
        assert [p.describe(source) for p in report.problems] == []
        assert report.notes == []

    async def test_without_them_only_the_custom_properties_are_missing(
        self, environ: dict[str, str]
    ) -> None:
        text = checkable("erp-firmen-kontakte")
        report = await validate_file(text, source_name="demo.yaml", environ=environ)
        lines = [p.describe("demo.yaml") for p in report.problems]
        custom = {"erp_customer_no", "erp_industry", "erp_language"}
        assert {p.field for p in report.problems} == {"hubspot.match", *custom}, lines
        assert all(any(name in line for name in custom) for line in lines)

    def test_the_second_interface_shares_the_first_ones_hubspot_connection(self) -> None:
        assert SHARED_CONNECTION in interface_file("erp-auftraege-deals")
        assert "access_token: ${DEMO_HUBSPOT_TOKEN}" in interface_file("erp-firmen-kontakte")
