"""hubsync served over loopback with the sandbox app's client secret, and senders for it."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.actor import Actor
from app.connectors.hubspot.sandbox.config import SandboxConfig
from app.connectors.hubspot.sandbox.webhooks import WebhookDispatcher, WebhookSettings
from app.core.settings import Settings
from app.main import create_app
from app.models import Connection, Interface
from app.models.base import utcnow
from app.models.enums import InterfaceState
from app.sync.apply import apply_interface_file
from app.sync.versions import approve_version
from app.web import WebState
from tests.conftest import make_settings
from tests.live_server import base_url_of, listening_socket, serving
from tests.webhooks.kit import PATH

SANDBOX = SandboxConfig()  # the app id, portal id and client secret every sandbox signs with


@dataclass(frozen=True, slots=True)
class LiveHubsync:
    """A running hubsync: where HubSpot sends webhooks to."""

    base_url: str

    @property
    def webhook_url(self) -> str:
        """The target URL to configure in the HubSpot app."""
        return self.base_url + PATH


@asynccontextmanager
async def live_hubsync(settings: Settings, **overrides: object) -> AsyncIterator[LiveHubsync]:
    """hubsync on a free loopback port, on the test database, its public URL that port's."""
    sock = listening_socket()
    base_url = base_url_of(sock)
    app = create_app(make_settings(
        settings.database_url, settings.var_dir, public_url=base_url,
        hubspot_client_secret=SANDBOX.oauth_client_secret, hubspot_app_id=SANDBOX.app_id,
        **overrides,
    ))  # fmt: skip
    async with serving(app, sock):
        yield LiveHubsync(base_url)


class Recording(httpx.AsyncBaseTransport):
    """Passes requests on over HTTP, keeping each one as sent (to replay it later)."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.sent: list[httpx.Request] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.sent.append(request)
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


def sandbox_dispatcher(
    target_url: str,
    *,
    secret: str = SANDBOX.oauth_client_secret,
    clock: Callable[[], float] = time.time,
    transport: httpx.AsyncBaseTransport | None = None,
) -> WebhookDispatcher:
    """The sandbox's dispatcher for one app subscribed to company name changes, no retries."""
    hooks = WebhookSettings(app_id=SANDBOX.app_id, client_secret=secret)
    hooks.configure(target_url, 10)
    hooks.subscribe("company.propertyChange", property_name="name", active=True)
    return WebhookDispatcher(hooks, portal_id=SANDBOX.portal_id, max_retries=0, clock=clock,
                             transport=transport)  # fmt: skip


async def eventually(check: Callable[[], Awaitable[bool]], timeout_s: float = 20.0) -> None:
    """Wait until ``check`` holds (the worker acts on its own schedule), or fail."""
    deadline = time.monotonic() + timeout_s
    while not await check():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.1)


async def webhook_interface(db: AsyncSession, web: WebState, text: str) -> uuid.UUID:
    """Apply and approve an interface file, and make the interface active on the sandbox's
    portal (its id stored as OAuth stores it) with its next scheduled run a day away: only
    webhooks start its runs."""
    operator = Actor.system("test")
    applied = await apply_interface_file(
        db, actor=operator, box=web.secret_box, text=text, environ={}
    )
    await approve_version(db, actor=operator, version_id=applied.version.id)
    interface = await db.get(Interface, applied.interface.id)
    hubspot = await db.get(Connection, applied.interface.hubspot_connection_id)
    assert interface is not None
    assert hubspot is not None
    hubspot.config = {**hubspot.config, "portal_id": SANDBOX.portal_id}
    interface.state = InterfaceState.active
    interface.next_run_at = utcnow() + timedelta(days=1)
    await db.commit()
    return interface.id
