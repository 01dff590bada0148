"""Injected failures (latency, 5xx, 429 bursts, dropped connections, failing batch inputs).

One seeded random source makes a run repeatable; the settings are read on every
request, so changing ``FaultConfig`` takes effect at once.
"""

from __future__ import annotations

import random
from dataclasses import asdict, fields
from typing import Any

import httpx

from app.connectors.hubspot.sandbox.config import FaultConfig
from app.connectors.hubspot.sandbox.errors import HubSpotError


class DroppedConnection(httpx.RemoteProtocolError):
    """Raised after the response has started, so the server closes the connection mid-answer.

    Under a real server the client sees the connection close; in-process (httpx's
    ASGITransport re-raises app exceptions) it sees this transport error itself.
    """


_KINDS = {f.name: float if f.type == "float" else int for f in fields(FaultConfig)}


class Faults:
    """Decides, request by request, which configured failure (if any) happens."""

    def __init__(self, config: FaultConfig) -> None:
        self.config = config
        self.rng = random.Random(config.seed)  # noqa: S311 - not for security

    def reseed(self) -> None:
        """Restart the random sequence from the configured seed."""
        self.rng = random.Random(self.config.seed)  # noqa: S311

    def update(self, changes: dict[str, Any]) -> None:
        """Apply a partial ``FaultConfig`` (admin API); unknown or mistyped keys are refused."""
        known = {f.name: f for f in fields(FaultConfig)}
        for key, value in changes.items():
            if key not in known:
                raise HubSpotError(400, "VALIDATION_ERROR", f"Unknown fault setting {key}")
            if key == "seed" and value is not None and not isinstance(value, int):
                raise HubSpotError(400, "VALIDATION_ERROR", "seed must be an integer or null")
            if key != "seed" and (isinstance(value, bool) or not isinstance(value, int | float)):
                raise HubSpotError(400, "VALIDATION_ERROR", f"{key} must be a number")
        for key, value in changes.items():
            setattr(self.config, key, value if key == "seed" else _KINDS[key](value))
        self.reseed()

    def snapshot(self) -> dict[str, Any]:
        """The current settings as JSON."""
        return asdict(self.config)

    def latency_s(self) -> float:
        """Seconds to wait before answering."""
        return self.config.latency_ms / 1000

    def drop(self) -> bool:
        """Whether to drop this request's connection."""
        return self._chance(self.config.drop_rate)

    def error_status(self) -> int | None:
        """A 5xx to answer with instead of the real response, or None."""
        return self.config.error_status if self._chance(self.config.error_rate) else None

    def forced_429(self) -> bool:
        """Whether this request falls in a configured burst of 429s (consumes one)."""
        if self.config.rate_limit_burst <= 0:
            return False
        self.config.rate_limit_burst -= 1
        return True

    def record_fails(self) -> bool:
        """Whether one batch input fails."""
        return self._chance(self.config.record_failure_rate)

    def _chance(self, rate: float) -> bool:
        return rate > 0 and self.rng.random() < rate
