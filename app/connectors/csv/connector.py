"""The csv connector: a folder of ERP exports, one object per ``<object>.csv`` file."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence
from typing import ClassVar, TypeVar

from app.connectors.base import (
    CheckResult,
    Connector,
    Cursor,
    Key,
    ObjectInfo,
    Record,
    RecordBatch,
    WriteResult,
    absent,
)
from app.connectors.csv import files, reader, writer
from app.connectors.csv.config import CsvConfig
from app.connectors.csv.snapshot import CsvCursor
from app.connectors.errors import ConnectorUnavailable

T = TypeVar("T")


class CsvConnector(Connector[CsvConfig]):
    """Reads changes by row hash (inserts, updates and deletes) and writes files atomically."""

    name: ClassVar[str] = "csv"
    Config: ClassVar[type[CsvConfig]] = CsvConfig

    async def check(self) -> CheckResult:
        """Whether the folder can be read, and how many files it holds."""
        try:
            objects = await self._run(files.list_objects, self.config.folder)
        except ConnectorUnavailable as exc:
            return CheckResult(ok=False, message=exc.message)
        return CheckResult(ok=True, message=f"{len(objects)} csv files in {self.config.folder}")

    async def discover(self) -> list[ObjectInfo]:
        """One object per file, with field types inferred from its first rows."""
        names = await self._run(files.list_objects, self.config.folder)
        return [await self._run(reader.describe, self.config, name) for name in names]

    async def read(self, object_name: str, since: Cursor | None) -> AsyncIterator[RecordBatch]:
        """Rows added or changed since the cursor's snapshot, then the keys removed."""
        cursor = CsvCursor.from_cursor(since)
        scanner = await self._run(reader.ChangeScanner, self.config, object_name, cursor)
        try:
            while (batch := await self._run(scanner.next_batch)) is not None:
                yield batch
        finally:
            await self._run(scanner.close)

    async def read_keys(self, object_name: str, keys: Sequence[Key]) -> AsyncIterator[RecordBatch]:
        """The rows with ``keys`` as they are now, from one pass over the file; keys that
        no row has any more come back as deleted."""
        unique = list(dict.fromkeys(keys))
        if not unique:
            return
        found = await self._run(reader.find_records, self.config, object_name, unique)
        records, size = list(found.values()), self.config.batch_size
        for start in range(0, len(records), size):
            yield RecordBatch(records[start : start + size], None)
        if gone := absent(unique, found):
            yield RecordBatch([], None, gone)

    async def write(self, object_name: str, records: Sequence[Record]) -> list[WriteResult]:
        """Upsert by key in one atomic rewrite of the file (created if missing)."""
        return await self._run(writer.upsert, self.config, object_name, records)

    async def delete(self, object_name: str, keys: Sequence[Key]) -> list[WriteResult]:
        """Remove rows by key in one atomic rewrite of the file."""
        return await self._run(writer.delete, self.config, object_name, keys)

    async def _run(self, function: Callable[..., T], *args: object) -> T:
        """Run blocking file work in a thread; a folder that hangs or fails is unavailable."""
        timeout = self.config.timeout_s
        try:
            async with asyncio.timeout(timeout):
                return await asyncio.to_thread(function, *args)
        except TimeoutError:
            raise ConnectorUnavailable(f"the folder did not answer within {timeout:g}s") from None
        except OSError as exc:
            raise ConnectorUnavailable(
                f"the folder cannot be used: {exc.strerror or exc}"
            ) from None
