"""Protective headers on every page, anonymous and signed in; no stack traces leak."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from tests.conftest import BASE_URL
from tests.factories import World
from tests.routes import ui_operations
from tests.ui_session import sign_in

EXPECTED = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "cross-origin-opener-policy": "same-origin",
}


def check_headers(response: httpx.Response) -> None:
    for name, value in EXPECTED.items():
        assert response.headers.get(name) == value, (response.url, name)
    csp = response.headers["content-security-policy"]
    assert "default-src 'none'" in csp
    assert "frame-ancestors 'none'" in csp
    if response.url.path != "/docs":
        assert "unsafe" not in csp
    assert response.headers.get("x-request-id")
    if "text/html" in response.headers.get("content-type", ""):
        assert "charset=utf-8" in response.headers["content-type"]


async def test_headers_on_anonymous_pages(client: httpx.AsyncClient) -> None:
    for path in ("/ui/login", "/healthz", "/readyz", "/ui/", "/docs", "/openapi.json"):
        check_headers(await client.get(path))


async def test_headers_on_signed_in_pages(client: httpx.AsyncClient, world: World) -> None:
    await sign_in(client, world.a.admin.email)
    pages = [
        path
        for method, path in ui_operations()
        if method == "GET" and "{" not in path and path != "/ui/login"
    ]
    for path in pages:
        response = await client.get(path)
        assert response.status_code == 200, path
        check_headers(response)
        assert response.headers["cache-control"] == "no-store"
        assert "HX-Request-Type" in response.headers["vary"]


async def test_unexpected_error_shows_no_traceback(
    web_app: FastAPI, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.sync import dashboard, interfaces

    async def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("secret internal detail /srv/hubsync/app.py")

    transport = httpx.ASGITransport(app=web_app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client:
        await sign_in(client, world.a.admin.email)
        monkeypatch.setattr(interfaces, "list_interfaces", broken)  # the API's list
        monkeypatch.setattr(dashboard, "board", broken)  # the Schnittstellen page
        api = await client.get(
            "/api/v1/interfaces", headers={"Authorization": f"Bearer {world.a.admin_token}"}
        )
        page = await client.get("/ui/interfaces")
    for response in (api, page):
        assert response.status_code == 500
        assert "Traceback" not in response.text
        assert "secret internal detail" not in response.text
    assert "Zeitpunkt:" in page.text  # German error page: when it happened
