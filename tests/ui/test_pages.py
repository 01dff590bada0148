"""The web shell: navigation pages render for signed-in users, in German, escaped."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Interface
from tests.factories import World
from tests.ui_session import sign_in

PAGES = {
    "/ui/": "Übersicht",
    "/ui/interfaces": "Schnittstellen",
    "/ui/runs": "Synchronisationsverlauf",
    "/ui/errors": "Fehlerprotokoll",
}
CANARY = '"><script>alert(1)</script><img src=x onerror=alert(1)><b hx-get="/x">'


@pytest.mark.parametrize(("path", "heading"), PAGES.items())
async def test_page_renders_with_navigation(
    client: httpx.AsyncClient, world: World, path: str, heading: str
) -> None:
    await sign_in(client, world.a.admin.email)
    response = await client.get(path)
    assert response.status_code == 200
    assert f"<h1>{heading}</h1>" in response.text
    assert '<html lang="de-CH"' in response.text
    for other in PAGES:
        assert f'href="{other}"' in response.text
    assert 'aria-current="page"' in response.text
    assert 'name="csrf-token"' in response.text


async def test_pages_show_only_own_tenant(client: httpx.AsyncClient, world: World) -> None:
    await sign_in(client, world.b.viewer.email)
    for path in ("/ui/", "/ui/interfaces", "/ui/runs", "/ui/errors"):
        text = (await client.get(path)).text
        assert "tenant-b-companies" in text
        assert "tenant-a-companies" not in text


async def test_error_log_lists_open_failures(client: httpx.AsyncClient, world: World) -> None:
    await sign_in(client, world.a.admin.email)
    text = (await client.get("/ui/errors")).text
    assert "Property values were not valid" in text
    assert "K-1" in text


async def test_empty_states(client: httpx.AsyncClient, world: World, db: AsyncSession) -> None:
    await sign_in(client, world.operator.email)
    await db.delete(await db.get(Interface, world.a.interface.id))
    await db.delete(await db.get(Interface, world.b.interface.id))
    await db.commit()
    assert "Noch keine Schnittstellen" in (await client.get("/ui/")).text
    assert "Noch keine Läufe." in (await client.get("/ui/runs")).text
    assert "Keine offenen Fehler." in (await client.get("/ui/errors")).text


async def test_third_party_text_is_escaped(
    client: httpx.AsyncClient, world: World, db: AsyncSession
) -> None:
    interface = await db.get(Interface, world.a.interface.id)
    assert interface is not None
    interface.name = CANARY
    interface.health_reason = CANARY
    await db.commit()
    await sign_in(client, world.a.admin.email)
    for path in PAGES:
        text = (await client.get(path)).text
        assert "<script>alert(1)</script>" not in text
        assert "onerror=alert(1)><b" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in (await client.get("/ui/")).text


async def test_english_when_chosen(client: httpx.AsyncClient, world: World) -> None:
    await sign_in(client, world.a.admin.email)
    client.cookies.set("hubsync_lang", "en")
    response = await client.get("/ui/")
    assert "<h1>Dashboard</h1>" in response.text
    assert '<html lang="en"' in response.text


async def test_root_redirects_to_the_ui(client: httpx.AsyncClient) -> None:
    response = await client.get("/")
    assert response.status_code == 307
    assert response.headers["location"] == "/ui/"


async def test_unknown_ui_path_gets_the_html_error_page(
    client: httpx.AsyncClient, world: World
) -> None:
    await sign_in(client, world.a.admin.email)
    response = await client.get("/ui/does-not-exist")
    assert response.status_code == 404
    assert "text/html" in response.headers["content-type"]
    assert "Seite nicht gefunden" in response.text  # more in tests/ui/test_error_pages.py
    api = await client.get("/api/v1/does-not-exist")
    assert api.status_code == 404
    assert api.json() == {"detail": "Not Found"}


async def test_dashboard_shows_health_and_next_run(client: httpx.AsyncClient, world: World) -> None:
    await sign_in(client, world.a.admin.email)
    text = (await client.get("/ui/")).text
    assert 'data-status="warning"' in text
    assert "1 record failed in the last run" in text
    assert "<time datetime=" in text
