"""Fixtures and helpers for the browser journeys: an ERP in PostgreSQL, a sandbox portal, hubsync.

The ERP is a fresh PostgreSQL database read by the sql connector; the HubSpot
side is the sandbox served over loopback; hubsync serves over its own database
(SQLite like the other browser tests, or PostgreSQL with
``HUBSYNC_E2E_BACKEND=postgresql``), seeded with ``build_world``'s tenants and one
applied, approved interface of tenant A between the two. One ERP row carries a
value HubSpot refuses, so the first run leaves a failure to find, fix and retry.
The module-scoped ``live_server`` here replaces the conftest's, so the conftest's
``tab`` opens this server's pages.
"""

from __future__ import annotations

import asyncio
import os
import re
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import Dialog, Locator, Page, Response, expect
from sqlalchemy import create_engine as create_sync_engine
from sqlalchemy import text
from sqlalchemy.engine import make_url

from app.auth.actor import Actor
from app.connectors.hubspot.sandbox.app import create_sandbox
from app.connectors.hubspot.sandbox.config import SandboxConfig
from app.core import migrations
from app.core.db import create_engine, create_session_factory
from app.core.secrets_box import SecretBox
from app.main import create_app
from app.sync import runs
from app.sync.apply import apply_interface_file
from app.sync.versions import approve_version
from app.web import cookie_name
from tests.conftest import make_settings
from tests.databases import BACKENDS, fresh_database
from tests.e2e.conftest import BrowserTab, LiveServer
from tests.factories import PASSWORD, World, build_world
from tests.live_server import base_url_of, listening_socket, serving

