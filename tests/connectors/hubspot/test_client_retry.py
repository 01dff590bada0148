"""Retries: counts, backoff curve, 429 policies, Retry-After, timeouts and non-idempotent writes."""

from __future__ import annotations

import random

import httpx
import pytest
import respx

from app.connectors.hubspot.client import HubSpotClient
from app.connectors.hubspot.errors import (
    DailyLimitExceeded,
    OutcomeUnknown,
    ServerError,
    TransportError,
)
from app.connectors.hubspot.objects import RecordInput
from app.connectors.hubspot.retry import RetryPolicy, full_jitter
from app.connectors.hubspot.search import SearchRequest
from tests.connectors.hubspot.fakes import FakeClock, error_body, make_client, record

CONTACT = "/crm/v3/objects/contacts/1"
CREATE = "/crm/v3/objects/contacts/batch/create"


def rate_limited(policy: str, **headers: str) -> httpx.Response:
    """A HubSpot 429 for ``policy``."""
    body = {"status": "error", "message": "limit", "errorType": "RATE_LIMIT", "policyName": policy}
    return httpx.Response(429, json=body, headers=headers)


class TestBackoff:
    async def test_server_errors_back_off_exponentially_then_give_up(
        self, client: HubSpotClient, router: respx.MockRouter, clock: FakeClock
    ) -> None:
        router.get(CONTACT).respond(502, json=error_body("ERROR", "bad gateway"))
        with pytest.raises(ServerError):
            await client.objects.get("contacts", "1")
        assert router.calls.call_count == 5
        assert clock.sleeps == [0.5, 1.0, 2.0, 4.0]

    async def test_recovers_after_transient_failures(
        self, client: HubSpotClient, router: respx.MockRouter, clock: FakeClock
    ) -> None:
        router.get(CONTACT).mock(
            side_effect=[
                httpx.Response(503),
                httpx.ReadTimeout("slow"),
                httpx.Response(200, json=record("1")),
            ]
        )
        found = await client.objects.get("contacts", "1")
        assert found.id == "1"
        assert clock.sleeps == [0.5, 1.0]

    async def test_total_time_bounds_retries(
        self, router: respx.MockRouter, clock: FakeClock
    ) -> None:
        policy = RetryPolicy(max_attempts=10, base_s=4.0, max_elapsed_s=10.0, jitter=lambda c: c)
        router.get(CONTACT).respond(500)
        async with make_client(clock, retry=policy) as client:
            with pytest.raises(ServerError):
                await client.objects.get("contacts", "1")
        assert clock.sleeps == [4.0]  # 4 + 8 would pass the 10 s budget

    def test_full_jitter_stays_under_the_ceiling(self) -> None:

        jitter = full_jitter(random.Random(7))
        draws = [jitter(2.0) for _ in range(200)]
        assert all(0 <= d <= 2.0 for d in draws)
        assert len(set(draws)) > 100


