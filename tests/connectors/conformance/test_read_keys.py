"""``read_keys`` for every connector: chosen records as they are now, the gone ones as deleted.

A retry sends the record as it is in the source now, so the lookup must see
changes made after the failure, report removed and unknown keys as deleted
(each key once, in one way), carry no cursor, and keep batches within
``batch_size``. Runs for every connector on every harness, like the main suite.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import pytest

from app.connectors.base import Key, RecordBatch
from app.connectors.errors import ConnectorConfigError
from tests.connectors.conformance.harness import OBJECT, Harness
from tests.connectors.conformance.test_conformance import (
    HANG_GUARD_S,
    T0,
    T1,
    customers,
    keys,
    table,
    within,
)

NEVER_THERE = "c99999"


async def read_keys(harness: Harness, wanted: Sequence[Key], batch_size: int) -> list[RecordBatch]:
    """Every batch of one ``read_keys`` through a fresh connector."""
    connector = harness.connector(batch_size=batch_size)
    async with connector, within(HANG_GUARD_S, "read_keys"):
        return [batch async for batch in connector.read_keys(OBJECT, wanted)]


async def test_read_keys_sees_changes_made_since_and_reports_the_gone_as_deleted(
    harness: Harness,
) -> None:
    """Changed rows come back changed, removed and unknown keys as deleted, each key once."""
    await harness.insert(customers(0, 30), T0)
    changed = customers(3, 4, version=1)
    await harness.update(changed, T1)
    removed = keys(customers(20, 2))
    await harness.remove(removed)
    kept = customers(10, 3)
    wanted = [*keys(changed), *keys(kept), *removed, NEVER_THERE, keys(changed)[0]]
    batches = await read_keys(harness, wanted, batch_size=3)
    records = [r for b in batches for r in b.records]
    deleted = [k for b in batches for k in b.deleted]
    assert table(records) == table(changed + kept)
    assert sorted(deleted) == sorted([*removed, NEVER_THERE])
    assert not [b.unreadable for b in batches if b.unreadable]
    reported = Counter([*keys(records), *deleted])
    assert set(reported.values()) == {1}, "a key came back twice"
    assert all(b.cursor is None for b in batches)
    assert max(len(b.records) for b in batches) <= 3


async def test_read_keys_of_no_keys_yields_nothing(harness: Harness) -> None:
    """Nothing asked, nothing read."""
    await harness.insert(customers(0, 3), T0)
    assert await read_keys(harness, [], batch_size=10) == []


async def test_read_keys_of_an_unknown_object_is_a_config_error(harness: Harness) -> None:
    """An object the system does not have names the problem."""
    async with harness.connector() as connector, within(HANG_GUARD_S, "read_keys"):
        with pytest.raises(ConnectorConfigError):
            await anext(aiter(connector.read_keys("no_such_object", ["c00001"])))
