"""Blocking database work in a worker thread, under a two-phase deadline.

The sync drivers block, so each unit of work runs in a thread while the event
loop waits at most ``connect_s`` for a connection, then ``work_s`` more once
the thread reports one. A call that runs out of time raises TimeoutError at
once; the abandoned thread is told so and does not start its statements
(one already running ends at the server's statement timeout).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")
Connected = Callable[[], bool]  # called by the thread once connected: False means give up


class Deadline:
    """The time budget of one call: to connect, then to work."""

    def __init__(self, connect_s: float, work_s: float) -> None:
        self.connect_s = connect_s
        self.work_s = work_s

    async def run(self, call: Callable[[Connected], T]) -> T:
        """Run ``call`` in a worker thread; TimeoutError when a phase runs out of time."""
        loop = asyncio.get_running_loop()
        abandoned = threading.Event()
        async with asyncio.timeout(self.connect_s) as timeout:

            def extend() -> None:
                if not abandoned.is_set() and not timeout.expired():
                    timeout.reschedule(loop.time() + self.work_s)

            def connected() -> bool:
                loop.call_soon_threadsafe(extend)
                return not abandoned.is_set()

            try:
                return await asyncio.to_thread(call, connected)
            except asyncio.CancelledError:
                abandoned.set()
                raise
