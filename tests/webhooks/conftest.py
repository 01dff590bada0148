"""Fixtures of the webhook tests: hubsync with a HubSpot client secret, and a client for it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from app.core.settings import Settings
from app.main import create_app
from app.web import WebState
from tests.conftest import BASE_URL, make_settings
from tests.webhooks.kit import SECRET


@pytest.fixture(scope="session")
async def hook_app(settings: Settings) -> AsyncIterator[FastAPI]:
    """The app on the session's database, with the HubSpot app's client secret set."""
    app = create_app(
        make_settings(settings.database_url, settings.var_dir, hubspot_client_secret=SECRET)
    )
    yield app
    await app.state.web.engine.dispose()


@pytest.fixture
async def hook_client(hook_app: FastAPI, web: WebState) -> AsyncIterator[httpx.AsyncClient]:
    """A client of ``hook_app`` in-process (``web`` empties the tables afterwards)."""
    transport = httpx.ASGITransport(app=hook_app)
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as http:
        yield http
