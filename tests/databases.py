"""Fresh test databases on SQLite and PostgreSQL, migrated once per test session.

PostgreSQL comes from HUBSYNC_TEST_POSTGRES_URL (default: the local server).
Under CI=true an unreachable server fails the run instead of skipping it.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from app.models import Base

DEFAULT_POSTGRES_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
BACKENDS = ("sqlite", "postgresql")


def postgres_admin_url() -> str:
    """The URL of the PostgreSQL database used to create and drop test databases."""
    return os.environ.get("HUBSYNC_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)


def unavailable(reason: str) -> None:
    """Skip a test whose service is missing, or fail it when running in CI."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason} (CI=true: a missing service fails the run)")
    pytest.skip(reason)


def _asyncpg_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@asynccontextmanager
async def fresh_database(backend: str, tmp_dir: Path) -> AsyncIterator[str]:
    """Create an empty database of ``backend`` and drop it afterwards; yields its URL."""
    if backend == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_dir / f'hubsync-{uuid.uuid4().hex}.db'}"
        return
    admin = postgres_admin_url()
    name = f"hubsync_test_{uuid.uuid4().hex[:12]}"
    try:
        connection = await asyncpg.connect(_asyncpg_dsn(admin), timeout=5)
    except (OSError, asyncpg.PostgresError) as exc:
        unavailable(f"PostgreSQL at {make_url(admin).host} is unreachable: {exc}")
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
        yield make_url(admin).set(database=name).render_as_string(hide_password=False)
    finally:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await connection.close()


async def empty_all_tables(engine: AsyncEngine) -> None:
    """Delete every row of every hubsync table (between tests)."""
    tables = list(reversed(Base.metadata.sorted_tables))
    async with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in tables)
            await connection.execute(text(f"TRUNCATE {names} CASCADE"))
        else:
            for table in tables:
                await connection.execute(table.delete())
