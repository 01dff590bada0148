"""Bad settings name their field; secrets never appear in settings dumps or error messages."""

from __future__ import annotations

from typing import Any

import pytest

from app.connectors.errors import ConnectorConfigError, ConnectorError
from app.connectors.rest import RestConnector
from tests.connectors.rest.api import SECRETS, CustomersApi, Fault, client_settings
from tests.connectors.rest.conftest import Connect
from tests.connectors.rest.support import read_all

API = CustomersApi(auth="bearer")
BASE = "https://api.test"


def settings_with(change: dict[str, Any], where: str = "") -> dict[str, Any]:
    """Valid settings with ``change`` merged into the top level or into ``objects.customers``."""
    settings = client_settings(API, BASE)
    target = settings["objects"]["customers"] if where == "customers" else settings
    target.update(change)
    return settings


BAD = [
    (
        settings_with({"pagination": {"type": "pages"}}, "customers"),
        "objects.customers.pagination.type",
    ),
    (settings_with({"auth": {"type": "bearer"}}), "auth.token"),
    (settings_with({"auth": {"type": "basic", "username": "u"}}), "auth.password"),
    (settings_with({"auth": {"type": "oauth2_client_credentials"}}), "auth.token_url"),
    (settings_with({"auth": {"type": "kerberos"}}), "auth.type"),
    (settings_with({"base_url": "https://user:pw@api.test"}), "base_url"),
    (settings_with({"base_url": "ftp://api.test"}), "base_url"),
    (settings_with({"timeout_s": 0}), "timeout_s"),
    (settings_with({"objects": {}}), "objects"),
    (settings_with({"path": "customers"}, "customers"), "objects.customers.path"),
    (settings_with({"cursor": None}, "customers"), "objects.customers.updated_since"),
    (
        settings_with({"write": {"item_path": "/customers"}}, "customers"),
        "objects.customers.write.item_path",
    ),
    (settings_with({"colour": "red"}, "customers"), "objects.customers.colour"),
]


@pytest.mark.parametrize(("settings", "field"), BAD, ids=[field for _, field in BAD])
def test_bad_settings_name_the_field(settings: dict[str, Any], field: str) -> None:
    with pytest.raises(ConnectorConfigError) as raised:
        RestConnector.from_settings(settings)
    assert raised.value.field == field


def test_the_auth_block_is_the_secret() -> None:
    config = RestConnector.from_settings(client_settings(API, BASE)).config
    assert RestConnector.Config.secret_fields() == {"auth"}
    dumped = f"{config!r} {config.model_dump()} {config.model_dump_json()}"
    assert not [secret for secret in SECRETS if secret in dumped]


@pytest.mark.parametrize(
    "api",
    [{"auth": a} for a in ("bearer", "basic", "api_key", "oauth2_client_credentials")],
    indirect=True,
    ids=["bearer", "basic", "api_key", "oauth2"],
)
async def test_no_secret_in_any_error(api: CustomersApi, connect: Connect) -> None:
    messages = []
    refusals = 2 if api.auth == "oauth2_client_credentials" else 1  # a new token is tried once
    api.faults.extend([Fault(status=401)] * refusals + [Fault(status=503)] * 2)
    for _ in range(2):
        with pytest.raises(ConnectorError) as raised:
            await read_all(connect(max_retries=1))
        messages.append(f"{raised.value} {raised.value!r}")
    results = await connect().write("customers", [{"id": "x", "name": 1, "amount": "no"}])
    messages.append(str(results))
    api.fail(403)
    messages.append(str(await connect().check()))
    assert "HTTP 401" in messages[0]
    assert "HTTP 503" in messages[1]
    assert "HTTP 422" in messages[2]
    assert "HTTP 403" in messages[3]
    assert not [secret for secret in SECRETS if secret in " ".join(messages)]
