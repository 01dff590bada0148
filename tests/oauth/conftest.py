"""Fixtures for connecting HubSpot through OAuth: the sandbox's OAuth server, in-process and live.

Service tests talk to a fresh in-process sandbox through ``httpx.ASGITransport``;
run-time and page tests, whose HTTP clients hubsync builds itself, use one
sandbox served over loopback. ``consent`` plays the user on the sandbox's
consent page and returns what HubSpot would send to the callback.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.connectors.hubspot.sandbox.app import create_sandbox
from app.connectors.hubspot.sandbox.config import SandboxConfig
from app.connectors.hubspot.sandbox.state import SandboxState
from app.connectors.hubspot.sandbox.tokens import TokenRegistry
from app.core.settings import Settings
from app.main import create_app
from app.models import Connection
from app.sync.hubspot_oauth import CALLBACK_PATH, OAuthConfig
from tests.conftest import BASE_URL, make_settings
from tests.live_server import listening_socket, serving

CLIENT_ID = "sandbox-client-id"
CLIENT_SECRET = "sandbox-client-secret"
PORTAL_ID = SandboxConfig().portal_id
IN_PROCESS_URL = "http://sandbox.test"
_TICKET = re.compile(r'name="ticket" value="([^"]+)"')


@dataclass(frozen=True, slots=True)
class Sandbox:
    """A sandbox portal: where it answers, its run-time state, and a client to it."""

    url: str
    state: SandboxState
    http: httpx.AsyncClient

    @property
    def registry(self) -> TokenRegistry:
        """The tokens the portal has issued."""
        return self.state.tokens

    @property
    def api_requests(self) -> int:
        """How many CRM API requests the portal has answered so far."""
        return self.state.stats.requests

    def config(self, public_url: str = BASE_URL) -> OAuthConfig:
        """hubsync's HubSpot app pointing at this sandbox."""
        return OAuthConfig(
            client_id=CLIENT_ID,
            client_secret=CLIENT_SECRET,
            api_url=self.url,
            authorize_url=self.url + "/oauth/authorize",
            redirect_uri=public_url + CALLBACK_PATH,
        )

    async def revoke(self, refresh_token: str) -> None:
        """Revoke a refresh token the way an uninstall does."""
        response = await self.http.delete(f"{self.url}/oauth/v1/refresh-tokens/{refresh_token}")
        assert response.status_code == 204


@dataclass(frozen=True, slots=True)
class Callback:
    """What HubSpot sends to hubsync's callback after the consent page."""

    code: str | None
    state: str | None
    error: str | None

    @classmethod
    def from_location(cls, location: str) -> Callback:
        query = {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
        return cls(code=query.get("code"), state=query.get("state"), error=query.get("error"))

    def params(self) -> dict[str, str]:
        """The query HubSpot sends (only the parameters it set)."""
        given = {"code": self.code, "state": self.state, "error": self.error}
        return {name: value for name, value in given.items() if value is not None}


async def consent(http: httpx.AsyncClient, authorize_url: str, *, approve: bool = True) -> Callback:
    """Open the sandbox's consent page at ``authorize_url`` and approve (or deny) it."""
    page = await http.get(authorize_url)
    assert page.status_code == 200, page.text
    ticket = _TICKET.search(page.text)
    assert ticket, page.text
    decision = {"ticket": ticket.group(1), "decision": "approve" if approve else "deny"}
    answer = await http.post(urlsplit(authorize_url).path, data=decision)
    assert answer.status_code == 302, answer.text
    return Callback.from_location(answer.headers["location"])


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    """A fresh sandbox portal, in-process, reached through ``httpx.ASGITransport``."""
    app = create_sandbox(SandboxConfig(rate_limits=False))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=IN_PROCESS_URL) as http:
        yield Sandbox(url=IN_PROCESS_URL, state=app.state.sandbox, http=http)


@pytest.fixture(scope="session")
async def live_sandbox() -> AsyncIterator[Sandbox]:
    """One sandbox portal served over loopback, for clients hubsync builds on its own."""
    app = create_sandbox(SandboxConfig(rate_limits=False))
    async with serving(app, listening_socket()) as url, httpx.AsyncClient(base_url=url) as http:
        yield Sandbox(url=url, state=app.state.sandbox, http=http)


def oauth_settings(database_url: str, var_dir: Path, sandbox_url: str, **extra: object) -> Settings:
    """Test settings with the HubSpot app of the sandbox at ``sandbox_url``."""
    return make_settings(
        database_url,
        var_dir,
        hubspot_client_id=CLIENT_ID,
        hubspot_client_secret=CLIENT_SECRET,
        hubspot_api_url=sandbox_url,
        hubspot_authorize_url=sandbox_url + "/oauth/authorize",
        **extra,
    )


@pytest.fixture(scope="session")
async def oauth_web_app(
    database_url: str, tmp_path_factory: pytest.TempPathFactory, live_sandbox: Sandbox
) -> AsyncIterator[FastAPI]:
    """hubsync with a HubSpot app (the live sandbox's), on the session's database."""
    settings = oauth_settings(database_url, tmp_path_factory.mktemp("oauth"), live_sandbox.url)
    app = create_app(settings)
    yield app
    await app.state.web.engine.dispose()


@pytest.fixture
async def oauth_client(oauth_web_app: FastAPI, world: object) -> AsyncIterator[httpx.AsyncClient]:
    """A browser-like client of the OAuth-enabled app (the world is seeded first)."""
    transport = httpx.ASGITransport(app=oauth_web_app)
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as http:
        yield http


async def reloaded(db: AsyncSession, connection_id: uuid.UUID) -> Connection:
    """A connection as stored now (the test's session may hold an older copy)."""
    statement = select(Connection).where(Connection.id == connection_id)
    return (await db.execute(statement.execution_options(populate_existing=True))).scalar_one()


class FakeClock:
    """Wall time that tests move by hand (for the state's 10 minutes)."""

    def __init__(self) -> None:
        self.now = time.time()

    def time(self) -> float:
        return self.now

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds
