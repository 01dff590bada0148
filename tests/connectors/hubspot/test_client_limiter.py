"""Client-side limits: burst window on fake time, header adaptation, search, daily, sharing."""

from __future__ import annotations

import asyncio

import httpx
import pytest
import respx

from app.connectors.hubspot.errors import DailyLimitExceeded
from app.connectors.hubspot.limiter import (
    Bucket,
    LimitConfig,
    LimiterRegistry,
    PortalLimiter,
    SlidingWindow,
)
from tests.connectors.hubspot.fakes import FakeClock, make_client, record


def max_in_any_window(times: list[float], window: float) -> int:
    """The most grants that fall in any half-open window of ``window`` seconds."""
    ordered = sorted(times)
    return max(sum(1 for t in ordered if start <= t < start + window) for start in ordered)


class TestSlidingWindow:
    async def test_never_exceeds_burst_under_concurrency(self, clock: FakeClock) -> None:
        window = SlidingWindow(limit=19, window_s=1.0, clock=clock)
        granted: list[float] = []

        async def take() -> None:
            await window.acquire()
            granted.append(clock.monotonic())

        await asyncio.gather(*(take() for _ in range(200)))
        assert len(granted) == 200
        assert max_in_any_window(granted, 1.0) == 19
        assert granted[-1] - granted[0] >= 10 * 1.0  # 200 grants need ≥ 10 full windows

    async def test_reconcile_counts_other_clients(self, clock: FakeClock) -> None:
        window = SlidingWindow(limit=10, window_s=10.0, clock=clock)
        await window.acquire()
        window.reconcile(server_remaining=3)
        assert window.remaining() == 3


class TestHeaderAdaptation:
    async def test_max_and_remaining_headers_shrink_the_window(self, clock: FakeClock) -> None:
        limiter = PortalLimiter(LimitConfig(burst=190), clock)
        limiter.observe(
            {
                "X-HubSpot-RateLimit-Max": "100",
                "X-HubSpot-RateLimit-Interval-Milliseconds": "10000",
                "X-HubSpot-RateLimit-Remaining": "40",
                "X-HubSpot-RateLimit-Daily": "250000",
                "X-HubSpot-RateLimit-Daily-Remaining": "12",
            },
            Bucket.STANDARD,
        )
        assert limiter.burst.limit == 100
        assert limiter.burst.remaining() == 40
        assert limiter.daily.remaining == 12

    async def test_headers_never_raise_the_configured_burst(self, clock: FakeClock) -> None:
        limiter = PortalLimiter(LimitConfig(burst=100), clock)
        limiter.observe({"X-HubSpot-RateLimit-Max": "190"}, Bucket.STANDARD)
        assert limiter.burst.limit == 100

    async def test_responses_feed_the_limiter(self, clock: FakeClock) -> None:
        headers = {"X-HubSpot-RateLimit-Max": "50", "X-HubSpot-RateLimit-Remaining": "0"}
        with respx.mock(base_url="https://api.hubapi.com") as router:
            router.get("/crm/v3/objects/contacts/1").respond(200, json=record("1"), headers=headers)
            async with make_client(clock) as client:
                await client.objects.get("contacts", "1")
                await client.objects.get("contacts", "1")
        assert clock.sleeps == [10.0]  # the second call waited for the window HubSpot reported


class TestSearchAndDaily:
    async def test_search_bucket_is_four_per_second(self, clock: FakeClock) -> None:
        limiter = PortalLimiter(LimitConfig(), clock)
        granted: list[float] = []
        for _ in range(12):
            async with limiter.slot(Bucket.SEARCH):
                granted.append(clock.monotonic())
        assert max_in_any_window(granted, 1.0) == 4
        assert limiter.burst.remaining() == 190  # search does not spend the burst bucket

    async def test_daily_budget_refuses_before_hubspot(self, clock: FakeClock) -> None:
        limiter = PortalLimiter(LimitConfig(daily=3, daily_reserve=1), clock)
        for _ in range(2):
            async with limiter.slot(Bucket.STANDARD):
                pass
        with pytest.raises(DailyLimitExceeded):
            async with limiter.slot(Bucket.STANDARD):
                pass

    async def test_concurrency_is_bounded(self, clock: FakeClock) -> None:
        limiter = PortalLimiter(LimitConfig(concurrency=3), clock)
        active, peak = 0, 0

        async def work() -> None:
            nonlocal active, peak
            async with limiter.slot(Bucket.STANDARD):
                active += 1
                peak = max(peak, active)
                await asyncio.sleep(0)
                active -= 1

        await asyncio.gather(*(work() for _ in range(20)))
        assert peak == 3


class TestRegistry:
    def test_one_limiter_per_portal(self, clock: FakeClock) -> None:
        registry = LimiterRegistry(clock=clock)
        assert registry.for_portal(62515) is registry.for_portal("62515")
        assert registry.for_portal(1) is not registry.for_portal(2)

    async def test_clients_of_one_portal_share_its_window(self, clock: FakeClock) -> None:
        limiter = LimiterRegistry(LimitConfig(burst=2), clock).for_portal(7)
        with respx.mock(base_url="https://api.hubapi.com") as router:
            router.get("/crm/v3/objects/contacts/1").mock(
                side_effect=lambda _: httpx.Response(200, json=record("1"))
            )
            async with (
                make_client(clock, limiter=limiter) as first,
                make_client(clock, limiter=limiter) as second,
            ):
                for client in (first, second, first):
                    await client.objects.get("contacts", "1")
        assert clock.sleeps == [10.0]
