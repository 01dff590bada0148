"""Where the demo keeps its systems and how it is reached: one frozen value for every part."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from pathlib import Path

SANDBOX_PREFIX = "/hubspot-sandbox"
WILDCARD_HOSTS = frozenset({"", "0.0.0.0", "::"})  # noqa: S104 - names, not a bind


def _fresh_token() -> str:
    return f"demo-{secrets.token_urlsafe(24)}"


def _fresh_seed() -> int:
    return secrets.randbits(32)


@dataclass(frozen=True, slots=True)
class DemoConfig:
    """The demo's files, address, sandbox token, data size and activity pace.

    The sandbox token is new on every start, like the demo passwords: the
    sandbox answers on hubsync's own port, so a fixed token would be a default
    credential. ``seed`` fixes the ERP's data; ``activity_seed`` the users'
    changes, new on every start so that a restarted demo does not repeat itself
    (tests set it).
    """

    var_dir: Path
    host: str = "127.0.0.1"
    port: int = 8000
    token: str = field(default_factory=_fresh_token, repr=False)
    seed: int = 8001
    companies: int = 200
    activity_seed: int = field(default_factory=_fresh_seed)
    activity_seconds: float = 150.0
    failure_every: int = 3

    @property
    def erp_path(self) -> Path:
        """The demo ERP's SQLite file."""
        return self.var_dir / "demo-erp.sqlite"

    @property
    def sandbox_path(self) -> Path:
        """The SQLite file that keeps the sandbox portal's records across restarts."""
        return self.var_dir / "demo-hubspot.sqlite"

    @property
    def base_url(self) -> str:
        """hubsync's own address as seen from this host (loopback for a wildcard bind)."""
        host = "127.0.0.1" if self.host in WILDCARD_HOSTS else self.host
        return f"http://{host}:{self.port}"

    @property
    def sandbox_url(self) -> str:
        """The sandbox portal's API base URL: what the HubSpot connection calls."""
        return f"{self.base_url}{SANDBOX_PREFIX}"

    @property
    def erp_url(self) -> str:
        """The sql connector's URL of the demo ERP."""
        return f"sqlite:///{self.erp_path.resolve()}"
