"""The connector registry: discovery through entry points, refusals, secret fields."""

from __future__ import annotations

from importlib.metadata import EntryPoint

import pytest
from hubsync_connector_example import MemoryConfig, MemoryConnector, drop_store, store
from pydantic import SecretStr

from app.connectors.base import ConnectorConfig
from app.connectors.errors import ConnectorAuthError, ConnectorConfigError
from app.connectors.registry import (
    ENTRY_POINT_GROUP,
    _load,
    connector_class,
    installed_connectors,
)


class NotAConnector:
    """A class an entry point may wrongly point at."""


MEMORY = "hubsync_connector_example:MemoryConnector"


def _entry(name: str, value: str) -> EntryPoint:
    """An entry point as a package's metadata would declare it, with no distribution."""
    return EntryPoint(name=name, value=value, group=ENTRY_POINT_GROUP)


def test_built_in_and_third_party_connectors_are_installed() -> None:
    installed = installed_connectors()
    assert {"sql", "csv", "rest", "memory"} <= set(installed)
    for name in ("sql", "csv", "rest"):
        assert installed[name].package == "hubsync"
        assert installed[name].connector.name == name


def test_third_party_connector_comes_from_its_own_package() -> None:
    memory = installed_connectors()["memory"]
    assert memory.package == "hubsync-connector-example"
    assert memory.version == "0.1.0"
    assert memory.connector is MemoryConnector
    assert connector_class("memory") is MemoryConnector


def test_unknown_connector_names_the_field_and_lists_the_installed() -> None:
    with pytest.raises(ConnectorConfigError) as caught:
        connector_class("nope")
    assert caught.value.field == "connector"
    assert "'nope'" in caught.value.message
    for name in ("csv", "memory", "rest", "sql"):
        assert name in caught.value.message


def test_entry_point_to_a_class_that_is_not_a_connector_is_refused() -> None:
    with pytest.raises(TypeError, match="is not a Connector class"):
        _load(_entry("bogus", f"{__name__}:NotAConnector"))


def test_entry_point_to_a_function_is_refused() -> None:
    with pytest.raises(TypeError, match="is not a Connector class"):
        _load(_entry("bogus", f"{__name__}:_entry"))


def test_entry_point_name_must_match_the_connector_name() -> None:
    with pytest.raises(TypeError, match="loads a connector named 'memory'"):
        _load(_entry("other", MEMORY))


def test_entry_point_without_distribution_still_loads() -> None:
    loaded = _load(_entry("memory", MEMORY))
    assert loaded.connector is MemoryConnector
    assert (loaded.package, loaded.version) == ("?", "?")


class _SecretsConfig(ConnectorConfig):
    url: str
    token: SecretStr
    password: SecretStr | None = None
    retries: int = 3


def test_secret_fields_are_the_secret_str_fields() -> None:
    assert _SecretsConfig.secret_fields() == {"token", "password"}
    assert MemoryConfig.secret_fields() == {"password"}


def test_secret_values_are_not_rendered() -> None:
    config = _SecretsConfig(url="https://erp.example", token=SecretStr("s3cret-token"))
    assert "s3cret-token" not in repr(config)
    assert "s3cret-token" not in config.model_dump_json()


async def test_example_secret_is_checked_and_never_shown() -> None:
    name = "registry-password-test"
    store(name).password = "right-password"
    try:
        wrong = MemoryConnector.from_settings({"store": name, "password": "wrong-password"})
        result = await wrong.check()
        assert not result.ok
        assert "password" in result.message
        assert "wrong-password" not in result.message
        with pytest.raises(ConnectorAuthError):
            await wrong.discover()
        right = MemoryConnector.from_settings({"store": name, "password": "right-password"})
        assert (await right.check()).ok
    finally:
        drop_store(name)
