"""Conformance harness of the third-party memory connector (``hubsync-connector-example``).

It is also the model for a third party's own harness: a fresh, empty backing
system per test (here a store with a unique name), rows put in behind the
connector's back, and connectors configured against it.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

from hubsync_connector_example import MemoryConnector, Store, drop_store, store

from app.connectors.base import FieldType, Key, Record
from tests.connectors.conformance.harness import OBJECT, harness

SCHEMA = {
    "id": FieldType.string,
    "name": FieldType.string,
    "amount": FieldType.number,
    "updated_at": FieldType.datetime,
}


class MemoryHarness:
    """A named in-memory store, written to directly as another system would."""

    connector_name = "memory"
    detects_deletes = True  # deletions leave tombstones that reads report
    supports_equal_cursor_values = True  # the cursor is a change sequence, not updated_at

    def __init__(self, backing: Store) -> None:
        self.store = backing

    def settings(self, **overrides: Any) -> dict[str, Any]:
        """Valid settings for this store, with ``overrides`` applied."""
        return {"store": self.store.name, "objects": {OBJECT: SCHEMA}, **overrides}

    def connector(self, **overrides: Any) -> MemoryConnector:
        """A memory connector on this store."""
        return MemoryConnector.from_settings(self.settings(**overrides))

    async def insert(self, rows: Sequence[Record], at: datetime) -> None:
        """Add rows stamped ``updated_at = at``."""
        for row in rows:
            self.store.put(OBJECT, str(row["id"]), {**row, "updated_at": at})

    async def update(self, rows: Sequence[Record], at: datetime) -> None:
        """Change existing rows and stamp them ``updated_at = at``."""
        current = self.store.records(OBJECT)
        for row in rows:
            key = str(row["id"])
            self.store.put(OBJECT, key, {**current[key], **row, "updated_at": at})

    async def remove(self, keys: Sequence[Key]) -> None:
        """Delete rows, leaving tombstones."""
        for key in keys:
            self.store.remove(OBJECT, key)

    async def rows(self) -> dict[Key, Record]:
        """The live records by key."""
        return self.store.records(OBJECT)

    def bad_settings(self) -> tuple[Mapping[str, Any], str]:
        """A batch size of zero, which the config model refuses."""
        return self.settings(batch_size=0), "batch_size"

    def unreachable(self, timeout_s: float) -> MemoryConnector:
        """A connector told the store does not answer (in memory nothing can time out)."""
        del timeout_s
        return self.connector(reachable=False)


@harness("memory", "in-memory")
@asynccontextmanager
async def memory_harness() -> AsyncIterator[MemoryHarness]:
    """A fresh store with a unique name, dropped after the test."""
    name = f"conformance-{uuid.uuid4().hex}"
    try:
        yield MemoryHarness(store(name))
    finally:
        drop_store(name)
