"""``GET /metrics``: the Prometheus text format, open or behind HUBSYNC_METRICS_TOKEN."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from app.core.settings import Settings
from app.main import create_app
from tests.conftest import BASE_URL, make_settings

METRICS_TOKEN = "scrape-token-0123456789abcdef"


@pytest.fixture
async def guarded(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """A client of an app whose /metrics asks for ``METRICS_TOKEN``."""
    app = create_app(
        make_settings(settings.database_url, settings.var_dir, metrics_token=METRICS_TOKEN)
    )
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL) as c:
        yield c
    await app.state.web.engine.dispose()


async def test_serves_the_text_exposition_without_a_token_setting(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert "# TYPE hubsync_runs_total counter" in response.text
    assert "# TYPE hubsync_run_duration_seconds histogram" in response.text


async def test_answers_with_the_token(guarded: httpx.AsyncClient) -> None:
    response = await guarded.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    assert response.status_code == 200
    assert "hubsync_runs_in_progress" in response.text


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer wrong-token", f"Basic {METRICS_TOKEN}", "Bearer "],
    ids=["missing", "wrong", "other-scheme", "empty"],
)
async def test_refuses_without_the_token(
    guarded: httpx.AsyncClient, authorization: str | None
) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    response = await guarded.get("/metrics", headers=headers)
    assert response.status_code == 401
    assert "hubsync_" not in response.text
