"""Fixtures for the rest connector tests: the customers API served over loopback, and fake time."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from app.connectors.rest import RestConnector
from app.connectors.rest.config import RestConfig
from tests.connectors.hubspot.fakes import FakeClock
from tests.connectors.rest.api import CustomersApi, client_settings, served

Connect = Callable[..., RestConnector]


@pytest.fixture
def clock() -> FakeClock:
    """Time that moves only when the connector sleeps; records the sleeps."""
    return FakeClock()


@pytest.fixture
def api(request: pytest.FixtureRequest) -> CustomersApi:
    """A customers API; indirect parametrisation passes its constructor arguments."""
    return CustomersApi(**getattr(request, "param", {}))


@pytest.fixture
async def base_url(api: CustomersApi) -> AsyncIterator[str]:
    """The API served over loopback for one test."""
    async with served(api) as url:
        yield url


@pytest.fixture
async def connect(api: CustomersApi, base_url: str) -> AsyncIterator[Connect]:
    """Build connectors against the API: page size, fake clock, changes to the object and settings.

    ``customers`` overrides keys of the object's settings; a value of None removes the key.
    """
    made: list[RestConnector] = []

    def build(
        page_size: int = 3,
        clock: FakeClock | None = None,
        customers: dict[str, Any] | None = None,
        **overrides: Any,
    ) -> RestConnector:
        settings = {**client_settings(api, base_url, page_size), **overrides}
        changed = {**settings["objects"]["customers"], **(customers or {})}
        settings["objects"] = {"customers": {k: v for k, v in changed.items() if v is not None}}
        config = RestConfig.model_validate(settings)
        connector = RestConnector(config, clock=clock) if clock else RestConnector(config)
        made.append(connector)
        return connector

    yield build
    for connector in made:
        await connector.aclose()
