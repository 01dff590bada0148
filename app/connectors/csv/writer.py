"""Upserts and deletes on one csv file, as a single atomic rewrite (blocking; run in a thread).

Rows keep their place and their column order; rows not named are copied
untouched (cell for cell, extra cells included); new rows go to the end. A
record fails alone when it has no key, names a column the file does not have,
or holds text the file's encoding cannot represent.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from app.connectors.base import Key, Record, WriteOutcome, WriteResult
from app.connectors.csv.config import CsvConfig
from app.connectors.csv.files import (
    Rewrite,
    Row,
    RowWriter,
    object_path,
    padded,
    require_folder,
    rewrite,
)
from app.connectors.csv.reader import key_index
from app.connectors.csv.values import format_value


def upsert(config: CsvConfig, object_name: str, records: Sequence[Record]) -> list[WriteResult]:
    """Create or update ``records`` by key; one result per record, in order."""
    plan = _Upsert(config, object_name, records)
    if plan.pending:
        _rewrite(config, object_name, plan.apply)
    return plan.results()


def delete(config: CsvConfig, object_name: str, keys: Sequence[Key]) -> list[WriteResult]:
    """Remove the rows with these keys; a key not in the file is ``unchanged``."""
    found: set[Key] = set()

    def apply(header: Row, rows: Iterator[Row], writer: RowWriter) -> bool:
        index = key_index(header, config, object_name)
        writer.writerow(header)
        wanted = set(keys)
        for row in rows:
            key = row[index] if index < len(row) else ""
            if key in wanted:
                found.add(key)
            else:
                writer.writerow(row)
        return bool(found)

    _rewrite(config, object_name, apply)
    return [
        WriteResult(key, WriteOutcome.deleted if key in found else WriteOutcome.unchanged)
        for key in keys
    ]


def _rewrite(config: CsvConfig, object_name: str, apply: Rewrite) -> None:
    path = object_path(config.folder, object_name)
    require_folder(config.folder)
    rewrite(config, path, apply)


class _Upsert:
    """The records of one write call, grouped by key, applied during one pass over the file."""

    def __init__(self, config: CsvConfig, object_name: str, records: Sequence[Record]) -> None:
        self._config = config
        self._object = object_name
        self._records = records
        self._column = config.key_column(object_name)
        self._results: dict[int, WriteResult] = {}
        self.pending: dict[Key, list[int]] = {}  # key → indexes of its records, in order
        for index, record in enumerate(records):
            key = format_value(record.get(self._column), config.decimal_separator)
            if key:
                self.pending.setdefault(key, []).append(index)
            else:
                self._fail(index, "", f"the key column {self._column!r} is missing or empty")

    def apply(self, header: Row, rows: Iterator[Row], writer: RowWriter) -> bool:
        """Write the file with the records merged in; whether any row changed."""
        header = header or self._new_header()
        index = key_index(header, self._config, self._object)
        self._refuse_unfit(header)
        writer.writerow(header)
        changed = False
        for row in rows:
            key = row[index] if index < len(row) else ""
            indexes = self.pending.pop(key, None)
            if indexes is not None:
                row, touched = self._merge(header, row, indexes, created=False)
                changed |= touched
            writer.writerow(row)
        for indexes in self.pending.values():
            row, _ = self._merge(header, [""] * len(header), indexes, created=True)
            writer.writerow(row)
            changed = True
        return changed

    def results(self) -> list[WriteResult]:
        """One result per record, in the order they were given."""
        return [self._results[index] for index in range(len(self._records))]

    def _new_header(self) -> Row:
        columns = dict.fromkeys([self._column])
        for record in self._records:
            columns.update(dict.fromkeys(record))
        return list(columns)

    def _merge(self, header: Row, row: Row, indexes: list[int], created: bool) -> tuple[Row, bool]:
        """The row with each record's values set in turn; whether it changed."""
        original = padded(row, len(header))
        cells = list(original)
        for position, index in enumerate(indexes):
            before = list(cells)
            for column, value in self._records[index].items():
                cells[header.index(column)] = format_value(value, self._config.decimal_separator)
            outcome = WriteOutcome.unchanged if cells == before else WriteOutcome.updated
            if created and position == 0:
                outcome = WriteOutcome.created
            self._results[index] = WriteResult(cells[header.index(self._column)], outcome)
        return cells, created or cells != original

    def _refuse_unfit(self, header: Row) -> None:
        """Fail the records that name unknown columns or cannot be encoded."""
        for key, indexes in list(self.pending.items()):
            for index in list(indexes):
                reason = self._unfit(header, self._records[index])
                if reason is not None:
                    self._fail(index, key, reason)
                    indexes.remove(index)
            if not indexes:
                del self.pending[key]

    def _unfit(self, header: Row, record: Mapping[str, Any]) -> str | None:
        unknown = [column for column in record if column not in header]
        if unknown:
            return f"unknown columns: {', '.join(unknown)}"
        for column, value in record.items():
            text = format_value(value, self._config.decimal_separator)
            try:
                text.encode(self._config.encoding)
            except UnicodeEncodeError:
                return f"{column!r} cannot be written in {self._config.encoding}"
        return None

    def _fail(self, index: int, key: Key, reason: str) -> None:
        self._results[index] = WriteResult(key, WriteOutcome.failed, reason)
