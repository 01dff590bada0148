"""The client's schema API against the sandbox: a portal's custom object types by every name."""

from __future__ import annotations

import httpx

from app.connectors.hubspot.auth import StaticTokenProvider
from app.connectors.hubspot.client import HubSpotClient
from app.connectors.hubspot.sandbox.app import create_sandbox
from app.connectors.hubspot.sandbox.config import SandboxConfig

TOKEN = "schemas-token"


def egg(name: str) -> dict[str, object]:
    """A minimal custom object definition."""
    return {
        "name": name, "labels": {"singular": name, "plural": name},
        "primaryDisplayProperty": "code", "requiredProperties": ["code"],
        "properties": [{"name": "code", "label": "Code", "type": "string", "fieldType": "text"}],
    }  # fmt: skip


async def test_the_active_custom_object_types_with_every_name_they_go_by() -> None:
    config = SandboxConfig(private_tokens=[TOKEN], rate_limits=False)
    app = create_sandbox(config)
    transport = httpx.ASGITransport(app=app)
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox",
                                 headers=headers) as http:  # fmt: skip
        for name in ("cars", "boats"):
            assert (await http.post("/crm/v3/schemas", json=egg(name))).status_code == 201
        assert (await http.delete("/crm/v3/schemas/boats")).status_code == 204
        client = HubSpotClient(StaticTokenProvider(TOKEN), http=http, base_url="http://sandbox")
        (cars,) = await client.schemas.list()
    assert cars.name == "cars"
    assert cars.object_type_id.startswith("2-")
    assert cars.names == {cars.object_type_id, "cars", "p_cars", f"p{config.portal_id}_cars"}
