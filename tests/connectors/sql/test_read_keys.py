"""``read_keys`` of the sql connector: ``key IN (…)`` per chunk, composite keys, SELECT objects."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Column, Engine, Integer, MetaData, String, Table, event

from app.connectors.base import RecordBatch
from app.connectors.sql.connector import KEYS_PER_QUERY
from tests.connectors.conformance.harness_sql import _STAMP, SqlHarness
from tests.connectors.sql.test_read import JOIN, ORDERS, T0, T1, customers

LOOKUP = re.compile(r"FROM\s+[`\"]?customers\b.*\bIN\s*\(", re.S)
LINES = Table(
    "lines",
    MetaData(),
    Column("order_no", Integer, primary_key=True, autoincrement=False),
    Column("line_no", Integer, primary_key=True, autoincrement=False),
    Column("article", String(40), nullable=False),
    Column("updated_at", _STAMP, nullable=False),
)


@contextmanager
def lookups() -> Iterator[list[str]]:
    """The key lookups of ``customers`` (SELECT … IN) any engine runs inside the block."""
    seen: list[str] = []

    def listen(*args: Any) -> None:
        statement = str(args[2])
        if statement.lstrip().upper().startswith("SELECT") and LOOKUP.search(statement):
            seen.append(statement)

    event.listen(Engine, "before_cursor_execute", listen)
    try:
        yield seen
    finally:
        event.remove(Engine, "before_cursor_execute", listen)


async def read_keys(
    system: SqlHarness, object_name: str, keys: list[str], **settings: Any
) -> list[RecordBatch]:
    """Every batch of one ``read_keys`` through a fresh connector."""
    async with system.connector(**settings) as connector:
        return [batch async for batch in connector.read_keys(object_name, keys)]


async def test_keys_are_looked_up_in_one_query_per_chunk(system: SqlHarness) -> None:
    rows = customers(1200)
    await system.insert(rows, T0)
    await system.update(customers(1200, version=1)[700:701], T1)
    wanted = [r["id"] for r in reversed(rows)] + ["c99999"]
    with lookups() as queries:
        batches = await read_keys(system, "customers", wanted, batch_size=1000)
    assert len(queries) == 3 == len(batches)  # 1,201 keys, at most KEYS_PER_QUERY a query
    assert [len(b.records) for b in batches] == [KEYS_PER_QUERY, KEYS_PER_QUERY, 200]
    assert [b.deleted for b in batches] == [[], [], ["c99999"]]
    found = {r["id"]: r["name"] for b in batches for r in b.records}
    assert len(found) == 1200
    assert found["c00700"] == "Kunde 700 v1"


async def test_batch_size_bounds_the_keys_of_one_query(system: SqlHarness) -> None:
    await system.insert(customers(5), T0)
    with lookups() as queries:
        batches = await read_keys(system, "customers", ["c00001", "c00002", "c00003"], batch_size=2)
    assert len(queries) == 2
    assert [[r["id"] for r in b.records] for b in batches] == [["c00001", "c00002"], ["c00003"]]


async def test_composite_keys_and_keys_no_row_can_have(system: SqlHarness) -> None:
    await asyncio.to_thread(LINES.metadata.create_all, system.engine)
    lines = [(1, 1, "Schraube"), (1, 3, "Mutter"), (2, 1, "Dübel")]
    names = ("order_no", "line_no", "article")
    await system.execute(
        LINES.insert(), [{**dict(zip(names, r, strict=True)), "updated_at": T0} for r in lines]
    )
    objects = {"lines": {"table": "lines", "cursor": "updated_at"}}
    wanted = ["2|1", "1|1", "1|2", "x|1", "1"]
    [batch] = await read_keys(system, "lines", wanted, objects=objects)
    found = sorted((r["order_no"], r["line_no"], r["article"]) for r in batch.records)
    assert found == [(1, 1, "Schraube"), (2, 1, "Dübel")]
    assert batch.deleted == ["1|2", "x|1", "1"]  # absent, not an integer, one part short


async def test_a_select_object_is_looked_up_by_its_key(system: SqlHarness) -> None:
    await system.insert(customers(2), T0)
    await asyncio.to_thread(ORDERS.metadata.create_all, system.engine)
    rows = [(1, "c00000", "10.50", T0), (2, "c00001", "20.00", T0), (3, "c00000", "5", T1)]
    names = ("id", "customer_id", "total", "changed_at")
    await system.execute(ORDERS.insert(), [dict(zip(names, r, strict=True)) for r in rows])
    objects = {"orders": {"query": JOIN, "key": ["id"], "cursor": "changed_at"}}
    [batch] = await read_keys(system, "orders", ["3", "1", "7", "abc"], objects=objects)
    assert sorted((r["id"], r["customer"]) for r in batch.records) == [
        (1, "Kunde 0 v0"),
        (3, "Kunde 0 v0"),
    ]
    assert batch.deleted == ["7", "abc"]
    assert batch.cursor is None