TOKEN = "journey-token"  # the sandbox portal's private-app token
INTERFACE_NAME = "erp-firmen"
BAD_KEY, BAD_STAGE = "10003", "Kunde"  # the ERP's word; HubSpot's lifecyclestage says customer
STAGE_FIELD = "{source: stage, hubspot: lifecyclestage}"
# The fix the error log advises for this cause: translate the value in the mapping.
FIXED_STAGE_FIELD = (
    "{source: stage, hubspot: lifecyclestage, "
    "transform: {map: {Kunde: customer}, keep_unmapped: true}}"
)
INTERFACE = """\
tenant: {tenant}
name: {name}
interval_minutes: 15
source:
  connector: sql
  config:
    url: "{erp_url}"
    objects: {{customers: {{table: customers, key: [customer_no], cursor: updated_at}}}}
hubspot:
  base_url: {sandbox_url}
  access_token: {token}
mapping:
  objects:
    - name: companies
      source: {{object: customers, key: customer_no, updated: updated_at}}
      hubspot: {{object: companies, match: erp_customer_no}}
      fields:
        - {{source: customer_no, hubspot: erp_customer_no}}
        - {{source: name, hubspot: name, transform: trim}}
        - {{source: city, hubspot: city}}
        - {stage_field}
"""
CUSTOMERS = [
    ("10001", " Muster AG ", "Zürich", "customer"),
    ("10002", "Beispiel GmbH", "Bern", "lead"),
    (BAD_KEY, "Müller & Söhne AG", "Genève", BAD_STAGE),
]
ARTIFACTS_ENV = "HUBSYNC_TEST_ARTIFACTS"
BACKEND_ENV = "HUBSYNC_E2E_BACKEND"
# Chromium logs every 4xx answer as a console error; these are the refusals the journeys
# provoke on purpose (an interval out of range, a viewer's POST, another tenant's ids).
EXPECTED_REFUSALS = re.compile(r"Failed to load resource: .* status of (403|404|422)\b")
ACTION_BUTTONS = (  # every control that changes something, named as an admin sees it
    "Jetzt synchronisieren",
    "Probelauf",
    "Aktivieren",
    "Pausieren",
    "Fortsetzen",
    "Intervall speichern",
    "Freigeben",
    "Alle erneut versuchen",
    "Alle als behoben markieren",
    "Erneut versuchen",
    "Als behoben markieren",
)
RUN_TIMEOUT_MS = 20_000  # a run against a slowed-down portal, on a loaded machine
Shoot = Callable[[Page, str], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Journey:
    """The live server, what it was seeded with, and the systems its interface connects."""

    server: LiveServer
    database_url: str
    erp_url: str
    sandbox_url: str
    interface_id: uuid.UUID
    secret_box: SecretBox

    @property
    def world(self) -> World:
        """Tenants A and B, their users, and the operator."""
        return self.server.world

    def interface_text(self, stage_field: str = STAGE_FIELD) -> str:
        """The interface file of tenant A's ERP interface, with the given stage mapping."""
        return interface_text(self.world.a.tenant.slug, self.erp_url, self.sandbox_url, stage_field)

    async def apply(self, stage_field: str) -> int:
        """Apply the interface file as the integrator does; the new version's number."""
        _interface, number = await apply_interface(
            self.database_url, self.secret_box, self.interface_text(stage_field)
        )
        return number


def interface_text(tenant: str, erp_url: str, sandbox_url: str, stage_field: str) -> str:
    """An interface file between the ERP and the sandbox portal."""
    return INTERFACE.format(
        tenant=tenant, name=INTERFACE_NAME, erp_url=erp_url, sandbox_url=sandbox_url,
        token=TOKEN, stage_field=stage_field,
    )  # fmt: skip


async def apply_interface(
    database_url: str, box: SecretBox, file_text: str, *, approve: bool = False
) -> tuple[uuid.UUID, int]:
    """Apply an interface file (and approve its newest version); interface id, version number."""
    engine = create_engine(database_url)
    try:
        async with create_session_factory(engine)() as db:
            actor = Actor.system("journey")
            result = await apply_interface_file(db, actor=actor, box=box, text=file_text,
                                                environ={})  # fmt: skip
            if approve and result.version.approved_at is None:
                await approve_version(db, actor=actor, version_id=result.version.id)
            await db.commit()
            return result.interface.id, result.version.number
    finally:
        await engine.dispose()


def artifacts_dir() -> Path:
    """Where screenshots go: ``$HUBSYNC_TEST_ARTIFACTS``, else ``test-artifacts/screenshots``."""
    configured = os.environ.get(ARTIFACTS_ENV)
    root = Path(__file__).resolve().parents[2]
    path = Path(configured) if configured else root / "test-artifacts" / "screenshots"
    path.mkdir(parents=True, exist_ok=True)
    return path


async def _seed(database_url: str) -> World:
    engine = create_engine(database_url)
    try:
        async with create_session_factory(engine)() as db:
            return await build_world(db)
    finally:
        await engine.dispose()


def _erp_write(erp_url: str, statement: str, rows: list[dict[str, Any]]) -> None:
    engine = create_sync_engine(erp_url)
    try:
        with engine.begin() as connection:
            connection.execute(text(statement), rows or None)
    finally:
        engine.dispose()


async def save_customer(erp_url: str, key: str, name: str, stage: str) -> None:
    """Add or change an ERP customer, stamped now (so the next run reads it)."""
    statement = (
        "INSERT INTO customers (customer_no, name, city, stage, updated_at) "
        "VALUES (:no, :name, 'Chur', :stage, now()) ON CONFLICT (customer_no) "
        "DO UPDATE SET name = :name, stage = :stage, updated_at = now()"
    )
    rows = [{"no": key, "name": name, "stage": stage}]
    await asyncio.to_thread(_erp_write, erp_url, statement, rows)


@pytest.fixture(scope="module")
async def erp_database(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[str]:
    """The ERP: a fresh PostgreSQL database with three customers (one with a bad stage)."""
    async with fresh_database("postgresql", tmp_path_factory.mktemp("erp")) as url:
        erp_url = make_url(url).set(drivername="postgresql+psycopg")
        rendered = erp_url.render_as_string(hide_password=False)
        table = (
            "CREATE TABLE customers (customer_no varchar(20) PRIMARY KEY, name text, "
            "city text, stage text, updated_at timestamptz NOT NULL DEFAULT now())"
        )
        await asyncio.to_thread(_erp_write, rendered, table, [])
        insert = (
            "INSERT INTO customers (customer_no, name, city, stage, updated_at) "
            "VALUES (:no, :name, :city, :stage, :t)"
        )
        stamp = datetime(2026, 1, 5, tzinfo=UTC)
        rows = [
            {"no": no, "name": name, "city": city, "stage": stage, "t": stamp}
            for no, name, city, stage in CUSTOMERS
        ]
        await asyncio.to_thread(_erp_write, rendered, insert, rows)
        yield rendered


def portal_api(base_url: str) -> httpx.AsyncClient:
    """A client for the sandbox portal's API and its ``/_sandbox`` control routes."""
    headers = {"Authorization": f"Bearer {TOKEN}"}
    return httpx.AsyncClient(base_url=base_url, headers=headers, timeout=10)


@pytest.fixture(scope="module")
async def sandbox_portal() -> AsyncIterator[str]:
    """The sandbox portal over loopback, with the unique match property the ERP key needs."""
    app = create_sandbox(SandboxConfig(private_tokens=[TOKEN], rate_limits=False))
    async with serving(app, listening_socket()) as base_url:
        async with portal_api(base_url) as api:
            group = {"name": "erp", "label": "ERP"}
            await api.post("/crm/v3/properties/companies/groups", json=group)
            created = await api.post(
                "/crm/v3/properties/companies",
                json={"name": "erp_customer_no", "label": "ERP-Nr.", "type": "string",
                      "fieldType": "text", "groupName": "erp", "hasUniqueValue": True},
            )  # fmt: skip
            assert created.status_code == 201, created.text
        yield base_url


async def set_faults(sandbox_url: str, **faults: float) -> None:
    """Change the sandbox's injected faults (``latency_ms``, ``record_failure_rate`` …)."""
    async with portal_api(sandbox_url) as api:
        response = await api.put("/_sandbox/faults", json=faults)
    assert response.status_code == 200, response.text


async def portal_companies(sandbox_url: str) -> dict[str, dict[str, str]]:
    """The portal's companies by ERP number, with the properties the mapping sends."""
    properties = "erp_customer_no,name,city,lifecyclestage"
    async with portal_api(sandbox_url) as api:
        response = await api.get(
            "/crm/v3/objects/companies", params={"limit": 100, "properties": properties}
        )
    found = response.json()["results"]
    return {r["properties"]["erp_customer_no"]: r["properties"] for r in found}


async def open_error_groups(database_url: str, interface_id: uuid.UUID) -> list[str]:
    """The ids of an interface's open error groups (as an operator sees them)."""
    engine = create_engine(database_url)
    try:
        async with create_session_factory(engine)() as db:
            wanted = runs.FailureFilter(interface_id=interface_id)
            listing = await runs.list_error_groups(
                db, actor=Actor.system("journey"), filters=wanted
            )
            return [group.id for group in listing.groups]
    finally:
        await engine.dispose()


@pytest.fixture(scope="module")
async def journey(
    tmp_path_factory: pytest.TempPathFactory, erp_database: str, sandbox_portal: str
) -> AsyncIterator[Journey]:
    """hubsync on loopback over a fresh, seeded database, with tenant A's ERP interface."""
    backend = os.environ.get(BACKEND_ENV, "sqlite")
    assert backend in BACKENDS, f"{BACKEND_ENV} must be one of {BACKENDS}"
    tmp = tmp_path_factory.mktemp("journey")
    async with fresh_database(backend, tmp) as database_url:
        await asyncio.to_thread(migrations.upgrade, database_url)
        world = await _seed(database_url)
        sock = listening_socket()
        base_url = base_url_of(sock)
        settings = make_settings(database_url, tmp / "var", public_url=base_url)
        box = SecretBox(settings.secret_keys)
        file_text = interface_text(world.a.tenant.slug, erp_database, sandbox_portal, STAGE_FIELD)
        interface_id, _ = await apply_interface(database_url, box, file_text, approve=True)
        async with serving(create_app(settings), sock):
            cookie = cookie_name(settings)
            server = LiveServer(base_url=base_url, world=world, session_cookie=cookie)
            yield Journey(server, database_url, erp_database, sandbox_portal, interface_id, box)


@pytest.fixture(scope="module")
def live_server(journey: Journey) -> LiveServer:
    """The journey's server: the conftest's ``tab`` opens its pages."""
    return journey.server


@pytest.fixture(scope="module")
def screenshots() -> Shoot:
    """Save a full-page PNG of a page as a test artifact."""
    directory = artifacts_dir()

    async def shoot(page: Page, name: str) -> None:
        await page.screenshot(path=str(directory / f"{name}.png"), full_page=True)

    return shoot


def unexpected_problems(tab: BrowserTab) -> list[str]:
    """Console errors, exceptions and CSP violations, without the refusals provoked on purpose."""
    return [p for p in tab.problems() if not EXPECTED_REFUSALS.search(p)]


async def sign_in_as(tab: BrowserTab, email: str) -> Page:
    """Sign in through the login form, wait for the Übersicht, confirm every question."""
    page = tab.page

    async def accept(dialog: Dialog) -> None:  # hx-confirm; Playwright would dismiss it
        await dialog.accept()

    page.on("dialog", accept)
    await page.goto(tab.server.url("/ui/login"))
    await page.get_by_label("E-Mail").fill(email)
    await page.get_by_label("Passwort").fill(PASSWORD)
    await page.get_by_role("button", name="Anmelden").click()
    await expect(page.locator("main h1")).to_have_text("Übersicht")
    return page


async def csrf_post(page: Page, path: str, form: dict[str, str] | None = None) -> int:
    """POST from inside the page as its own script would (same origin, session, CSRF token)."""
    status: int = await page.evaluate(
        """async ([path, form]) => {
          const token = document.querySelector('meta[name="csrf-token"]').content;
          const response = await fetch(path, {
            method: "POST", body: new URLSearchParams(form),
            headers: {"X-CSRF-Token": token, "HX-Request": "true"},
          });
          return response.status;
        }""",
        [path, form or {}],
    )
    return status


async def tab_until_focused(page: Page, target: Locator, *, presses: int = 80) -> int:
    """Press Tab until ``target`` has the focus; how many presses it took (fails if never)."""
    for count in range(1, presses + 1):
        await page.keyboard.press("Tab")
        if await target.evaluate("element => element === document.activeElement"):
            return count
    pytest.fail(f"{target} was not reached with {presses} Tab presses")


def answer_to(path_end: str) -> Callable[[Response], bool]:
    """A predicate for the response to a request whose path ends with ``path_end``."""
    return lambda response: response.url.split("?")[0].endswith(path_end)


def table(page: Page, caption: str) -> Locator:
    """The table named by its caption."""
    return page.get_by_role("table", name=caption)


def row_of(scope: Locator, page: Page, header: str) -> Locator:
    """The row of ``scope`` whose row header is ``header``."""
    return scope.get_by_role("row").filter(has=page.get_by_role("rowheader", name=header))


async def no_action_controls(page: Page) -> None:
    """None of the buttons that change something is on the page."""
    for name in ACTION_BUTTONS:
        await expect(page.get_by_role("button", name=name)).to_have_count(0)


async def run_now_and_wait(page: Page) -> None:
    """Press "Jetzt synchronisieren" on an interface page and wait until that run finished."""
    panel = page.locator("#run-panel")
    shown = panel.get_by_role("link", name="Lauf anzeigen")
    before = await shown.get_attribute("href") if await shown.count() else None
    await page.get_by_role("button", name="Jetzt synchronisieren").click()
    if before is not None:  # the panel links the new run once it finished
        shown = shown.and_(panel.locator(f'a:not([href="{before}"])'))
    await expect(shown).to_be_visible(timeout=RUN_TIMEOUT_MS)
