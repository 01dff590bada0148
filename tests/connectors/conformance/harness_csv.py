"""Conformance harness of the csv connector: a temporary folder, one file per encoding.

The harness edits ``customers.csv`` with the standard library's ``csv`` module
the way an ERP export would (";" delimiter, CRLF, the label's encoding), never
through the connector.
"""

from __future__ import annotations

import asyncio
import csv
import tempfile
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from app.connectors.base import Key, Record
from app.connectors.csv import CsvConnector
from tests.connectors.conformance.harness import FIELDS, OBJECT, Harness, HarnessFactory, harness

ENCODINGS = ("utf-8", "utf-8-sig", "cp1252")
DELIMITER = ";"
Table = dict[Key, Record]


class CsvHarness:
    """A folder with an (initially empty) ``customers.csv`` in one encoding."""

    connector_name = "csv"
    detects_deletes = True
    supports_equal_cursor_values = True

    def __init__(self, folder: Path, encoding: str) -> None:
        self.folder = folder
        self.encoding = encoding
        self.path = folder / f"{OBJECT}.csv"

    def settings(self, **overrides: Any) -> dict[str, Any]:
        """Connector settings for this folder and encoding."""
        return {"folder": str(self.folder), "encoding": self.encoding, **overrides}

    def connector(self, **overrides: Any) -> CsvConnector:
        """A csv connector on the folder."""
        return CsvConnector.from_settings(self.settings(**overrides))

    async def insert(self, rows: Sequence[Record], at: datetime) -> None:
        """Append rows stamped ``at``."""
        await self._edit(lambda table: _merge(table, rows, at))

    async def update(self, rows: Sequence[Record], at: datetime) -> None:
        """Change rows in place, stamped ``at``."""
        await self._edit(lambda table: _merge(table, rows, at))

    async def remove(self, keys: Sequence[Key]) -> None:
        """Drop rows by key."""

        def drop(table: Table) -> None:
            for key in keys:
                del table[key]

        await self._edit(drop)

    async def rows(self) -> dict[Key, Record]:
        """The file's rows, by id (cells as text)."""
        return await asyncio.to_thread(self._load)

    def bad_settings(self) -> tuple[Mapping[str, Any], str]:
        """An encoding that does not exist."""
        return self.settings(encoding="klingon-8"), "encoding"

    def unreachable(self, timeout_s: float) -> CsvConnector:
        """A connector on a folder that does not exist."""
        return CsvConnector.from_settings(
            self.settings(folder=str(self.folder / "unmounted-share"), timeout_s=timeout_s)
        )

    async def save(self, table: Table) -> None:
        """Replace the file's rows (header first, CRLF line ends)."""
        await asyncio.to_thread(self._save, table)

    async def _edit(self, change: Callable[[Table], None]) -> None:
        table = await self.rows()
        change(table)
        await self.save(table)

    def _load(self) -> Table:
        with self.path.open(encoding=self.encoding, newline="") as handle:
            return {row["id"]: row for row in csv.DictReader(handle, delimiter=DELIMITER)}

    def _save(self, table: Table) -> None:
        with self.path.open("w", encoding=self.encoding, newline="") as handle:
            writer = csv.DictWriter(handle, FIELDS, delimiter=DELIMITER, lineterminator="\r\n")
            writer.writeheader()
            writer.writerows(table.values())


def _merge(table: Table, rows: Sequence[Record], at: datetime) -> None:
    for row in rows:
        key = str(row["id"])
        table[key] = {**table.get(key, {}), **row, "updated_at": at.isoformat()}


def _factory(encoding: str) -> HarnessFactory:
    @asynccontextmanager
    async def fresh() -> AsyncIterator[Harness]:
        with tempfile.TemporaryDirectory(prefix="hubsync-csv-") as folder:
            csv_harness = CsvHarness(Path(folder), encoding)
            await csv_harness.save({})
            yield csv_harness

    return harness("csv", encoding)(fresh)


for _encoding in ENCODINGS:
    _factory(_encoding)
