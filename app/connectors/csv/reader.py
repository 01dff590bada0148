"""Discovery and change reads over one csv file (blocking; run in a worker thread).

Types are inferred from the first ``SAMPLE_ROWS`` rows of the same open file
that is then streamed, so a read never holds more than one batch of records
(plus the key → hash snapshot it builds as it goes). Rows without a key, and
later rows repeating a key (the first row counts), are reported as unreadable.
A lookup by key (``find_records``) is one pass that keeps only the rows asked for.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from itertools import chain, islice

from app.connectors.base import (
    Cursor,
    FieldInfo,
    FieldType,
    Key,
    ObjectInfo,
    Record,
    RecordBatch,
    UnreadableRecord,
)
from app.connectors.csv.config import CsvConfig
from app.connectors.csv.files import OpenFile, Row, existing_object, open_rows, padded
from app.connectors.csv.snapshot import (
    CsvCursor,
    PrefixDigest,
    Snapshot,
    encode_snapshot,
    row_hash,
)
from app.connectors.csv.values import infer_type, parse
from app.connectors.errors import ConnectorConfigError

SAMPLE_ROWS = 1000


@dataclass(frozen=True, slots=True)
class Table:
    """A file's columns, their inferred types, and which columns had empty cells."""

    header: Row
    types: tuple[FieldType, ...]
    nullable: tuple[bool, ...]

    @classmethod
    def sample(cls, opened: OpenFile, config: CsvConfig) -> tuple[Table, list[Row]]:
        """Infer the columns from the first rows; returns them too, to be read again."""
        rows = [padded(row, len(opened.header)) for row in islice(opened.rows, SAMPLE_ROWS)]
        columns = list(zip(*rows, strict=False)) or [() for _ in opened.header]
        types = tuple(infer_type(cells, config.decimal_separator) for cells in columns)
        nullable = tuple(not cells or "" in cells for cells in columns)
        return cls(opened.header, types, nullable), rows

    def record(self, row: Row, config: CsvConfig) -> Record:
        """The typed record of a row (missing trailing cells are empty)."""
        cells = padded(row, len(self.header))
        return {
            column: parse(cell, field_type, config.decimal_separator)
            for column, field_type, cell in zip(self.header, self.types, cells, strict=False)
        }


def describe(config: CsvConfig, object_name: str) -> ObjectInfo:
    """The object of one file: fields with inferred types, its key and cursor column."""
    with open_rows(config, existing_object(config, object_name)) as opened:
        table, _ = Table.sample(opened, config)
    key = config.key_column(object_name)
    cursor = config.cursor_columns.get(object_name)
    fields = tuple(
        FieldInfo(
            name=column,
            type=field_type,
            nullable=nullable and column != key,
            is_key=column == key,
            can_be_cursor=column == cursor,
        )
        for column, field_type, nullable in zip(
            table.header, table.types, table.nullable, strict=True
        )
    )
    has_key = key in table.header
    return ObjectInfo(object_name, fields, (key,) if has_key else (), detects_deletes=True)


def key_index(header: Row, config: CsvConfig, object_name: str) -> int:
    """The position of the object's key column; a clear error when the file lacks it."""
    key = config.key_column(object_name)
    if key not in header:
        raise ConnectorConfigError("keys", f"{object_name}.csv has no key column {key!r}")
    return header.index(key)


def find_records(config: CsvConfig, object_name: str, keys: Sequence[Key]) -> dict[Key, Record]:
    """The records of the rows with ``keys`` (the first row of a repeated key), by key.

    A key matches the key cell as written or as its typed value (``10.5`` finds
    ``10,5`` under a decimal comma): records carry typed values, and keys come from them.
    """
    wanted, found = set(keys), {}
    with open_rows(config, existing_object(config, object_name)) as opened:
        index = key_index(opened.header, config, object_name)
        table, sample = Table.sample(opened, config)
        key_type, separator = table.types[index], config.decimal_separator
        for row in chain(sample, opened.rows):
            cell = row[index] if index < len(row) else ""
            key = cell if cell in wanted else str(parse(cell, key_type, separator))
            if cell and key in wanted and key not in found:
                found[key] = table.record(row, config)
                if len(found) == len(wanted):
                    break
    return found


class ChangeScanner:
    """One pass over a file, yielding the rows whose hash differs from the cursor's snapshot."""

    def __init__(self, config: CsvConfig, object_name: str, since: CsvCursor) -> None:
        self._config = config
        self._object = object_name
        self._since = since
        self._baseline = since.baseline()
        self._files = ExitStack()
        self._finished = False
        self._start(skip=since.rows_done if since.prefix is not None else 0)

    def next_batch(self) -> RecordBatch | None:
        """The next batch of changed records; the last one has the deletions; then None."""
        if self._finished:
            return None
        records: list[Record] = []
        unreadable: list[UnreadableRecord] = []
        while (row := next(self._rows, None)) is not None or self._index < self._skip:
            if row is None:  # the file got shorter than the rows an earlier pass had done
                self._start(skip=0)
            elif self._changed(row):
                records.append(self._table.record(row, self._config))
                if len(records) >= self._config.batch_size:
                    return RecordBatch(records, self._progress(), unreadable=unreadable)
            elif (problem := self._problem(row)) is not None:
                unreadable.append(problem)
        self._finished = True
        deleted = [key for key in self._baseline if key not in self._snapshot]
        cursor = CsvCursor(encode_snapshot(self._snapshot)).to_cursor()
        return RecordBatch(records, cursor, deleted, unreadable)

    def close(self) -> None:
        """Close the file."""
        self._files.close()

    def _start(self, skip: int) -> None:
        """(Re)open the file; the first ``skip`` rows were dealt with by an interrupted pass."""
        self.close()
        opened = self._files.enter_context(
            open_rows(self._config, existing_object(self._config, self._object))
        )
        try:
            self._key = key_index(opened.header, self._config, self._object)
            self._table, sample = Table.sample(opened, self._config)
        except BaseException:
            self.close()
            raise
        self._rows = chain(sample, opened.rows)
        self._snapshot: Snapshot = {}
        self._prefix = PrefixDigest()
        self._index = 0
        self._skip = skip

    def _changed(self, row: Row) -> bool:
        """Whether to report the row (its key and hash go into the new snapshot either way)."""
        self._index += 1
        digest = row_hash(row)
        self._prefix.add(digest)
        key = row[self._key] if self._key < len(row) else ""
        first = bool(key) and key not in self._snapshot
        self._first_occurrence = first
        if first:
            self._snapshot[key] = digest
        if self._index == self._skip and self._prefix.hexdigest() != self._since.prefix:
            self._start(skip=0)  # the rows done before changed since: compare them all again
            return False
        return first and self._index > self._skip and self._baseline.get(key) != digest

    def _problem(self, row: Row) -> UnreadableRecord | None:
        """Why a row that was not reported is unusable, or None if it was simply unchanged."""
        if self._index <= self._skip:
            return None
        raw = dict(zip(self._table.header, row, strict=False))
        key = row[self._key] if self._key < len(row) else ""
        if not key:
            return UnreadableRecord(f"row {self._index} has no value in the key column", raw)
        if not self._first_occurrence:
            return UnreadableRecord(f"row {self._index} repeats key {key!r}", raw, key)
        return None

    def _progress(self) -> Cursor:
        cursor = CsvCursor(self._since.snapshot, self._index, self._prefix.hexdigest())
        return cursor.to_cursor()
