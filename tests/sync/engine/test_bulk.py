"""The engine's bulk insert stores exactly what SQLAlchemy's Core insert stores."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import RunItem, SyncRun
from app.models.enums import ItemAction, RunStatus, RunTrigger
from app.sync.engine.bulk import insert_rows
from app.sync.engine.counts import RunCounts
from app.sync.engine.recorder import ItemError, Recorder
from tests.factories import World

TABLE = RunItem.metadata.tables[RunItem.__tablename__]


async def _recorded(db: AsyncSession, world: World, object_name: str) -> list[dict[str, Any]]:
    """Item rows of every kind: shared and per-row values, empty and filled JSON and errors."""
    run = SyncRun(
        tenant_id=world.a.tenant.id,
        interface_id=world.a.interface.id,
        trigger=RunTrigger.manual,
        status=RunStatus.running,
    )
    db.add(run)
    await db.flush()
    recorder = Recorder(run, object_name, "to_hubspot", RunCounts())  # type: ignore[arg-type]
    recorder.item(ItemAction.create, "K-1", hubspot_id="11", payload={"properties": {"a": "ä"}})
    recorder.item(ItemAction.update, "K-2", payload=None)
    error = ItemError("Email address a@b.ch is invalid", http_status=400, correlation_id="c-1")
    recorder.item(ItemAction.create, "K-3", payload={"record": {"n": 1}}, error=error, failed=True)
    recorder.item(ItemAction.skip, None)
    return recorder.take()


def _stored(items: list[RunItem]) -> list[dict[str, Any]]:
    ignored = {"id", "run_id", "object_name", "created_at"}  # created_at: another moment
    return [
        {c.key: getattr(item, c.key) for c in TABLE.columns if c.key not in ignored}
        for item in sorted(items, key=lambda i: (i.created_at, i.source_key or ""))
    ]


async def test_bulk_insert_stores_what_core_insert_stores(db: AsyncSession, world: World) -> None:
    await insert_rows(db, TABLE, await _recorded(db, world, "bulk"))
    await db.execute(insert(TABLE), await _recorded(db, world, "core"))
    await db.commit()
    bulk = (await db.scalars(select(RunItem).where(RunItem.object_name == "bulk"))).all()
    core = (await db.scalars(select(RunItem).where(RunItem.object_name == "core"))).all()
    assert len(bulk) == 4
    assert _stored(list(bulk)) == _stored(list(core))
    raw = select(TABLE.c.source_key, TABLE.c.payload.cast(TABLE.c.error_message.type))
    texts = (await db.execute(raw.where(TABLE.c.object_name.in_(["bulk", "core"])))).all()
    by_key: dict[str | None, set[str | None]] = {}
    for key, text in texts:
        by_key.setdefault(key, set()).add(text)
    assert all(len(stored) == 1 for stored in by_key.values())  # the same JSON text too


async def test_rows_leaving_a_column_default_out_are_refused(
    db: AsyncSession, world: World
) -> None:
    rows = await _recorded(db, world, "bulk")
    without_id = [{k: v for k, v in row.items() if k != "id"} for row in rows]
    with pytest.raises(ValueError, match="cannot bulk insert"):
        await insert_rows(db, TABLE, without_id)


async def test_no_rows_is_no_statement(db: AsyncSession) -> None:
    await insert_rows(db, TABLE, [])  # would fail on the missing columns if it compiled
