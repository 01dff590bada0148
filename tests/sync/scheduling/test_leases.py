"""Leases on SQLite and PostgreSQL: one holder at a time, takeover after expiry, renewal."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from app.core.db import SessionFactory
from app.sync.scheduling.leases import Leases
from app.web import WebState

pytestmark = pytest.mark.database
TTL = timedelta(seconds=60)


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def holders(sessions: SessionFactory, clock: Clock, *names: str) -> list[Leases]:
    return [Leases(sessions, name, TTL, clock) for name in names]


async def test_a_lease_has_one_holder_until_it_expires(web: WebState) -> None:
    clock = Clock()
    a, b = holders(web.session_factory, clock, "a", "b")
    first = await a.acquire("interface:1")
    assert first is not None
    assert first.took_over_from is None
    assert await b.acquire("interface:1") is None
    assert await a.acquire("interface:1") is not None  # the holder may take it again
    clock.now += TTL + timedelta(seconds=1)
    taken = await b.acquire("interface:1")
    assert taken is not None
    assert taken.took_over_from == "a"
    assert await a.renew({"interface:1"}) == set()  # a lost it: nothing renewed
    assert await b.live_holders({"interface:1"}) == {"interface:1": "b"}


async def test_renewing_keeps_a_lease_past_its_first_ttl(web: WebState) -> None:
    clock = Clock()
    a, b = holders(web.session_factory, clock, "a", "b")
    await a.acquire("portal:p")
    clock.now += TTL * 0.9
    assert await a.renew({"portal:p"}) == {"portal:p"}
    clock.now += TTL * 0.9
    assert await b.acquire("portal:p") is None
    await a.release({"portal:p"})
    assert await b.acquire("portal:p") is not None


async def test_of_many_racing_holders_exactly_one_wins(web: WebState) -> None:
    clock = Clock()
    racers = holders(web.session_factory, clock, *(f"p{n}" for n in range(8)))
    claims = await asyncio.gather(*(r.acquire("interface:race") for r in racers))
    assert sum(c is not None for c in claims) == 1
