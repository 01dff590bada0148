"""When and how long to wait before retrying a failed HubSpot call.

Exponential backoff with full jitter (``uniform(0, min(cap, base·2^n))``), bounded
by attempts and by total elapsed time. HubSpot's own signals come first: a
``Retry-After`` header, the rest of the 10-second window for
``TEN_SECONDLY_ROLLING``, one second for the search limit (``SECONDLY``). A
``DAILY`` 429 is never retried.

Writes that are not idempotent (single and batch create, property create) are
retried only when HubSpot provably did not apply them: a 429, 423 or 477, or a
connection that was never established. After a read timeout or a 5xx the write
may have landed, so the client raises ``OutcomeUnknown`` instead of risking
duplicates; upserts on a unique property are idempotent and are retried freely.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field

from app.connectors.hubspot.errors import (
    HubSpotError,
    RateLimited,
    TransportError,
    Unavailable,
)

Jitter = Callable[[float], float]
_POLICY_WAIT_S = {"SECONDLY": 1.0}
_REJECTED_UNAPPLIED = (RateLimited, Unavailable)


def full_jitter(rng: random.Random | None = None) -> Jitter:
    """A jitter function drawing uniformly from ``[0, ceiling]``."""
    source = rng or random.Random()  # noqa: S311 - backoff jitter, not cryptography
    return lambda ceiling: source.uniform(0, ceiling)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Bounds and curve of the backoff."""

    max_attempts: int = 5
    base_s: float = 0.5
    cap_s: float = 30.0
    max_elapsed_s: float = 120.0
    window_s: float = 10.0  # TEN_SECONDLY_ROLLING wait when no header says otherwise
    jitter: Jitter = field(default_factory=full_jitter)

    def backoff(self, attempt: int) -> float:
        """The jittered wait after failed attempt number ``attempt`` (1-based)."""
        return self.jitter(min(self.cap_s, self.base_s * 2 ** (attempt - 1)))

    def delay(self, error: HubSpotError, attempt: int, elapsed_s: float) -> float | None:
        """Seconds to wait before retrying ``error``, or ``None`` to give up."""
        if attempt >= self.max_attempts or not is_retriable(error):
            return None
        wait = self._wait(error, attempt)
        return wait if elapsed_s + wait <= self.max_elapsed_s else None

    def _wait(self, error: HubSpotError, attempt: int) -> float:
        if isinstance(error, RateLimited):
            if error.retry_after is not None:
                return error.retry_after
            return _POLICY_WAIT_S.get(str(error.policy).upper(), self.window_s)
        if isinstance(error, Unavailable) and error.retry_after is not None:
            return error.retry_after
        return self.backoff(attempt)


def is_retriable(error: HubSpotError) -> bool:
    """Whether the error's class says to back off and retry."""
    return error.action == "retriable"


def safe_for_non_idempotent(error: HubSpotError) -> bool:
    """Whether a failed non-idempotent write certainly did not take effect."""
    if isinstance(error, TransportError):
        return not error.maybe_applied
    return isinstance(error, _REJECTED_UNAPPLIED)
