"""Error pages under /ui: in the layout, German by default (English with the switch), a way back.

404, 403, 405, 409/422, 500 and a refused CSRF token; htmx requests get the same
words as a toast; the API keeps its JSON errors.
"""

from __future__ import annotations

import re

import httpx
import pytest
from fastapi import FastAPI

from app.sync import runs
from tests.conftest import BASE_URL
from tests.factories import World
from tests.ui.test_history import PARTIAL
from tests.ui_session import sign_in

NAVIGATION = 'aria-label="Hauptnavigation"'
H1 = re.compile(r'<h1 id="error-title">(.*?) <small class="muted">\((.*?)\)</small></h1>')


def heading(html: str) -> tuple[str, str]:
    """The error page's title and its "Fehler 404" note."""
    found = H1.search(html)
    assert found, html
    return found.group(1), found.group(2)


async def test_not_found_is_german_in_the_layout_with_ways_back(
    client: httpx.AsyncClient, world: World
) -> None:
    await sign_in(client, world.a.admin.email)
    came_from = f"{BASE_URL}/ui/runs?status=failed"
    response = await client.get("/ui/does-not-exist", headers={"Referer": came_from})
    assert response.status_code == 404
    assert heading(response.text) == ("Seite nicht gefunden", "Fehler 404")
    assert NAVIGATION in response.text
    assert world.a.admin.email in response.text
    assert '<html lang="de-CH"' in response.text
    assert "Not Found" not in response.text  # HTTP's own phrase says nothing more
    assert '<a href="/ui/runs?status=failed">Zurück zur vorherigen Seite</a>' in response.text
    assert '<a href="/ui/">Zurück zur Übersicht</a>' in response.text


async def test_another_tenants_object_is_a_german_404_with_the_systems_words_marked_english(
    client: httpx.AsyncClient, world: World
) -> None:
    await sign_in(client, world.b.admin.email)
    response = await client.get(f"/ui/interfaces/{world.a.interface.id}")
    assert response.status_code == 404
    assert heading(response.text)[0] == "Seite nicht gefunden"
    assert "gehört nicht zu Ihrem Mandanten" in response.text
    assert 'Meldung des Systems: <code lang="en">' in response.text
    assert world.a.interface.name not in response.text


async def test_english_with_the_language_switch(client: httpx.AsyncClient, world: World) -> None:
    await sign_in(client, world.a.admin.email)
    client.cookies.set("hubsync_lang", "en")
    response = await client.get("/ui/does-not-exist")
    assert heading(response.text) == ("Page not found", "error 404")
    assert '<html lang="en"' in response.text
    assert 'name="lang" value="de"' in response.text  # the switch back is on the page


async def test_a_referer_of_another_site_is_no_way_back(
    client: httpx.AsyncClient, world: World
) -> None:
    await sign_in(client, world.a.admin.email)
    for referer in ("https://evil.example.com/ui/runs", f"{BASE_URL}/api/v1/runs"):
        response = await client.get("/ui/does-not-exist", headers={"Referer": referer})
        assert "Zurück zur vorherigen Seite" not in response.text, referer
        assert "evil.example.com" not in response.text


async def test_forbidden_for_a_viewer(client: httpx.AsyncClient, world: World) -> None:
    token = await sign_in(client, world.a.viewer.email)
    response = await client.post(
        f"/ui/interfaces/{world.a.interface.id}/pause", data={"csrf_token": token}
    )
    assert response.status_code == 403
    assert heading(response.text) == ("Nicht erlaubt", "Fehler 403")
    assert "Ihre Rolle darf das nicht." in response.text
    assert NAVIGATION in response.text


async def test_a_refused_csrf_token_says_so_in_german(
    client: httpx.AsyncClient, world: World
) -> None:
    await sign_in(client, world.a.admin.email)
    url = f"/ui/interfaces/{world.a.interface.id}/pause"
    response = await client.post(url, data={"csrf_token": "forged"})
    assert response.status_code == 403
    assert heading(response.text)[0] == "Nicht erlaubt"
    assert "Das Formular ist abgelaufen oder stammt nicht von dieser Website" in response.text
    assert "the form has expired" not in response.text.lower()
    toast = await client.post(url, data={"csrf_token": "forged"}, headers=PARTIAL)
    assert toast.headers["HX-Retarget"] == "#toasts"
    assert "Das Formular ist abgelaufen" in toast.text
    assert "<html" not in toast.text


async def test_method_not_allowed(client: httpx.AsyncClient, world: World) -> None:
    await sign_in(client, world.a.admin.email)
    response = await client.put("/ui/")  # the route only answers GET
    assert response.status_code == 405
    assert heading(response.text) == ("Hier nicht möglich", "Fehler 405")
    assert "Method Not Allowed" not in response.text
    assert NAVIGATION in response.text


async def test_unexpected_error_page_is_german_with_time_and_no_internals(
    web_app: FastAPI, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("secret internal detail /srv/hubsync/app.py")

    transport = httpx.ASGITransport(app=web_app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client:
        await sign_in(client, world.a.admin.email)
        monkeypatch.setattr(runs, "get_item", broken)
        page = await client.get(f"/ui/errors/items/{world.a.item.id}")
    assert page.status_code == 500
    assert heading(page.text) == ("Etwas ist schiefgelaufen", "Fehler 500")
    assert re.search(r"Zeitpunkt: <time datetime=\"[^\"]+\">\d\d\.\d\d\.\d{4} ", page.text)
    assert "secret internal detail" not in page.text
    assert "internal error" not in page.text
    assert NAVIGATION in page.text


async def test_signed_out_error_page_has_no_navigation(client: httpx.AsyncClient) -> None:
    response = await client.get("/ui/does-not-exist")
    assert response.status_code == 404
    assert heading(response.text)[0] == "Seite nicht gefunden"
    assert NAVIGATION not in response.text
    assert '<a href="/ui/">Zurück zur Übersicht</a>' in response.text


async def test_the_api_keeps_json_errors(client: httpx.AsyncClient, world: World) -> None:
    missing = await client.get("/api/v1/does-not-exist")
    assert missing.status_code == 404
    assert missing.json() == {"detail": "Not Found"}
    headers = {"Authorization": f"Bearer {world.a.admin_token}"}
    other = await client.get(f"/api/v1/interfaces/{world.b.interface.id}", headers=headers)
    assert other.status_code == 404
    assert other.headers["content-type"].startswith("application/json")
