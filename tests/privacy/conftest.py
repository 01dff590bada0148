"""Fixtures of the privacy tests: a PostgreSQL ERP of persons and the sandbox portal."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from tests.databases import fresh_database
from tests.privacy.kit import seed_erp
from tests.test_cli_run import sandbox_url

__all__ = ["sandbox_url"]  # fixtures used by name


@pytest.fixture
async def persons_erp(tmp_path: Path) -> AsyncIterator[str]:
    """A fresh PostgreSQL ERP with the persons Anna and Bruno; its URL for the sql connector."""
    async with fresh_database("postgresql", tmp_path) as url:
        sync_url = make_url(url).set(drivername="postgresql+psycopg")
        rendered = sync_url.render_as_string(hide_password=False)
        await asyncio.to_thread(seed_erp, rendered)
        yield rendered
