"""Shared fixtures: a migrated database per backend, the app, clients, and a summary line."""

from __future__ import annotations

import asyncio
import io
import logging
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from app.core import migrations
from app.core.settings import Environment, Settings
from app.main import create_app
from app.web import WebState
from tests.databases import BACKENDS, empty_all_tables, fresh_database
from tests.factories import World, build_world

TEST_SECRET_KEY = "test-secret-key-0123456789abcdef"
BASE_URL = "http://127.0.0.1:8000"


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """The database backend a test runs on: every database test runs on each."""
    return str(request.param)


@pytest.fixture(scope="session")
async def database_url(
    backend: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[str]:
    """A fresh database of ``backend``, migrated to head once per session."""
    async with fresh_database(backend, tmp_path_factory.mktemp(backend)) as url:
        await asyncio.to_thread(migrations.upgrade, url)
        yield url


def make_settings(database_url: str, var_dir: Path, **overrides: object) -> Settings:
    """Test settings: fixed secret key, the given database, nothing read from the env."""
    values: dict[str, object] = {
        "env": Environment.test,
        "database_url": database_url,
        "secret_key": TEST_SECRET_KEY,
        "var_dir": var_dir,
        "scheduler_enabled": False,  # tests drive runs themselves; scheduler tests opt in
        **overrides,
    }
    return Settings.model_validate(values)


@pytest.fixture(scope="session")
def settings(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Settings pointing at the session's database."""
    return make_settings(database_url, tmp_path_factory.mktemp("var"))


@pytest.fixture(scope="session")
async def web_app(settings: Settings) -> AsyncIterator[FastAPI]:
    """The application, one per backend."""
    app = create_app(settings)
    yield app
    await app.state.web.engine.dispose()


@pytest.fixture
async def web(web_app: FastAPI) -> AsyncIterator[WebState]:
    """The app's shared state for one test; every table is emptied afterwards."""
    state: WebState = web_app.state.web
    yield state
    await empty_all_tables(state.engine)


@pytest.fixture
async def client(web_app: FastAPI, web: WebState) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client talking to the app in-process."""
    transport = httpx.ASGITransport(app=web_app)
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as http:
        yield http


@pytest.fixture
async def db(web: WebState) -> AsyncIterator[AsyncSession]:
    """A session for setting up and checking data; the test commits what it needs."""
    async with web.session_factory() as session:
        yield session


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Say how many database tests passed on each backend."""
    passed = terminalreporter.stats.get("passed", [])
    counts = {
        b: sum(1 for r in passed if f"[{b}" in r.nodeid or f"-{b}" in r.nodeid) for b in BACKENDS
    }
    terminalreporter.write_line(
        "database tests passed: " + ", ".join(f"{b} {n}" for b, n in counts.items())
    )


@pytest.fixture
async def world(db: AsyncSession) -> World:
    """Tenants A and B with users, tokens, connections, interfaces and runs, plus an operator."""
    return await build_world(db)


@pytest.fixture
def captured_logs() -> Iterator[io.StringIO]:
    """Everything hubsync logs during the test, at DEBUG, rendered as in production."""
    root = logging.getLogger()
    handler = logging.StreamHandler(io.StringIO())
    handler.setFormatter(root.handlers[0].formatter if root.handlers else None)
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield handler.stream
    root.removeHandler(handler)
    root.setLevel(level)
