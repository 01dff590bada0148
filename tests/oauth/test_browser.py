"""Connect HubSpot in a real browser: sign in, connect, approve on the sandbox, come back."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator

import pytest
from playwright.async_api import expect

from app.core import migrations
from app.core.db import create_engine, create_session_factory
from app.main import create_app
from app.web import cookie_name
from tests.databases import fresh_database
from tests.e2e.conftest import BrowserTab, LiveServer, browser, chromium_path, tab
from tests.e2e.test_browser import path_is, sign_in
from tests.factories import build_world
from tests.live_server import base_url_of, listening_socket, serving
from tests.oauth.conftest import PORTAL_ID, Sandbox, oauth_settings

__all__ = ["browser", "chromium_path", "tab"]  # fixtures used by name


@pytest.fixture(scope="module")
async def live_server(
    tmp_path_factory: pytest.TempPathFactory, live_sandbox: Sandbox
) -> AsyncIterator[LiveServer]:
    """hubsync over loopback with the live sandbox as its HubSpot (overrides the e2e one)."""
    tmp = tmp_path_factory.mktemp("oauth-e2e")
    async with fresh_database("sqlite", tmp) as database_url:
        await asyncio.to_thread(migrations.upgrade, database_url)
        engine = create_engine(database_url)
        async with create_session_factory(engine)() as db:
            world = await build_world(db)
        await engine.dispose()
        sock = listening_socket()
        base_url = base_url_of(sock)
        settings = oauth_settings(database_url, tmp / "var", live_sandbox.url, public_url=base_url)
        async with serving(create_app(settings), sock):
            yield LiveServer(base_url=base_url, world=world, session_cookie=cookie_name(settings))


async def test_connect_hubspot_through_the_sandbox_consent_page(
    tab: BrowserTab, live_sandbox: Sandbox
) -> None:
    page = await sign_in(tab)
    hubspot_page = f"/ui/connections/{tab.server.world.a.hubspot.id}/hubspot"
    await page.goto(tab.server.url(hubspot_page))
    await expect(page.locator("main h1")).to_contain_text("HubSpot-Zugriff")
    await expect(page.get_by_text("Nicht mit HubSpot verbunden")).to_be_visible()

    await page.get_by_role("button", name="HubSpot verbinden").click()
    await expect(page).to_have_url(re.compile(re.escape(live_sandbox.url + "/oauth/authorize?")))
    await expect(page.get_by_role("heading", level=1)).to_contain_text(str(PORTAL_ID))
    await expect(page.get_by_text("crm.objects.companies.write")).to_be_visible()

    await page.get_by_role("button", name="Approve").click()
    await expect(page).to_have_url(path_is(hubspot_page + "?notice=connected"))
    await expect(page.locator("#portal-id")).to_have_text(str(PORTAL_ID))
    await expect(page.get_by_role("status").first).to_have_text("HubSpot ist verbunden.")
    await expect(page.get_by_text("Über OAuth verbunden")).to_be_visible()
    await expect(page.get_by_role("button", name="HubSpot neu verbinden")).to_be_visible()
    assert tab.problems() == []
