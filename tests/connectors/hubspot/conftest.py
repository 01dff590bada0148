"""Fixtures for the HubSpot client tests: fake clock, respx router, client."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
import respx

from app.connectors.hubspot.client import HubSpotClient
from tests.connectors.hubspot.fakes import BASE, FakeClock, make_client


@pytest.fixture
def clock() -> FakeClock:
    """Fake time."""
    return FakeClock()


@pytest.fixture
def router() -> Iterator[respx.MockRouter]:
    """HubSpot faked by respx; unmatched requests fail the test."""
    with respx.mock(base_url=BASE, assert_all_called=False) as mock:
        yield mock


@pytest.fixture
async def client(clock: FakeClock, router: respx.MockRouter) -> AsyncIterator[HubSpotClient]:
    """A client with a static token on fake time."""
    async with make_client(clock) as hubspot:
        yield hubspot