class TestRateLimitPolicies:
    async def test_ten_secondly_waits_out_the_window(
        self, client: HubSpotClient, router: respx.MockRouter, clock: FakeClock
    ) -> None:
        limited = rate_limited(
            "TEN_SECONDLY_ROLLING", **{"X-HubSpot-RateLimit-Interval-Milliseconds": "10000"}
        )
        router.get(CONTACT).mock(side_effect=[limited, httpx.Response(200, json=record("1"))])
        await client.objects.get("contacts", "1")
        assert clock.sleeps[0] == 10.0
        assert router.calls.call_count == 2

    async def test_secondly_waits_one_second(
        self, client: HubSpotClient, router: respx.MockRouter, clock: FakeClock
    ) -> None:
        route = router.post("/crm/v3/objects/contacts/search")
        route.mock(
            side_effect=[rate_limited("SECONDLY"), httpx.Response(200, json={"results": []})]
        )
        await client.search.page(
            "contacts",
            SearchRequest(),
        )
        assert clock.sleeps[0] == 1.0

    async def test_daily_is_not_retried_and_blocks_later_calls(
        self, client: HubSpotClient, router: respx.MockRouter, clock: FakeClock
    ) -> None:
        router.get(CONTACT).mock(return_value=rate_limited("DAILY"))
        with pytest.raises(DailyLimitExceeded):
            await client.objects.get("contacts", "1")
        with pytest.raises(DailyLimitExceeded):
            await client.objects.get("contacts", "1")
        assert router.calls.call_count == 1
        assert clock.sleeps == []

    async def test_retry_after_header_is_honoured_for_477(
        self, client: HubSpotClient, router: respx.MockRouter, clock: FakeClock
    ) -> None:
        migrating = httpx.Response(
            477, json=error_body("MIGRATION", "moving"), headers={"Retry-After": "7"}
        )
        router.get(CONTACT).mock(side_effect=[migrating, httpx.Response(200, json=record("1"))])
        await client.objects.get("contacts", "1")
        assert clock.sleeps == [7.0]

    async def test_locked_423_waits_two_seconds(
        self, client: HubSpotClient, router: respx.MockRouter, clock: FakeClock
    ) -> None:
        locked = httpx.Response(423, json=error_body("LOCKED", "locked"))
        router.get(CONTACT).mock(side_effect=[locked, httpx.Response(200, json=record("1"))])
        await client.objects.get("contacts", "1")
        assert clock.sleeps == [2.0]


class TestNonIdempotentWrites:
    async def test_create_after_read_timeout_is_not_resent(
        self, client: HubSpotClient, router: respx.MockRouter
    ) -> None:
        router.post(CREATE).mock(side_effect=httpx.ReadTimeout("slow"))
        with pytest.raises(OutcomeUnknown) as caught:
            await client.objects.batch_create("contacts", [RecordInput({"email": "a@x.de"})])
        assert caught.value.maybe_applied
        assert router.calls.call_count == 1

    async def test_create_after_5xx_is_not_resent(
        self, client: HubSpotClient, router: respx.MockRouter
    ) -> None:
        router.post(CREATE).respond(504)
        with pytest.raises(OutcomeUnknown):
            await client.objects.batch_create("contacts", [RecordInput({"email": "a@x.de"})])
        assert router.calls.call_count == 1

    async def test_create_after_connect_error_or_429_is_retried(
        self, client: HubSpotClient, router: respx.MockRouter
    ) -> None:
        created = {"status": "COMPLETE", "results": [record("9", email="a@x.de")]}
        router.post(CREATE).mock(
            side_effect=[
                httpx.ConnectError("refused"),
                rate_limited("TEN_SECONDLY_ROLLING"),
                httpx.Response(201, json=created),
            ]
        )
        result = await client.objects.batch_create("contacts", [RecordInput({"email": "a@x.de"})])
        assert [s.result.id for s in result.succeeded] == ["9"]
        assert router.calls.call_count == 3

    async def test_upsert_after_read_timeout_is_retried(
        self, client: HubSpotClient, router: respx.MockRouter
    ) -> None:
        done = {"status": "COMPLETE", "results": [record("9", email="a@x.de") | {"new": True}]}
        router.post("/crm/v3/objects/contacts/batch/upsert").mock(
            side_effect=[httpx.ReadTimeout("slow"), httpx.Response(200, json=done)]
        )
        item = RecordInput({"firstname": "A"}, id="a@x.de", id_property="email")
        result = await client.objects.batch_upsert("contacts", [item])
        assert result.succeeded[0].input is item
        assert result.succeeded[0].result.new is True

    async def test_connection_errors_exhaust_as_transport_error(
        self, client: HubSpotClient, router: respx.MockRouter
    ) -> None:
        router.get(CONTACT).mock(side_effect=httpx.ConnectError("refused"))
        with pytest.raises(TransportError):
            await client.objects.get("contacts", "1")
        assert router.calls.call_count == 5
