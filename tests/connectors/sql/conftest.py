"""Fixtures of the sql connector's own tests: fresh databases on each backend."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.connectors.conformance.harness_sql import SqlHarness, fresh_sql_harness

SQL_BACKENDS = ("sqlite", "postgresql", "mariadb")
SERVER_BACKENDS = ("postgresql", "mariadb")


@pytest.fixture(params=SQL_BACKENDS)
async def system(request: pytest.FixtureRequest) -> AsyncIterator[SqlHarness]:
    """A fresh database with an empty ``customers`` table, on every backend."""
    async with fresh_sql_harness(request.param) as backing:
        yield backing


@pytest.fixture(params=SERVER_BACKENDS)
async def server(request: pytest.FixtureRequest) -> AsyncIterator[SqlHarness]:
    """A fresh database on the PostgreSQL and MariaDB servers (timeouts, read-only)."""
    async with fresh_sql_harness(request.param) as backing:
        yield backing
