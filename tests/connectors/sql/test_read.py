"""Reading with the sql connector: keyset paging, changes during a read, configured SELECTs."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Column, Integer, MetaData, Numeric, String, Table, text

from app.connectors.base import Cursor, FieldType, Record, RecordBatch
from app.connectors.errors import ConnectorConfigError
from tests.connectors.conformance.harness_sql import _STAMP, SqlHarness

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
T1 = T0 + timedelta(minutes=5)


def customers(count: int, version: int = 0) -> list[Record]:
    """``count`` customers c00000…, their name and amount marked with ``version``."""
    return [
        {"id": f"c{i:05d}", "name": f"Kunde {i} v{version}", "amount": Decimal(i) + version}
        for i in range(count)
    ]


async def read_all(system: SqlHarness, since: Cursor | None, **settings: Any) -> list[RecordBatch]:
    """Every batch of one read through a fresh connector."""
    async with system.connector(**settings) as connector:
        return [batch async for batch in connector.read("customers", since)]


class TestKeysetPaging:
    async def test_rows_sharing_one_timestamp_are_each_read_once(self, system: SqlHarness) -> None:
        await system.insert(customers(2500), T0)
        batches = await read_all(system, None, batch_size=300)
        ids = [r["id"] for b in batches for r in b.records]
        assert ids == [r["id"] for r in customers(2500)]  # ordered by (cursor, key)
        assert [len(b.records) for b in batches] == [300] * 8 + [100]
        assert batches[-1].cursor == {"value": T0.isoformat(), "key": ["c02499"]}
        assert await read_all(system, batches[-1].cursor) == []

    async def test_an_update_during_the_read_is_read_at_its_new_position(
        self, system: SqlHarness
    ) -> None:
        await system.insert(customers(2500), T0)
        changed = [customers(2500, version=1)[i] for i in (10, 1200, 2400)]
        records: list[Record] = []
        async with system.connector(batch_size=500) as connector:
            async for batch in connector.read("customers", None):
                if not records:  # after the first batch: one row read, two not yet
                    await system.update(changed, T1)
                records += batch.records
                cursor = batch.cursor
        counts = Counter(r["id"] for r in records)
        assert set(counts) == {r["id"] for r in customers(2500)}  # nothing missed
        assert {k for k, n in counts.items() if n > 1} == {"c00010"}  # read before and after
        latest = {r["id"]: r["name"] for r in records}
        assert [latest[r["id"]] for r in changed] == [r["name"] for r in changed]
        assert await read_all(system, cursor) == []

    async def test_values_come_back_typed_and_timezone_aware(self, system: SqlHarness) -> None:
        await system.insert(customers(1), T0)
        [batch] = await read_all(system, None)
        assert batch.records == [
            {"id": "c00000", "name": "Kunde 0 v0", "amount": Decimal("0.00"), "updated_at": T0}
        ]
        assert batch.records[0]["updated_at"].utcoffset() == timedelta(0)

    async def test_a_foreign_cursor_is_a_config_error(self, system: SqlHarness) -> None:
        with pytest.raises(ConnectorConfigError) as raised:
            await read_all(system, {"value": "yesterday", "key": ["c1"]})
        assert raised.value.field == "since"


ORDERS = Table(
    "orders",
    MetaData(),
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("customer_id", String(32), nullable=False),
    Column("total", Numeric(12, 2), nullable=False),
    Column("changed_at", _STAMP, nullable=False),
)
# A colon and a percent sign in literals: they must reach the database as text.
JOIN = """
    SELECT o.id, c.name AS customer, o.total, o.changed_at
    FROM orders o JOIN customers c ON c.id = o.customer_id
    WHERE c.name NOT LIKE 'x:%' AND o.total >= 0
"""


class TestConfiguredSelect:
    async def orders(self, system: SqlHarness) -> None:
        """Three orders by two customers, changed at T0, T0 and T1."""
        await system.insert(customers(2), T0)
        await asyncio.to_thread(ORDERS.metadata.create_all, system.engine)
        rows = [(1, "c00000", "10.50", T0), (2, "c00001", "20.00", T0), (3, "c00000", "5", T1)]
        names = ("id", "customer_id", "total", "changed_at")
        await system.execute(ORDERS.insert(), [dict(zip(names, r, strict=True)) for r in rows])

    def settings(self) -> dict[str, Any]:
        """An ``orders`` object defined by a join, keyed by order id."""
        spec = {"query": JOIN, "key": ["id"], "cursor": "changed_at"}
        return {"objects": {"orders": spec}}

    async def test_a_join_is_discovered_and_read_incrementally(self, system: SqlHarness) -> None:
        await self.orders(system)
        async with system.connector(**self.settings(), batch_size=2) as connector:
            [info] = await connector.discover()
            first = [b async for b in connector.read("orders", None)]
            again = [b async for b in connector.read("orders", first[0].cursor)]
        assert (info.name, info.key, info.cursor, info.writable) == (
            "orders",
            ("id",),
            "changed_at",
            False,
        )
        types = {field.name: field.type for field in info.fields}
        assert (types["id"], types["total"]) == (FieldType.integer, FieldType.number)
        records = [r for b in first for r in b.records]
        assert [(r["id"], r["customer"], Decimal(r["total"])) for r in records] == [
            (1, "Kunde 0 v0", Decimal("10.5")),
            (2, "Kunde 1 v0", Decimal("20")),
            (3, "Kunde 0 v0", Decimal("5")),
        ]
        assert [r["id"] for b in again for r in b.records] == [3]

    async def test_a_query_object_cannot_be_written(self, system: SqlHarness) -> None:
        await self.orders(system)
        async with system.connector(**self.settings()) as connector:
            with pytest.raises(ConnectorConfigError) as raised:
                await connector.write("orders", [{"id": 9, "total": 1}])
        assert raised.value.field == "objects.orders"


class TestDiscoveryByInspection:
    async def test_without_objects_every_table_and_view_is_found(self, system: SqlHarness) -> None:
        await system.execute(text("CREATE VIEW customer_names AS SELECT id, name FROM customers"))
        await system.insert(customers(3), T0)
        async with system.connector(objects={}) as connector:
            found = {info.name: info for info in await connector.discover()}
            with pytest.raises(ConnectorConfigError) as keyless:
                await anext(aiter(connector.read("customer_names", None)))
        table, view = found["customers"], found["customer_names"]
        assert (table.key, table.cursor, table.writable, table.detects_deletes) == (
            ("id",),
            "updated_at",
            True,
            False,
        )
        cursors = {f.name for f in table.fields if f.can_be_cursor}
        assert cursors == {"updated_at", "deleted_at"}
        assert (view.key, view.writable) == ((), False)
        assert keyless.value.field == "objects.customer_names.key"

    async def test_a_view_with_a_configured_key_is_read(self, system: SqlHarness) -> None:
        await system.execute(text("CREATE VIEW customer_names AS SELECT id, name FROM customers"))
        await system.insert(customers(3), T0)
        spec = {"table": "customer_names", "key": ["id"]}
        for size in (2, 3):  # 3: the last full batch is followed by an empty one to say "done"
            async with system.connector(objects={"names": spec}, batch_size=size) as connector:
                batches = [batch async for batch in connector.read("names", None)]
            names = [r["name"] for b in batches for r in b.records]
            assert names == ["Kunde 0 v0", "Kunde 1 v0", "Kunde 2 v0"]
            assert batches[0].cursor == {"key": ["c00001" if size == 2 else "c00002"]}
            assert batches[-1].cursor is None  # no cursor column: the next read is a full one
