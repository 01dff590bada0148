"""The connector conformance suite: what every connector promises, checked on its real system.

Each test gets a fresh, empty backing system (a ``Harness``, see ``harness.py``),
changes it behind the connector's back and checks the connector only through
the SDK calls. It runs for every installed connector on every backing system
its harness registers (see ``conftest.py``).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from app.connectors.base import (
    Connector,
    Cursor,
    FieldType,
    Key,
    ObjectInfo,
    Record,
    RecordBatch,
    WriteOutcome,
    WriteResult,
    record_key,
)
from app.connectors.errors import ConnectorConfigError, ConnectorUnavailable
from tests.connectors.conformance.harness import FIELDS, OBJECT, Harness

KEY = ("id",)
T0 = datetime(2024, 3, 1, 8, 0, tzinfo=UTC)
T1, T2 = T0 + timedelta(hours=1), T0 + timedelta(hours=2)
NAMES = ("Müller & Söhne AG", "Zürich Treuhand", "Genève Horlogerie SA", 'Café "Zum Löwen"; Bern')
HANG_GUARD_S = 120.0  # a read that takes longer has hung; this is no performance check
UNREACHABLE_TIMEOUT_S = 1.0
UNREACHABLE_GUARD_S = 3 * UNREACHABLE_TIMEOUT_S + 10.0  # three calls, plus a margin
EXPECTED_TYPES = {
    "id": FieldType.string,
    "name": FieldType.string,
    "amount": FieldType.number,
    "updated_at": FieldType.datetime,
}

# --- test data ---------------------------------------------------------------


def customers(start: int, count: int, version: int = 0) -> list[Record]:
    """Rows number ``start`` on (id, name, amount); another ``version`` changes name and amount."""
    return [
        {
            "id": f"c{index:05d}",
            "name": f"{NAMES[index % len(NAMES)]} {version}",
            "amount": index + 0.25 + version,  # exact in binary, so floats compare exactly
        }
        for index in range(start, start + count)
    ]


def keys(rows: Iterable[Record]) -> list[Key]:
    """The keys of rows, in order."""
    return [record_key(row, KEY) for row in rows]


def view(record: Mapping[str, Any]) -> tuple[str, str, Decimal]:
    """What must survive a round trip: key, name, amount (compared as decimals)."""
    return str(record["id"]), str(record["name"]), Decimal(str(record["amount"]))


def table(rows: Iterable[Mapping[str, Any]]) -> dict[Key, tuple[str, str, Decimal]]:
    """Rows by key, as ``view`` sees them."""
    return {record_key(row, KEY): view(row) for row in rows}


# --- reading -----------------------------------------------------------------


@asynccontextmanager
async def within(seconds: float, what: str) -> AsyncIterator[None]:
    """Fail (instead of hanging the run) when the block takes longer than ``seconds``."""
    try:
        async with asyncio.timeout(seconds):
            yield
    except TimeoutError:
        pytest.fail(f"{what} did not finish within {seconds:g}s")


@dataclass
class Changes:
    """What one or more reads reported: records, deleted keys, the cursor to go on from."""

    cursor: Cursor | None
    records: list[Record] = field(default_factory=list)
    deleted: list[Key] = field(default_factory=list)
    batches: int = 0  # batches that reported anything
    largest_batch: int = 0

    def add(self, batch: RecordBatch) -> None:
        """Take in one batch."""
        self.records += batch.records
        self.deleted += batch.deleted
        self.cursor = batch.cursor if batch.cursor is not None else self.cursor
        self.batches += bool(batch.records or batch.deleted)
        self.largest_batch = max(self.largest_batch, len(batch.records))

    def extend(self, other: Changes) -> None:
        """Take in a later read's changes."""
        self.records += other.records
        self.deleted += other.deleted
        self.cursor = other.cursor
        self.batches += other.batches
        self.largest_batch = max(self.largest_batch, other.largest_batch)


async def read(
    harness: Harness, since: Cursor | None, batch_size: int = 100, *, stop_early: bool = False
) -> Changes:
    """Read changes after ``since`` with a fresh connector (stopping after the first change)."""
    changes = Changes(cursor=since)
    async with harness.connector(batch_size=batch_size) as connector, within(HANG_GUARD_S, "read"):
        batches = connector.read(OBJECT, since)
        async for batch in batches:
            changes.add(batch)
            if stop_early and changes.batches:
                break
        aclose = getattr(batches, "aclose", None)  # read() is usually an async generator
        if aclose is not None:
            await aclose()
    return changes


