"""Writing with the sql connector: an outcome per row, bad rows failing alone, read-only mode."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from app.connectors.base import Record, WriteOutcome
from app.connectors.errors import ConnectorConfigError
from tests.connectors.conformance.harness_sql import SqlHarness

T0 = datetime(2024, 5, 1, 9, 30, tzinfo=UTC)


def customer(key: str, name: Any, amount: str = "1.50") -> Record:
    """One record as hubsync writes it."""
    return {"id": key, "name": name, "amount": amount, "updated_at": T0.isoformat()}


async def stored(system: SqlHarness) -> dict[str, tuple[str, Decimal]]:
    """Name and amount of every stored row, by key."""
    return {k: (r["name"], Decimal(str(r["amount"]))) for k, r in (await system.rows()).items()}


class TestWrite:
    async def test_each_row_gets_its_outcome_and_a_bad_row_fails_alone(
        self, system: SqlHarness
    ) -> None:
        await system.insert([{"id": "a", "name": "Alt", "amount": Decimal("1.50")}], T0)
        await system.insert([{"id": "b", "name": "Bern", "amount": Decimal("2.00")}], T0)
        records = [
            customer("a", "Alt"),  # as stored
            customer("b", "Basel", "2.00"),  # renamed
            customer("c", "Chur"),
            customer("d", None),  # NOT NULL violation, in the same batch as c and e
            customer("e", "Emmen"),
            customer("f", "Frick", "zwei"),  # not a number
            {**customer("g", "Genf"), "colour": "blue"},  # no such column
        ]
        async with system.connector() as connector:
            results = await connector.write("customers", records)
        outcome = {r.key: r.outcome for r in results}
        assert [r.key for r in results] == list("abcdefg")
        assert outcome == {
            "a": WriteOutcome.unchanged,
            "b": WriteOutcome.updated,
            "c": WriteOutcome.created,
            "d": WriteOutcome.failed,
            "e": WriteOutcome.created,
            "f": WriteOutcome.failed,
            "g": WriteOutcome.failed,
        }
        reasons = {r.key: r.reason or "" for r in results if not r.ok}
        assert "zwei" in reasons["f"]
        assert "colour" in reasons["g"]
        assert reasons["d"]
        assert await stored(system) == {
            "a": ("Alt", Decimal("1.50")),
            "b": ("Basel", Decimal("2.00")),
            "c": ("Chur", Decimal("1.50")),
            "e": ("Emmen", Decimal("1.50")),
        }

    async def test_a_key_twice_in_one_call_is_created_then_updated(
        self, system: SqlHarness
    ) -> None:
        async with system.connector() as connector:
            results = await connector.write(
                "customers", [customer("a", "Eins"), customer("a", "Zwei")]
            )
        assert [r.outcome for r in results] == [WriteOutcome.created, WriteOutcome.updated]
        assert await stored(system) == {"a": ("Zwei", Decimal("1.50"))}

    async def test_written_rows_are_read_back_with_their_timestamp(
        self, system: SqlHarness
    ) -> None:
        async with system.connector() as connector:
            await connector.write("customers", [customer("a", "Aarau")])
            [batch] = [b async for b in connector.read("customers", None)]
        assert batch.records[0]["updated_at"] == T0


class TestReadOnly:
    async def test_writes_and_deletes_are_refused(self, system: SqlHarness) -> None:
        await system.insert([{"id": "a", "name": "Alt", "amount": Decimal(1)}], T0)
        async with system.connector(read_only=True) as connector:
            [info] = await connector.discover()
            with pytest.raises(ConnectorConfigError) as writing:
                await connector.write("customers", [customer("b", "Neu")])
            with pytest.raises(ConnectorConfigError) as deleting:
                await connector.delete("customers", ["a"])
        assert not info.writable
        assert writing.value.field == deleting.value.field == "read_only"
        assert await stored(system) == {"a": ("Alt", Decimal("1.00"))}
