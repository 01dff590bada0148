"""Retries on 429 and 5xx within bounds, timeouts, unreachable systems and the rate limit."""

from __future__ import annotations

import asyncio

import pytest

from app.connectors.errors import ConnectorUnavailable
from app.connectors.rest import RestConnector
from app.connectors.rest.config import RestConfig
from tests.connectors.hubspot.fakes import FakeClock
from tests.connectors.rest.api import CustomersApi, Fault, client_settings
from tests.connectors.rest.conftest import Connect
from tests.connectors.rest.support import keys_of, read_all, seed
from tests.live_server import base_url_of, listening_socket

GUARD_S = 30.0  # a hang fails the test instead of blocking the run


class TestRetries:
    async def test_429_waits_as_long_as_retry_after_says(
        self, api: CustomersApi, connect: Connect, clock: FakeClock
    ) -> None:
        seed(api, 2)
        api.fail(429, times=2, retry_after="0.05")
        assert keys_of(await read_all(connect(clock=clock))) == ["c000", "c001"]
        assert clock.sleeps == [0.05, 0.05]
        assert len(api.seen) == 3

    async def test_503_is_retried_after_a_backoff(
        self, api: CustomersApi, connect: Connect, clock: FakeClock
    ) -> None:
        seed(api, 2)
        api.fail(503)
        assert keys_of(await read_all(connect(clock=clock))) == ["c000", "c001"]
        assert len(clock.sleeps) == 1
        assert 0 <= clock.sleeps[0] <= 0.5

    async def test_gives_up_after_max_retries(
        self, api: CustomersApi, connect: Connect, clock: FakeClock
    ) -> None:
        api.fail(503, times=10)
        with pytest.raises(ConnectorUnavailable, match=r"GET /customers: HTTP 503"):
            await read_all(connect(clock=clock, max_retries=2))
        assert len(api.seen) == 3

    async def test_a_retry_after_beyond_the_bound_is_not_waited_for(
        self, api: CustomersApi, connect: Connect, clock: FakeClock
    ) -> None:
        api.fail(429, retry_after="3600")
        with pytest.raises(ConnectorUnavailable, match="HTTP 429"):
            await read_all(connect(clock=clock))
        assert clock.sleeps == []

    async def test_a_create_is_not_repeated_after_a_500(
        self, api: CustomersApi, connect: Connect, clock: FakeClock
    ) -> None:
        api.faults.extend([Fault(), Fault(status=500)])  # the GET passes, the POST fails
        with pytest.raises(ConnectorUnavailable, match="POST /customers: HTTP 500"):
            await connect(clock=clock).write("customers", [{"id": "n1", "name": "N", "amount": 1}])
        assert [seen.method for seen in api.seen] == ["GET", "POST"]

    async def test_a_create_is_repeated_after_a_429(
        self, api: CustomersApi, connect: Connect, clock: FakeClock
    ) -> None:
        api.faults.extend([Fault(), Fault(status=429, retry_after="0")])
        results = await connect(clock=clock).write(
            "customers", [{"id": "n1", "name": "N", "amount": 1}]
        )
        assert [r.outcome for r in results] == ["created"]
        assert [seen.method for seen in api.seen] == ["GET", "POST", "POST"]


class TestTimeouts:
    async def test_a_slow_answer_is_unavailable_after_the_timeout(
        self, api: CustomersApi, connect: Connect
    ) -> None:
        api.delay(2.0)
        async with asyncio.timeout(GUARD_S):
            with pytest.raises(ConnectorUnavailable, match=r"no answer within 0\.3 s"):
                await read_all(connect(timeout_s=0.3))
        assert len(api.seen) == 1  # no time was left to try again

    async def test_a_refused_connection_is_unavailable(self, api: CustomersApi) -> None:
        closed = listening_socket()  # bound, not listening: connections are refused
        settings = {**client_settings(api, base_url_of(closed)), "timeout_s": 0.5}
        try:
            async with RestConnector(RestConfig.model_validate(settings)) as connector:
                async with asyncio.timeout(GUARD_S):
                    with pytest.raises(ConnectorUnavailable, match="ConnectError"):
                        await read_all(connector)
                    assert not (await connector.check()).ok
        finally:
            closed.close()


class TestRateLimit:
    async def test_requests_are_spaced(
        self, api: CustomersApi, connect: Connect, clock: FakeClock
    ) -> None:
        seed(api, 7)
        await read_all(connect(clock=clock, rate_limit_per_second=10))
        assert len(api.seen) == 3
        assert clock.sleeps == [pytest.approx(0.1), pytest.approx(0.1)]

    async def test_no_limit_means_no_waiting(
        self, api: CustomersApi, connect: Connect, clock: FakeClock
    ) -> None:
        seed(api, 7)
        await read_all(connect(clock=clock))
        assert clock.sleeps == []