async def read_resuming(harness: Harness, since: Cursor | None, batch_size: int) -> Changes:
    """Read batch by batch: after each, stop and resume from its cursor with a new connector."""
    total = Changes(cursor=since)
    for _ in range(10_000):
        step = await read(harness, total.cursor, batch_size, stop_early=True)
        total.extend(step)
        if not step.batches:
            return total
    pytest.fail("reading never came to an end")


def assert_read(
    harness: Harness,
    changes: Changes,
    changed: Sequence[Record] = (),
    deleted: Sequence[Key] | None = (),
) -> None:
    """Exactly ``changed`` came back, each once, and the deletions as far as they are detected.

    ``deleted=None`` leaves reported deletions unchecked (a full read may repeat old ones).
    """
    duplicates = [key for key, n in Counter(keys(changes.records)).items() if n > 1]
    assert not duplicates, f"read twice: {duplicates[:10]}"
    incomplete = [record for record in changes.records if set(FIELDS) - record.keys()]
    assert not incomplete, f"records without all of {FIELDS}: {incomplete[:3]}"
    assert table(changes.records) == table(changed)
    if deleted is None:
        return
    if harness.detects_deletes:
        assert sorted(changes.deleted) == sorted(deleted)
    else:
        assert not set(deleted) & set(keys(changes.records))


async def discover_object(harness: Harness) -> ObjectInfo:
    """The test object as the connector discovers it."""
    async with harness.connector() as connector, within(HANG_GUARD_S, "discover"):
        objects = {info.name: info for info in await connector.discover()}
    assert OBJECT in objects, f"discover() found only {sorted(objects)}"
    return objects[OBJECT]


# --- writing -----------------------------------------------------------------


def stamped(rows: Sequence[Record], at: datetime = T0) -> list[Record]:
    """Rows as hubsync would write them: all fields, ``updated_at`` included."""
    return [{**row, "updated_at": at} for row in rows]


async def write(harness: Harness, records: Sequence[Record]) -> list[WriteResult]:
    """Write through a fresh connector; one result per record, checked."""
    async with harness.connector() as connector, within(HANG_GUARD_S, "write"):
        results = await connector.write(OBJECT, records)
    assert len(results) == len(records)
    return results


async def delete(harness: Harness, doomed: Sequence[Key]) -> list[tuple[Key, WriteOutcome]]:
    """Delete through a fresh connector; (key, outcome) per key."""
    async with harness.connector() as connector, within(HANG_GUARD_S, "delete"):
        results = await connector.delete(OBJECT, doomed)
    return [(result.key, result.outcome) for result in results]


async def assert_stored(harness: Harness, rows: Sequence[Record]) -> None:
    """The system holds exactly ``rows`` (seen directly and through a full read)."""
    assert table((await harness.rows()).values()) == table(rows)
    assert_read(harness, await read(harness, None), changed=rows, deleted=None)


async def first_batch(connector: Connector[Any]) -> RecordBatch:
    """The first batch of a full read."""
    return await anext(aiter(connector.read(OBJECT, None)))


# --- the specification -------------------------------------------------------


def test_connector_has_a_harness(connector_name: str, registration_problem: str | None) -> None:
    """Every installed connector loads and registers a harness, so the suite covers it."""
    assert registration_problem is None, registration_problem


async def test_harness_builds_the_registered_connector(
    harness: Harness, connector_class: type[Connector[Any]]
) -> None:
    """The harness tests the class installed under that name, not a look-alike."""
    assert harness.connector_name == connector_class.name
    async with harness.connector() as connector:
        assert isinstance(connector, connector_class)


async def test_check_reaches_the_system(harness: Harness) -> None:
    """check() succeeds on a reachable system."""
    async with harness.connector() as connector, within(HANG_GUARD_S, "check"):
        result = await connector.check()
    assert result.ok, result.message


async def test_discover_describes_the_object(harness: Harness) -> None:
    """The object is found with its key, fields, types and delete detection."""
    await harness.insert(customers(0, 5), T0)
    info = await discover_object(harness)
    assert info.key == KEY
    assert {name: getattr(info.field(name), "type", None) for name in FIELDS} == EXPECTED_TYPES
    assert info.cursor in (None, "updated_at")
    assert info.detects_deletes == harness.detects_deletes


async def test_full_read_returns_every_row_once(harness: Harness) -> None:
    """A read without a cursor returns every row once, in batches of at most batch_size."""
    rows = customers(0, 25)
    await harness.insert(rows, T0)
    changes = await read(harness, None, batch_size=10)
    assert_read(harness, changes, changed=rows)
    assert changes.batches >= 3
    assert changes.largest_batch <= 10


