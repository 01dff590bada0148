"""A sandbox portal served over real HTTP on loopback, for clients that need a socket."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from fastapi import FastAPI

from app.connectors.hubspot.sandbox.app import create_sandbox
from app.connectors.hubspot.sandbox.config import SandboxConfig
from tests.live_server import listening_socket, serving

SANDBOX_TOKEN = "integration-token"


@dataclass(frozen=True, slots=True)
class LiveSandbox:
    """A running sandbox portal: where it answers, and its app for run-time changes."""

    base_url: str
    app: FastAPI
    config: SandboxConfig


@pytest.fixture(scope="module")
async def live_sandbox() -> AsyncIterator[LiveSandbox]:
    """A sandbox on a free loopback port, without rate limits, in memory."""
    config = SandboxConfig(private_tokens=[SANDBOX_TOKEN], rate_limits=False)
    app = create_sandbox(config)
    async with serving(app, listening_socket()) as base_url:
        yield LiveSandbox(base_url=base_url, app=app, config=config)
