"""Deny by default: every route is authenticated unless it is on the public list."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from app.core.settings import Settings
from app.main import create_app
from tests.conftest import BASE_URL, make_settings
from tests.factories import World, bearer
from tests.routes import PATH_PARAM, api_operations, ui_operations

PUBLIC = {
    ("GET", "/healthz"),
    ("GET", "/readyz"),
    ("GET", "/ui/login"),
    ("POST", "/ui/login"),
    ("POST", "/ui/logout"),
    ("POST", "/api/v1/webhooks/hubspot"),  # HubSpot has no token: authenticated by signature
}
# Hidden from the schema and outside the UI router, so the walks below do not reach it. Open
# by design while HUBSYNC_METRICS_TOKEN is unset (operators restrict it at the network);
# once that is set, nothing but that token opens it (checked at the end).
METRICS = ("GET", "/metrics")
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


async def test_metrics_needs_its_own_token_once_one_is_set(
    settings: Settings, world: World
) -> None:
    method, path = METRICS
    guarded = create_app(
        make_settings(settings.database_url, settings.var_dir, metrics_token="scrape-0123456789")
    )
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=guarded), base_url=BASE_URL
    ) as http:
        anonymous = await http.request(method, path)
        operator = await http.request(method, path, headers=bearer(world.operator_token))
    await guarded.state.web.engine.dispose()
    assert anonymous.status_code == 401
    assert operator.status_code == 401  # an API token is not the metrics token
    assert METRICS not in api_operations(guarded)  # else the API walk would expect a user token
