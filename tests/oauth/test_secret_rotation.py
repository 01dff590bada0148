"""A rotated client secret: OAuth connections refresh with the settings' app, not their copy.

A connection keeps the app's credentials from the day it was connected. After the
secret is rotated in HubSpot (and in ``HUBSYNC_HUBSPOT_CLIENT_SECRET``), a refresh
with the stored secret would be refused and the connection marked revoked; with the
settings' app passed in, the refresh uses the new secret — for connections of that
app only: a connection made through another client id keeps its own credentials.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from app.api.deps import actor_for
from app.connectors.hubspot.errors import RefreshFailed
from app.connectors.hubspot.sandbox.app import create_sandbox
from app.connectors.hubspot.sandbox.config import SandboxConfig
from app.models import Interface
from app.sync.hubspot_oauth import OAuthConfig
from app.sync.hubspot_oauth.stored import APP
from app.sync.running import hubspot_access
from app.sync.webhooks.custom_types import HubSpotSchemas
from app.sync.webhooks.worker import WebhookWorker
from app.web import WebState, build_scheduler
from tests.factories import World
from tests.live_server import listening_socket, serving
from tests.oauth.conftest import CLIENT_SECRET, Sandbox
from tests.oauth.test_runtime import connect, current

ROTATED = "rotated-client-secret"


@pytest.fixture
async def own_sandbox() -> AsyncIterator[Sandbox]:
    """A sandbox portal of this test alone, served over loopback (its secret gets rotated)."""
    app = create_sandbox(SandboxConfig(rate_limits=False))
    async with serving(app, listening_socket()) as url, httpx.AsyncClient(base_url=url) as http:
        yield Sandbox(url=url, state=app.state.sandbox, http=http)


async def refresh(db: AsyncSession, web: WebState, world: World, app: OAuthConfig) -> None:
    """One HubSpot call of tenant A's interface after its access token expired, with ``app``
    as the settings' HubSpot app."""
    interface = await db.get(Interface, world.a.interface.id)
    assert interface is not None
    access = await hubspot_access(
        db, actor=actor_for(world.a.admin), box=web.secret_box, interface=interface, oauth_app=app
    )
    async with access.client() as client:
        await client.properties.list("companies")


async def test_a_rotated_secret_in_the_settings_refreshes_an_old_connection(
    db: AsyncSession, web: WebState, own_sandbox: Sandbox, world: World
) -> None:
    await connect(db, web, own_sandbox, world)
    _row, before = await current(db, web, world)
    assert before[APP]["client_secret"] == CLIENT_SECRET  # type: ignore[index]
    own_sandbox.registry.client_secret = ROTATED  # rotated in HubSpot…
    own_sandbox.registry.expire_access_tokens()
    settings_app = replace(own_sandbox.config(), client_secret=ROTATED)  # …and in the settings
    await refresh(db, web, world, settings_app)
    row, after = await current(db, web, world)
    assert after["access_token"] != before["access_token"]
    assert own_sandbox.registry.authenticate(str(after["access_token"])) is not None
    assert "revoked_at" not in row.config


async def test_a_connection_of_another_client_id_keeps_its_own_credentials(
    db: AsyncSession, web: WebState, own_sandbox: Sandbox, world: World
) -> None:
    await connect(db, web, own_sandbox, world)
    _row, before = await current(db, web, world)
    own_sandbox.registry.expire_access_tokens()
    other_app = replace(own_sandbox.config(), client_id="another-app", client_secret=ROTATED)
    await refresh(db, web, world, other_app)  # the stored (still valid) secret is used
    row, after = await current(db, web, world)
    assert after["access_token"] != before["access_token"]
    assert "revoked_at" not in row.config


async def test_without_the_settings_app_the_stored_secret_is_refused_after_rotation(
    db: AsyncSession, web: WebState, own_sandbox: Sandbox, world: World
) -> None:
    await connect(db, web, own_sandbox, world)
    own_sandbox.registry.client_secret = ROTATED
    own_sandbox.registry.expire_access_tokens()
    interface = await db.get(Interface, world.a.interface.id)
    assert interface is not None
    access = await hubspot_access(
        db, actor=actor_for(world.a.admin), box=web.secret_box, interface=interface
    )
    with pytest.raises(RefreshFailed):
        async with access.client() as client:
            await client.properties.list("companies")
    row, _after = await current(db, web, world)
    assert row.config["revoked_at"]  # what reconnecting every portal used to be needed for


def test_a_serve_process_hands_the_settings_app_to_runs_and_webhooks(
    oauth_web_app: FastAPI,
) -> None:
    web: WebState = oauth_web_app.state.web
    expected = OAuthConfig.from_settings(web.settings)
    assert expected is not None
    assert web.executor.oauth_app == expected  # scheduled, manual, retry and webhook runs
    job, _seconds = build_scheduler(web).jobs["webhooks"]
    worker = getattr(job, "__self__", None)
    assert isinstance(worker, WebhookWorker)
    lookup = worker.custom_types.lookup
    assert isinstance(lookup, HubSpotSchemas)
    assert lookup.oauth_app == expected  # the worker's schema lookups
