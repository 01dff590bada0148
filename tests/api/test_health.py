"""Liveness and readiness probes."""

from __future__ import annotations

import httpx
import pytest

from app.core.settings import Settings
from app.main import create_app
from tests.conftest import BASE_URL, make_settings


async def test_healthz_answers_without_database(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readyz_reports_current_schema(client: httpx.AsyncClient) -> None:
    response = await client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["database"] == "ok"


async def test_readyz_refuses_an_unmigrated_database(
    settings: Settings, tmp_path: pytest.TempPathFactory
) -> None:
    empty = make_settings(f"sqlite+aiosqlite:///{tmp_path}/empty.db", settings.var_dir)
    app = create_app(empty)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL) as c:
        response = await c.get("/readyz")
    await app.state.web.engine.dispose()
    assert response.status_code == 503
    assert "hubsync migrate" in response.json()["database"]


async def test_readyz_reports_an_unreachable_database(settings: Settings) -> None:
    unreachable = make_settings("postgresql+asyncpg://nobody@127.0.0.1:1/none", settings.var_dir)
    app = create_app(unreachable)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL) as c:
        response = await c.get("/readyz")
    await app.state.web.engine.dispose()
    assert response.status_code == 503
    assert response.json()["database"] == "unreachable"
