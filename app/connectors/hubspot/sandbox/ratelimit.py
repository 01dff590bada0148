"""HubSpot's request limits: rolling burst window, daily count, search's own per-second cap."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from app.connectors.hubspot.sandbox.config import RateProfile
from app.connectors.hubspot.sandbox.errors import correlation_id, json_response

DAY_MS = 86_400_000
SEARCH_WINDOW_MS = 1000
_MESSAGES = {
    "TEN_SECONDLY_ROLLING": "You have reached your ten_secondly_rolling limit.",
    "SECONDLY": "You have reached your secondly limit.",
    "DAILY": "You have reached your daily limit.",
}


@dataclass(slots=True)
class Verdict:
    """Whether a request may pass, the policy it broke otherwise, and the headers to send."""

    policy: str | None
    headers: dict[str, str] = field(default_factory=dict)


class _Window:
    """A rolling window of request times."""

    def __init__(self) -> None:
        self.times: deque[int] = deque()

    def used(self, now_ms: int, window_ms: int) -> int:
        while self.times and self.times[0] <= now_ms - window_ms:
            self.times.popleft()
        return len(self.times)


class RateLimiter:
    """The limits of one portal under ``profile``, on an injectable clock (epoch seconds)."""

    def __init__(self, profile: RateProfile, clock: Callable[[], float]) -> None:
        self.profile = profile
        self.clock = clock
        self.burst = _Window()
        self.search = _Window()
        self.day = -1
        self.daily_used = 0

    def check(self, *, search: bool, private_app: bool) -> Verdict:
        """Count one request if it is within the limits; say which limit it broke if not."""
        profile, now = self.profile, int(self.clock() * 1000)
        if now // DAY_MS != self.day:
            self.day, self.daily_used = now // DAY_MS, 0
        if search:
            used = self.search.used(now, SEARCH_WINDOW_MS)
            policy = "SECONDLY" if used >= profile.search_per_second else None
            window = self.search
        else:
            used = self.burst.used(now, profile.window_ms)
            policy = "TEN_SECONDLY_ROLLING" if used >= profile.burst else None
            window = self.burst
        if policy is None and private_app and self.daily_used >= profile.daily:
            policy = "DAILY"
        if policy is None:
            window.times.append(now)
            self.daily_used += 1
            used += 1
        headers = {} if search else self._headers(profile.burst - used, private_app)
        return Verdict(policy, headers)

    def _headers(self, remaining: int, private_app: bool) -> dict[str, str]:
        profile = self.profile
        headers = {
            "X-HubSpot-RateLimit-Interval-Milliseconds": str(profile.window_ms),
            "X-HubSpot-RateLimit-Max": str(profile.burst),
            "X-HubSpot-RateLimit-Remaining": str(max(remaining, 0)),
        }
        if private_app:
            headers["X-HubSpot-RateLimit-Daily"] = str(profile.daily)
            headers["X-HubSpot-RateLimit-Daily-Remaining"] = str(
                max(profile.daily - self.daily_used, 0)
            )
        return headers


def too_many_requests(policy: str, headers: dict[str, str]) -> object:
    """HubSpot's 429 for ``policy`` (TEN_SECONDLY_ROLLING, SECONDLY or DAILY)."""
    body = {
        "status": "error",
        "message": _MESSAGES[policy],
        "errorType": "RATE_LIMIT",
        "correlationId": correlation_id(),
        "policyName": policy,
        "category": "RATE_LIMITS",
    }
    return json_response(body, 429, headers)
