"""Browser-test fixtures: a live hubsync server on its own SQLite database, and one Chromium.

The server runs in a background thread with its own event loop and its own app
(and so its own database engine); the tests drive Chromium from pytest's
session loop through Playwright's async API.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.async_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Error,
    Page,
    async_playwright,
)

from app.core import migrations
from app.core.db import create_engine, create_session_factory
from app.main import create_app
from app.web import cookie_name
from tests.conftest import make_settings
from tests.databases import fresh_database, unavailable
from tests.factories import World, build_world
from tests.live_server import base_url_of, listening_socket, serving

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

# Runs in every document before the page's own scripts: keeps each CSP violation
# in window.__cspViolations and reports it to the test through an exposed binding.
CSP_LISTENER = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  const violation = {
    directive: event.violatedDirective,
    blocked: event.blockedURI,
    source: event.sourceFile,
    line: event.lineNumber,
    sample: event.sample,
  };
  window.__cspViolations.push(violation);
  window.__reportCspViolation(JSON.stringify(violation));
});
"""


@dataclass(frozen=True, slots=True)
class LiveServer:
    """A running hubsync server and the tenants and users it was seeded with."""

    base_url: str
    world: World
    session_cookie: str

    def url(self, path: str) -> str:
        """The absolute URL of ``path`` on this server."""
        return self.base_url + path


@dataclass(slots=True)
class BrowserTab:
    """One page in a fresh browser context, with everything that went wrong in it."""

    page: Page
    server: LiveServer
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    csp_violations: list[str] = field(default_factory=list)

    def problems(self) -> list[str]:
        """Every console error, uncaught exception and CSP violation seen so far."""
        return [
            *(f"console: {m}" for m in self.console_errors),
            *(f"exception: {m}" for m in self.page_errors),
            *(f"csp: {m}" for m in self.csp_violations),
        ]


async def _seed(database_url: str) -> World:
    """Build tenants A and B with their users in the database, through a throwaway engine."""
    engine = create_engine(database_url)
    try:
        async with create_session_factory(engine)() as db:
            return await build_world(db)
    finally:
        await engine.dispose()


@pytest.fixture(scope="module")
def chromium_path() -> Path:
    """Debian's Chromium; skipped when missing, but a failure under CI=true."""
    if not CHROMIUM.exists():
        unavailable(f"{CHROMIUM} is not installed")
    return CHROMIUM


@pytest.fixture(scope="module")
async def live_server(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[LiveServer]:
    """hubsync served by uvicorn on a free port, over a fresh, migrated, seeded SQLite file."""
    tmp = tmp_path_factory.mktemp("e2e")
    async with fresh_database("sqlite", tmp) as database_url:
        await asyncio.to_thread(migrations.upgrade, database_url)
        world = await _seed(database_url)
        sock = listening_socket()
        base_url = base_url_of(sock)
        settings = make_settings(database_url, tmp / "var", public_url=base_url)
        async with serving(create_app(settings), sock):
            yield LiveServer(base_url=base_url, world=world, session_cookie=cookie_name(settings))


@pytest.fixture(scope="module")
async def browser(chromium_path: Path) -> AsyncIterator[Browser]:
    """One headless Chromium for the whole module."""
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(
            executable_path=str(chromium_path), args=CHROMIUM_ARGS
        )
        try:
            yield chromium
        finally:
            await chromium.close()


@pytest.fixture
async def tab(browser: Browser, live_server: LiveServer) -> AsyncIterator[BrowserTab]:
    """A page in a fresh context (no cookies) that records console errors and CSP violations."""
    context: BrowserContext = await browser.new_context()
    context.set_default_timeout(5_000)
    try:
        page = await context.new_page()
        tab = BrowserTab(page=page, server=live_server)

        def on_console(message: ConsoleMessage) -> None:
            if message.type == "error":
                tab.console_errors.append(f"{message.text} ({message.location})")

        def on_page_error(error: Error) -> None:
            tab.page_errors.append(str(error))

        def on_csp_violation(violation: str) -> None:
            tab.csp_violations.append(violation)

        page.on("console", on_console)
        page.on("pageerror", on_page_error)
        await page.expose_function("__reportCspViolation", on_csp_violation)
        await page.add_init_script(CSP_LISTENER)
        yield tab
    finally:
        await context.close()
