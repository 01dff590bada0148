"""When to retry a request to a JSON API, and how long to wait first.

HTTP signals (429, 5xx) are retried up to ``max_retries`` times, honouring a
``Retry-After`` header, else with exponential backoff and full jitter.
Transport failures (refused, reset, timed out) are retried only while the
whole call stays within ``timeout_s``, so an unreachable system fails in time.
POST and PATCH are not idempotent: they are retried only when the server
certainly did not apply them (429, 503, or a connection never established).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime

import httpx

Jitter = Callable[[float], float]

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
UNAPPLIED_STATUSES = frozenset({429, 503})
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
# Failures before the request reached the server: safe to repeat for any method.
UNSENT_ERRORS: tuple[type[Exception], ...] = (httpx.ConnectError, httpx.ConnectTimeout)
TRANSPORT_ERRORS: tuple[type[Exception], ...] = (httpx.TransportError, TimeoutError)
MAX_RETRY_AFTER_S = 120.0


def full_jitter(ceiling: float) -> float:
    """A wait drawn uniformly from ``[0, ceiling]``."""
    return random.uniform(0, ceiling)  # noqa: S311 - backoff jitter, not cryptography


def retry_after(headers: Mapping[str, str], now: float) -> float | None:
    """Seconds from a ``Retry-After`` header (seconds or an HTTP date), if present."""
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - now)
    except (TypeError, ValueError):
        return None


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Bounds and curve of the backoff for one connector."""

    max_retries: int
    budget_s: float  # transport failures are retried only within this many seconds
    base_s: float = 0.5
    cap_s: float = 30.0
    jitter: Jitter = field(default=full_jitter)

    def backoff(self, attempt: int) -> float:
        """The jittered wait after failed attempt number ``attempt`` (1-based)."""
        return self.jitter(min(self.cap_s, self.base_s * 2 ** (attempt - 1)))

    def after_status(
        self, method: str, status: int, attempt: int, server_wait: float | None
    ) -> float | None:
        """Seconds to wait before repeating a request answered ``status``, or None."""
        if status not in RETRY_STATUSES or attempt > self.max_retries:
            return None
        if method not in IDEMPOTENT_METHODS and status not in UNAPPLIED_STATUSES:
            return None
        if server_wait is not None:
            return server_wait if server_wait <= MAX_RETRY_AFTER_S else None
        return self.backoff(attempt)

    def after_error(
        self, method: str, error: Exception, attempt: int, elapsed_s: float
    ) -> float | None:
        """Seconds to wait before repeating a request that failed in transport, or None."""
        if attempt > self.max_retries:
            return None
        if method not in IDEMPOTENT_METHODS and not isinstance(error, UNSENT_ERRORS):
            return None
        wait = self.backoff(attempt)
        return wait if elapsed_s + wait < self.budget_s else None
