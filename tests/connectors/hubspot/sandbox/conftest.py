"""A sandbox portal per test: in memory, on a test-driven clock, reached in-process by httpx."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from app.connectors.hubspot.sandbox.app import create_sandbox
from app.connectors.hubspot.sandbox.config import RateProfile, SandboxConfig
from app.connectors.hubspot.sandbox.events import ChangeEvent
from app.connectors.hubspot.sandbox.state import SandboxState

TOKEN = "test-token"
START = 1_767_225_600.0  # 2026-01-01T00:00:00Z


@dataclass
class FakeClock:
    """Epoch seconds that move only when a test says so."""

    now: float = START

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class ListSink:
    """Collects the sandbox's change events."""

    events: list[ChangeEvent] = field(default_factory=list)

    def publish(self, event: ChangeEvent) -> None:
        self.events.append(event)


@dataclass
class Sandbox:
    """A running sandbox and a client authenticated against it."""

    http: httpx.AsyncClient
    state: SandboxState
    clock: FakeClock
    sink: ListSink

    async def create(self, object_type: str, **properties: str) -> dict[str, Any]:
        """Create one record and return its body."""
        response = await self.http.post(
            f"/crm/v3/objects/{object_type}", json={"properties": properties}
        )
        assert response.status_code == 201, response.text
        body: dict[str, Any] = response.json()
        return body


def client(app: Any, token: str = TOKEN) -> httpx.AsyncClient:
    """An httpx client talking to ``app`` in-process with a bearer token."""
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="https://api.hubapi.com",
        headers={"Authorization": f"Bearer {token}"},
    )


async def open_sandbox(
    config: SandboxConfig | None = None, profile: RateProfile | None = None
) -> tuple[Any, Sandbox]:
    """A new sandbox app and its ``Sandbox`` handle."""
    clock, sink = FakeClock(), ListSink()
    config = config or SandboxConfig(private_tokens=[TOKEN], rate_limits=False)
    app = create_sandbox(config, sink=sink, clock=clock, rate_profile=profile)
    return app, Sandbox(client(app), app.state.sandbox, clock, sink)


@pytest.fixture
async def sbx() -> AsyncIterator[Sandbox]:
    """A fresh in-memory sandbox without rate limits."""
    _, sandbox = await open_sandbox()
    async with sandbox.http:
        yield sandbox
