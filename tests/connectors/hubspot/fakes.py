"""Test doubles for the HubSpot client: fake time and a client wired to respx."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from app.connectors.hubspot.auth import StaticTokenProvider, TokenProvider
from app.connectors.hubspot.client import HubSpotClient
from app.connectors.hubspot.limiter import LimitConfig, PortalLimiter
from app.connectors.hubspot.retry import RetryPolicy

BASE = "https://api.hubapi.com"
TOKEN = "pat-na1-11111111-2222-3333-4444-555555555555"


class FakeClock:
    """Time that only moves when someone sleeps; records every sleep."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        """Fake monotonic seconds."""
        return self.now

    def time(self) -> float:
        """Fake epoch seconds."""
        return self.now

    async def sleep(self, seconds: float) -> None:
        """Advance time instead of waiting."""
        self.sleeps.append(seconds)
        self.now += max(0.0, seconds)
        await asyncio.sleep(0)


def no_jitter(ceiling: float) -> float:
    """Deterministic jitter: always the ceiling."""
    return ceiling


def make_client(
    clock: FakeClock,
    *,
    auth: TokenProvider | None = None,
    limits: LimitConfig | None = None,
    limiter: PortalLimiter | None = None,
    retry: RetryPolicy | None = None,
) -> HubSpotClient:
    """A client on fake time with deterministic backoff (respx intercepts its HTTP)."""
    return HubSpotClient(
        auth or StaticTokenProvider(TOKEN),
        limiter=limiter or PortalLimiter(limits or LimitConfig(), clock),
        retry=retry or RetryPolicy(jitter=no_jitter),
        clock=clock,
        http=httpx.AsyncClient(),
    )


def error_body(category: str, message: str, **extra: Any) -> dict[str, Any]:
    """A HubSpot ``Error`` body."""
    return {
        "status": "error",
        "category": category,
        "message": message,
        "correlationId": "c0ffee00-0000-4000-8000-000000000000",
        **extra,
    }


def record(object_id: str, **properties: str) -> dict[str, Any]:
    """A ``SimplePublicObject`` body."""
    return {
        "id": object_id,
        "properties": {"hs_object_id": object_id, **properties},
        "createdAt": "2026-01-01T00:00:00Z",
        "updatedAt": "2026-01-01T00:00:00Z",
        "archived": False,
    }
