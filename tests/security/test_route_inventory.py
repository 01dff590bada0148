"""Deny by default: every route is authenticated unless it is on the public list."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from tests.routes import PATH_PARAM, api_operations, ui_operations

PUBLIC = {
    ("GET", "/healthz"),
    ("GET", "/readyz"),
    ("GET", "/ui/login"),
    ("POST", "/ui/login"),
    ("POST", "/ui/logout"),
}
PLACEHOLDER_ID = "00000000-0000-4000-8000-000000000000"


def concrete(path: str) -> str:
    return PATH_PARAM.sub(PLACEHOLDER_ID, path)


async def test_every_api_route_requires_a_token(
    client: httpx.AsyncClient, web_app: FastAPI
) -> None:
    checked = 0
    for method, path in api_operations(web_app):
        if (method, path) in PUBLIC:
            continue
        response = await client.request(method, concrete(path), json={})
        assert response.status_code == 401, (method, path, response.status_code)
        checked += 1
    assert checked >= 15


async def test_every_ui_page_requires_a_session(client: httpx.AsyncClient) -> None:
    checked = 0
    for method, path in ui_operations():
        if (method, path) in PUBLIC or method != "GET":
            continue
        response = await client.get(concrete(path))
        assert response.status_code == 303, path
        assert response.headers["location"].startswith("/ui/login?next=")
        checked += 1
    assert checked >= 4


def test_public_routes_exist(web_app: FastAPI) -> None:
    known = set(api_operations(web_app)) | set(ui_operations())
    assert known >= PUBLIC
