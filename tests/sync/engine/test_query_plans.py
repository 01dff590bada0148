"""The run engine's per-batch look-ups use their narrow indexes on SQLite.

SQLite keeps no statistics unless asked, so its planner picks among the indexes
by their shape alone. With an index on the tenant alone it scanned all of a
tenant's record links for each batch's look-up, a cost that grew with the
table (migration c3e5a7f9b1d2). The plans here are SQLite's own answer for the
statements the repositories send; PostgreSQL plans from its statistics.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession

from app.core import migrations
from app.core.db import create_engine, create_session_factory
from app.core.tenancy import TenantScope
from app.models.enums import SyncDirection
from app.sync.engine.repository import ItemRepository, LinkRepository

TENANT, INTERFACE = uuid.uuid4(), uuid.uuid4()


async def plan_of(path: Path, call: Callable[[AsyncSession], Awaitable[Any]]) -> str:
    """SQLite's query plan for the last statement ``call`` sends, on a migrated database."""
    url = f"sqlite+aiosqlite:///{path}"
    await asyncio.to_thread(migrations.upgrade, url)
    engine = create_engine(url)
    sent: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        sent.append((statement, parameters))

    event.listen(engine.sync_engine, "before_cursor_execute", capture)
    try:
        async with create_session_factory(engine)() as session:
            await call(session)
            statement, parameters = sent[-1]
            connection = await session.connection()
            result = await connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
            return " | ".join(str(row[-1]) for row in result.all())
    finally:
        await engine.dispose()


async def test_a_batchs_links_are_found_by_their_source_keys(tmp_path: Path) -> None:
    async def lookup(session: AsyncSession) -> None:
        links = LinkRepository.scoped(session, TenantScope.only(TENANT))
        await links.by_source_keys(INTERFACE, "contacts", ["P-1", "P-2"])

    plan = await plan_of(tmp_path / "hub.db", lookup)
    assert "(interface_id=? AND object_name=? AND source_key=?)" in plan
    assert "tenant_id=?)" not in plan


async def test_open_failures_are_read_from_the_failures_not_from_every_item(
    tmp_path: Path,
) -> None:
    async def failures(session: AsyncSession) -> None:
        items = ItemRepository.scoped(session, TenantScope.only(TENANT))
        await items.open_failures(INTERFACE, "contacts", SyncDirection.to_hubspot)

    plan = await plan_of(tmp_path / "hub.db", failures)
    assert "USING INDEX" in plan
    assert "SCAN run_items" not in plan
    assert "ix_run_items_run_" not in plan  # not through a run's items
