"""``on_response``: the caller sees the status of every HTTP attempt, retries included."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
import respx

from app.connectors.hubspot.auth import StaticTokenProvider
from app.connectors.hubspot.client import HubSpotClient
from app.connectors.hubspot.retry import RetryPolicy
from tests.connectors.hubspot.fakes import TOKEN, FakeClock, error_body, no_jitter, record

CONTACT = "/crm/v3/objects/contacts/1"


def found() -> httpx.Response:
    """HubSpot's answer to a successful contact read."""
    return httpx.Response(200, json=record("1"))


@pytest.fixture
def seen() -> list[int]:
    """The statuses the observer was told, in order."""
    return []


@pytest.fixture
async def observed(clock: FakeClock, seen: list[int]) -> AsyncIterator[HubSpotClient]:
    """A client on fake time that reports each response's status into ``seen``."""
    retry = RetryPolicy(jitter=no_jitter)
    async with HubSpotClient(
        StaticTokenProvider(TOKEN), retry=retry, clock=clock, on_response=seen.append
    ) as client:
        yield client


class TestOnResponse:
    async def test_sees_a_429_before_the_retry_succeeds(
        self, observed: HubSpotClient, router: respx.MockRouter, seen: list[int]
    ) -> None:
        limited = httpx.Response(429, json=error_body("RATE_LIMITS", "slow down"))
        router.get(CONTACT).mock(side_effect=[limited, found()])
        await observed.objects.get("contacts", "1")
        assert seen == [429, 200]

    async def test_sees_0_for_a_request_without_response(
        self, observed: HubSpotClient, router: respx.MockRouter, seen: list[int]
    ) -> None:
        refused = httpx.ConnectError("refused")
        router.get(CONTACT).mock(side_effect=[refused, httpx.Response(503), found()])
        await observed.objects.get("contacts", "1")
        assert seen == [0, 503, 200]
