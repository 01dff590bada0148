"""How a sandbox portal is set up: account profile, credentials, faults, persistence.

Everything here can also be changed while the sandbox runs (fault injection,
search lag), through ``SandboxConfig`` being shared by reference.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class RateProfile:
    """HubSpot's limits for one account tier (private-app figures)."""

    name: str
    burst: int  # requests per burst window
    window_ms: int  # burst window length
    daily: int  # requests per day
    search_per_second: int  # the search endpoints' own limit


PROFILES: dict[str, RateProfile] = {
    "free": RateProfile("free", burst=100, window_ms=10_000, daily=250_000, search_per_second=5),
    "starter": RateProfile(
        "starter", burst=100, window_ms=10_000, daily=250_000, search_per_second=5
    ),
    "professional": RateProfile(
        "professional", burst=190, window_ms=10_000, daily=650_000, search_per_second=5
    ),
    "enterprise": RateProfile(
        "enterprise", burst=190, window_ms=10_000, daily=1_000_000, search_per_second=5
    ),
}


@dataclass(slots=True)
class FaultConfig:
    """Failures the sandbox injects; all off by default, settable at run time."""

    error_rate: float = 0.0  # share of requests answered with a 5xx
    error_status: int = 503
    rate_limit_burst: int = 0  # the next N requests get a 429 whatever the bucket says
    latency_ms: int = 0  # added to every request
    drop_rate: float = 0.0  # share of requests whose connection is dropped without an answer
    record_failure_rate: float = 0.0  # share of batch inputs failing with a validation error
    seed: int | None = None  # makes the random choices repeatable


@dataclass(slots=True)
class SandboxConfig:
    """One sandbox portal."""

    portal_id: int = 62515
    app_id: int = 54321  # the OAuth/webhook app the portal pretends to have installed
    db_path: str = ":memory:"  # a file path persists the portal across restarts
    profile: str = "professional"
    rate_limits: bool = True  # False: no burst/daily/search limits (benchmarks of cost)
    private_tokens: list[str] = field(default_factory=lambda: ["sandbox-token"])
    oauth_client_id: str = "sandbox-client-id"
    oauth_client_secret: str = "sandbox-client-secret"  # noqa: S105 - a sandbox credential
    access_token_ttl_seconds: int = 1800
    search_lag_seconds: float = 0.0  # records show up in search this long after a write
    search_result_cap: int = 10_000
    public_base_url: str = "http://127.0.0.1:8100"
    faults: FaultConfig = field(default_factory=FaultConfig)

    @property
    def rate_profile(self) -> RateProfile:
        """The limits of the configured account tier."""
        return PROFILES[self.profile]
