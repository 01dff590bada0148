"""Time as a dependency, so limiters, retries and token expiry run on fake time in tests."""

from __future__ import annotations

import asyncio
import time
from typing import Protocol


class Clock(Protocol):
    """Monotonic seconds, wall-clock epoch seconds, and an awaitable sleep."""

    def monotonic(self) -> float:
        """Seconds on a clock that never goes back (for windows and deadlines)."""
        ...

    def time(self) -> float:
        """Epoch seconds (for token expiry, which HubSpot states in wall time)."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Wait ``seconds``."""
        ...


class SystemClock:
    """The real clock."""

    def monotonic(self) -> float:
        """``time.monotonic()``."""
        return time.monotonic()

    def time(self) -> float:
        """``time.time()``."""
        return time.time()

    async def sleep(self, seconds: float) -> None:
        """``asyncio.sleep``."""
        await asyncio.sleep(seconds)


SYSTEM_CLOCK = SystemClock()