async def test_incremental_read_after_inserts_updates_and_deletes(harness: Harness) -> None:
    """From a cursor: exactly the new and changed rows (and the deleted keys); then nothing."""
    await harness.insert(customers(0, 20), T0)
    start = await read(harness, None)
    added, changed, removed = customers(20, 5), customers(0, 5, version=1), keys(customers(5, 3))
    await harness.insert(added, T1)
    await harness.update(changed, T1)
    await harness.remove(removed)
    changes = await read(harness, start.cursor, batch_size=4)
    assert_read(harness, changes, changed=added + changed, deleted=removed)
    assert_read(harness, await read(harness, changes.cursor))


async def test_resuming_after_every_batch_among_equal_cursor_values(harness: Harness) -> None:
    """1,050 rows sharing one cursor value, read 100 at a time, resumed after every batch."""
    if not harness.supports_equal_cursor_values:
        pytest.skip("the system cannot give many rows the same cursor value")
    await harness.insert(customers(0, 10), T0)
    start = await read(harness, None)
    crowd = customers(10, 1050)
    await harness.insert(crowd, T1)
    inserted = await read_resuming(harness, start.cursor, batch_size=100)
    assert_read(harness, inserted, changed=crowd)
    assert inserted.batches >= 11
    updated = customers(500, 300, version=1)
    await harness.update(updated, T2)
    changes = await read_resuming(harness, inserted.cursor, batch_size=100)
    assert_read(harness, changes, changed=updated)
    assert_read(harness, await read(harness, changes.cursor))


async def test_writing_twice_changes_nothing(harness: Harness) -> None:
    """Writes create, then leave as is; a changed record is updated; no duplicates."""
    records = stamped(customers(0, 10))
    assert {r.outcome for r in await write(harness, records)} == {WriteOutcome.created}
    again = await write(harness, records)
    assert keys(records) == [r.key for r in again]
    assert all(r.outcome in (WriteOutcome.unchanged, WriteOutcome.updated) for r in again)
    await assert_stored(harness, records)
    changed = stamped(customers(0, 3, version=1), T1)
    assert {r.outcome for r in await write(harness, changed)} == {WriteOutcome.updated}
    await assert_stored(harness, changed + records[3:])


async def test_a_record_without_its_key_fails_alone(harness: Harness) -> None:
    """One bad record gets ``failed`` with a reason; the others are written."""
    good = stamped(customers(0, 2))
    results = await write(harness, [good[0], {"name": "Ohne Schlüssel", "amount": 1}, good[1]])
    created, failed = WriteOutcome.created, WriteOutcome.failed
    assert [r.outcome for r in results] == [created, failed, created]
    assert results[1].reason
    await assert_stored(harness, good)


async def test_delete_removes_by_key(harness: Harness) -> None:
    """Deleted keys are gone, a missing key is ``unchanged``, deleting again changes nothing."""
    rows = customers(0, 6)
    await harness.insert(rows, T0)
    doomed = ["c00001", "c00002", "c99999"]
    expected = [(doomed[0], WriteOutcome.deleted), (doomed[1], WriteOutcome.deleted)]
    assert await delete(harness, doomed) == [*expected, (doomed[2], WriteOutcome.unchanged)]
    assert {outcome for _, outcome in await delete(harness, doomed)} == {WriteOutcome.unchanged}
    await assert_stored(harness, [row for row in rows if row["id"] not in doomed])


async def test_reading_an_unknown_object_is_a_config_error(harness: Harness) -> None:
    """A read of an object the system does not have names the problem instead of hanging."""
    async with harness.connector() as connector, within(HANG_GUARD_S, "read"):
        with pytest.raises(ConnectorConfigError):
            await anext(aiter(connector.read("no_such_object", None)))


def test_bad_settings_name_the_field(
    harness: Harness, connector_class: type[Connector[Any]]
) -> None:
    """Invalid settings raise ``ConnectorConfigError`` naming the offending field."""
    settings, field_name = harness.bad_settings()
    with pytest.raises(ConnectorConfigError) as raised:
        connector_class.from_settings(settings)
    assert raised.value.field == field_name
    assert field_name in str(raised.value)


async def test_unreachable_system_is_unavailable_not_a_hang(harness: Harness) -> None:
    """check() says so, read() raises ``ConnectorUnavailable``, all within the timeout.

    discover() may answer from configuration alone; if it needs the system, it is unavailable.
    """
    connector = harness.unreachable(UNREACHABLE_TIMEOUT_S)
    async with connector, within(UNREACHABLE_GUARD_S, "a call to an unreachable system"):
        result = await connector.check()
        assert not result.ok
        assert result.message
        with contextlib.suppress(ConnectorUnavailable):
            await connector.discover()
        with pytest.raises(ConnectorUnavailable):
            await first_batch(connector)
