"""Login throttling per account and per client address, with counters in the database.

After ``max_failures`` failures within the window, each further attempt waits
an exponentially growing delay (capped, never a permanent lockout, which an
attacker could abuse to lock real users out).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.repository import ThrottleRepository
from app.core.errors import TooManyRequests
from app.models import LoginThrottle

BASE_DELAY_SECONDS = 30
MAX_DELAY_SECONDS = 15 * 60


@dataclass(frozen=True, slots=True)
class ThrottlePolicy:
    """How many failures are free and how long they are remembered."""

    max_failures: int
    window: timedelta


def delay_after(failures: int, policy: ThrottlePolicy) -> int:
    """Seconds to wait after ``failures`` failures (0 while under the limit)."""
    excess = failures - policy.max_failures
    if excess < 0:
        return 0
    return int(min(BASE_DELAY_SECONDS * 2**excess, MAX_DELAY_SECONDS))


async def check_throttle(
    session: AsyncSession, keys: list[str], policy: ThrottlePolicy, now: datetime
) -> None:
    """Raise ``TooManyRequests`` while any of ``keys`` must still wait."""
    repo = ThrottleRepository.from_session(session)
    wait = 0
    for key in keys:
        row = await repo.get(key)
        if row is None or now - row.last_failure_at > policy.window:
            continue
        ready_at = row.last_failure_at + timedelta(seconds=delay_after(row.failures, policy))
        wait = max(wait, int((ready_at - now).total_seconds()) + 1 if ready_at > now else 0)
    if wait:
        raise TooManyRequests("too many failed sign-in attempts; try again later", retry_after=wait)


async def record_failure(
    session: AsyncSession, keys: list[str], policy: ThrottlePolicy, now: datetime
) -> None:
    """Count one failed attempt against each of ``keys``."""
    repo = ThrottleRepository.from_session(session)
    for key in keys:
        row = await repo.get(key)
        if row is None:
            await repo.create(
                LoginThrottle(key_hash=key, failures=1, first_failure_at=now, last_failure_at=now),
                flush=True,
            )
        elif now - row.last_failure_at > policy.window:
            row.failures, row.first_failure_at, row.last_failure_at = 1, now, now
        else:
            row.failures += 1
            row.last_failure_at = now


async def clear_failures(session: AsyncSession, key: str) -> None:
    """Forget the failures of ``key`` after a successful sign-in."""
    await ThrottleRepository.from_session(session).reset(key)
