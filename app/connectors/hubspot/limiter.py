"""Per-portal request limits, kept on the client side before HubSpot enforces them.

A ``PortalLimiter`` holds a sliding-window burst limiter (default 190 per 10 s),
a separate search limiter (default 4 per second; search responses may carry no
rate-limit headers), an optional daily budget and a concurrency semaphore. It
adapts to HubSpot's ``X-HubSpot-RateLimit-*`` headers: a smaller ``-Max`` shrinks
the window, and a ``-Remaining`` below our own count (other processes share the
portal) fills the window so we slow down too. ``LimiterRegistry`` hands out one
limiter per portal id, so every client of a portal shares it.
"""

from __future__ import annotations

import asyncio
import enum
from collections import deque
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass

from app.connectors.clock import SYSTEM_CLOCK, Clock
from app.connectors.hubspot.errors import DailyLimitExceeded


class Bucket(enum.Enum):
    """Which HubSpot limit a request counts against."""

    STANDARD = "standard"
    SEARCH = "search"


@dataclass(frozen=True, slots=True)
class LimitConfig:
    """Client-side limits for one portal; HubSpot's headers can lower them later."""

    burst: int = 190
    window_s: float = 10.0
    search_per_second: int = 4
    daily: int | None = None  # None: unknown or unlimited (OAuth apps)
    daily_reserve: int = 0  # requests kept back for other jobs of the portal
    concurrency: int = 10


class SlidingWindow:
    """At most ``limit`` grants in any ``window_s`` seconds (a strict sliding log)."""

    def __init__(self, limit: int, window_s: float, clock: Clock) -> None:
        self.limit = limit
        self.window_s = window_s
        self._clock = clock
        self._grants: deque[float] = deque()
        self._lock = asyncio.Lock()

    def _prune(self, now: float) -> None:
        while self._grants and self._grants[0] <= now - self.window_s:
            self._grants.popleft()

    def remaining(self) -> int:
        """Grants still available in the current window."""
        self._prune(self._clock.monotonic())
        return max(0, self.limit - len(self._grants))

    async def acquire(self) -> None:
        """Wait until a grant fits in the window, then take it (FIFO via the lock)."""
        async with self._lock:
            while True:
                now = self._clock.monotonic()
                self._prune(now)
                if len(self._grants) < self.limit:
                    self._grants.append(now)
                    return
                await self._clock.sleep(self._grants[0] + self.window_s - now)

    def resize(self, limit: int, window_s: float) -> None:
        """Adopt a new limit or window (from HubSpot's headers)."""
        self.limit, self.window_s = max(1, limit), window_s

    def reconcile(self, server_remaining: int) -> None:
        """Count grants we did not make (other clients) when HubSpot reports fewer left."""
        now = self._clock.monotonic()
        for _ in range(self.remaining() - max(0, server_remaining)):
            self._grants.append(now)


class DailyBudget:
    """Requests left today; refuses calls rather than spending the last of the budget."""

    def __init__(self, limit: int | None, reserve: int) -> None:
        self.limit = limit
        self.remaining = limit
        self.reserve = reserve

    def take(self) -> None:
        """Count one request, or raise ``DailyLimitExceeded`` if the budget is spent."""
        if self.remaining is None:
            return
        if self.remaining <= self.reserve:
            raise DailyLimitExceeded(
                "daily request budget spent (client-side limit)",
                policy="DAILY",
                retry_after=None,
                category="RATE_LIMIT",
            )
        self.remaining -= 1

    def observe(self, limit: int | None, remaining: int | None) -> None:
        """Adopt HubSpot's daily figures."""
        if limit is not None:
            self.limit = limit
        if remaining is not None:
            self.remaining = remaining

    def exhaust(self) -> None:
        """Mark the budget spent (HubSpot answered with a DAILY 429)."""
        self.remaining = 0


def _int_header(headers: Mapping[str, str], name: str) -> int | None:
    try:
        return int(headers[name])
    except (KeyError, ValueError):
        return None


class PortalLimiter:
    """All client-side limits of one HubSpot portal, shared by its clients."""

    def __init__(self, config: LimitConfig | None = None, clock: Clock = SYSTEM_CLOCK) -> None:
        self.config = config or LimitConfig()
        self.burst = SlidingWindow(self.config.burst, self.config.window_s, clock)
        self.search = SlidingWindow(self.config.search_per_second, 1.0, clock)
        self.daily = DailyBudget(self.config.daily, self.config.daily_reserve)
        self._slots = asyncio.Semaphore(self.config.concurrency)

    @asynccontextmanager
    async def slot(self, bucket: Bucket) -> AsyncIterator[None]:
        """Hold a concurrency slot after waiting for room in the request's buckets."""
        self.daily.take()
        window = self.search if bucket is Bucket.SEARCH else self.burst
        await window.acquire()
        async with self._slots:
            yield

    def observe(self, headers: Mapping[str, str], bucket: Bucket) -> None:
        """Adapt to the rate-limit headers of a response."""
        self.daily.observe(
            _int_header(headers, "X-HubSpot-RateLimit-Daily"),
            _int_header(headers, "X-HubSpot-RateLimit-Daily-Remaining"),
        )
        if bucket is Bucket.SEARCH:
            return
        limit = _int_header(headers, "X-HubSpot-RateLimit-Max")
        interval_ms = _int_header(headers, "X-HubSpot-RateLimit-Interval-Milliseconds")
        if limit is not None:
            window = interval_ms / 1000 if interval_ms else self.burst.window_s
            self.burst.resize(min(limit, self.config.burst), window)
        remaining = _int_header(headers, "X-HubSpot-RateLimit-Remaining")
        if remaining is not None:
            self.burst.reconcile(remaining)

    def throttled(self, bucket: Bucket) -> None:
        """HubSpot said 429 for ``bucket``: treat its window as full."""
        (self.search if bucket is Bucket.SEARCH else self.burst).reconcile(0)


class LimiterRegistry:
    """One ``PortalLimiter`` per portal id, shared by every client of that portal."""

    def __init__(self, config: LimitConfig | None = None, clock: Clock = SYSTEM_CLOCK) -> None:
        self._config = config or LimitConfig()
        self._clock = clock
        self._limiters: dict[str, PortalLimiter] = {}

    def for_portal(self, portal_id: str | int, config: LimitConfig | None = None) -> PortalLimiter:
        """The portal's limiter, created with ``config`` (or the default) on first use."""
        key = str(portal_id)
        if key not in self._limiters:
            self._limiters[key] = PortalLimiter(config or self._config, self._clock)
        return self._limiters[key]
