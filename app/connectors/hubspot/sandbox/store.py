"""The portal's records in SQLite: one JSON column of properties, an index table for unique values.

Synchronous on purpose: each call takes microseconds, and a batch is one transaction.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

_SCHEMA = """
CREATE TABLE IF NOT EXISTS objects (
    id INTEGER PRIMARY KEY, type_id TEXT NOT NULL, props TEXT NOT NULL,
    created_ms INTEGER NOT NULL, updated_ms INTEGER NOT NULL,
    archived INTEGER NOT NULL DEFAULT 0, archived_ms INTEGER
);
CREATE INDEX IF NOT EXISTS objects_type ON objects (type_id, archived, id);
CREATE INDEX IF NOT EXISTS objects_updated ON objects (type_id, archived, updated_ms);
CREATE TABLE IF NOT EXISTS uniques (
    type_id TEXT NOT NULL, prop TEXT NOT NULL, value TEXT NOT NULL, object_id INTEGER NOT NULL,
    PRIMARY KEY (type_id, prop, value)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS uniques_object ON uniques (object_id);
CREATE TABLE IF NOT EXISTS associations (
    from_id INTEGER NOT NULL, to_type TEXT NOT NULL, to_id INTEGER NOT NULL,
    type_id INTEGER NOT NULL, category TEXT NOT NULL,
    PRIMARY KEY (from_id, to_type, to_id, type_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS associations_to ON associations (to_id);
CREATE TABLE IF NOT EXISTS definitions (
    kind TEXT NOT NULL, type_id TEXT NOT NULL, name TEXT NOT NULL, body TEXT NOT NULL,
    PRIMARY KEY (kind, type_id, name)
);
CREATE TABLE IF NOT EXISTS custom_objects (number INTEGER PRIMARY KEY, body TEXT NOT NULL);
"""
_COLUMNS = "id, type_id, props, created_ms, updated_ms, archived, archived_ms"


@dataclass(slots=True)
class Record:
    """One CRM record; ``props`` holds only the values that are set."""

    id: int
    type_id: str
    props: dict[str, str]
    created_ms: int
    updated_ms: int
    archived: bool = False
    archived_ms: int | None = None


def _record(row: tuple[Any, ...]) -> Record:
    return Record(row[0], row[1], json.loads(row[2]), row[3], row[4], bool(row[5]), row[6])


def _marks(n: int) -> str:
    return ",".join("?" * n)


class Store:
    """SQLite persistence for one portal (``:memory:`` or a file, WAL for files)."""

    def __init__(self, path: str = ":memory:") -> None:
        self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        if path != ":memory:":
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(_SCHEMA)
        self._next_id = (self.db.execute("SELECT MAX(id) FROM objects").fetchone()[0] or 100) + 1

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """All writes inside commit together or not at all."""
        self.db.execute("BEGIN")
        try:
            yield
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    def reset(self) -> None:
        """Forget every record, association and custom definition."""
        with self.transaction():
            for table in ("objects", "uniques", "associations", "definitions", "custom_objects"):
                self.db.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed table names
        self._next_id = 101

    def new_ids(self, count: int) -> list[int]:
        """``count`` fresh record ids."""
        first = self._next_id
        self._next_id += count
        return list(range(first, first + count))

    def get(self, ids: Sequence[int], archived: bool = False) -> dict[int, Record]:
        """Records by id that are (not) archived; missing ids are left out."""
        if not ids:
            return {}
        sql = f"SELECT {_COLUMNS} FROM objects WHERE archived = ? AND id IN ({_marks(len(ids))})"  # noqa: S608
        return {r.id: r for r in map(_record, self.db.execute(sql, (int(archived), *ids)))}

    def find_unique(self, type_id: str, prop: str, values: Sequence[str]) -> dict[str, int]:
        """Record ids holding each of ``values`` in unique property ``prop``."""
        if not values:
            return {}
        sql = (
            "SELECT value, object_id FROM uniques WHERE type_id = ? AND prop = ?"  # noqa: S608
            f" AND value IN ({_marks(len(values))})"
        )
        return dict(self.db.execute(sql, (type_id, prop, *values)).fetchall())

    def insert(self, records: Iterable[Record]) -> None:
        """Add new records."""
        self.db.executemany(
            f"INSERT INTO objects ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, 0, NULL)",  # noqa: S608
            [(r.id, r.type_id, _dump(r.props), r.created_ms, r.updated_ms) for r in records],
        )

    def update(self, records: Iterable[Record]) -> None:
        """Save changed properties and modification times."""
        self.db.executemany(
            "UPDATE objects SET props = ?, updated_ms = ? WHERE id = ?",
            [(_dump(r.props), r.updated_ms, r.id) for r in records],
        )

    def claim(self, type_id: str, entries: Iterable[tuple[str, str, int]]) -> None:
        """Index unique values ``(prop, value, record id)``."""
        self.db.executemany(
            "INSERT OR REPLACE INTO uniques VALUES (?, ?, ?, ?)",
            [(type_id, prop, value, oid) for prop, value, oid in entries],
        )

    def release(self, type_id: str, entries: Iterable[tuple[str, str]]) -> None:
        """Drop unique values ``(prop, value)`` from the index."""
        self.db.executemany(
            "DELETE FROM uniques WHERE type_id = ? AND prop = ? AND value = ?",
            [(type_id, prop, value) for prop, value in entries],
        )

    def archive(self, ids: Sequence[int], now_ms: int) -> None:
        """Move records to the recycle bin, freeing their unique values."""
        marks = _marks(len(ids))
        self.db.execute(
            f"UPDATE objects SET archived = 1, archived_ms = ? WHERE id IN ({marks})",  # noqa: S608
            (now_ms, *ids),
        )
        self.db.execute(f"DELETE FROM uniques WHERE object_id IN ({marks})", ids)  # noqa: S608

    def purge(self, ids: Sequence[int]) -> None:
        """Delete records for good, with their unique values and associations."""
        marks = _marks(len(ids))
        self.db.execute(f"DELETE FROM objects WHERE id IN ({marks})", ids)  # noqa: S608
        self.db.execute(f"DELETE FROM uniques WHERE object_id IN ({marks})", ids)  # noqa: S608
        self.db.execute(
            f"DELETE FROM associations WHERE from_id IN ({marks}) OR to_id IN ({marks})",  # noqa: S608
            (*ids, *ids),
        )

    def page(self, type_id: str, after: int, limit: int, archived: bool) -> list[Record]:
        """Up to ``limit`` records from id ``after`` on, by id."""
        sql = (
            f"SELECT {_COLUMNS} FROM objects WHERE type_id = ? AND archived = ?"  # noqa: S608
            " AND id >= ? ORDER BY id LIMIT ?"
        )
        return [_record(r) for r in self.db.execute(sql, (type_id, int(archived), after, limit))]

    def scan(self, type_id: str, until_ms: int, since_ms: int | None = None) -> Iterator[Record]:
        """Active records last written in ``[since_ms, until_ms]``, by id (search candidates)."""
        sql = (
            f"SELECT {_COLUMNS} FROM objects WHERE type_id = ? AND archived = 0"  # noqa: S608
            " AND updated_ms <= ? AND updated_ms >= ? ORDER BY id"
        )
        return map(_record, self.db.execute(sql, (type_id, until_ms, since_ms or -(2**62))))

    def associate(self, rows: Iterable[tuple[int, str, int, int, str]]) -> None:
        """Store associations ``(from id, to type, to id, type id, category)``."""
        self.db.executemany("INSERT OR IGNORE INTO associations VALUES (?, ?, ?, ?, ?)", rows)

    def dissociate(self, pairs: Iterable[tuple[int, int]]) -> None:
        """Remove every association between each ``(a, b)`` pair, both directions."""
        self.db.executemany(
            "DELETE FROM associations"
            " WHERE (from_id = ? AND to_id = ?) OR (from_id = ? AND to_id = ?)",
            [(a, b, b, a) for a, b in pairs],
        )

    def associations(self, from_id: int, to_type: str) -> list[tuple[int, int, str]]:
        """``(to id, type id, category)`` of one record's associations to ``to_type``."""
        sql = (
            "SELECT to_id, type_id, category FROM associations"
            " WHERE from_id = ? AND to_type = ? ORDER BY to_id, type_id"
        )
        return self.db.execute(sql, (from_id, to_type)).fetchall()

    def save_definition(self, kind: str, type_id: str, name: str, body: dict[str, Any]) -> None:
        """Persist a custom property or property group."""
        self.db.execute(
            "INSERT OR REPLACE INTO definitions VALUES (?, ?, ?, ?)",
            (kind, type_id, name, _dump(body)),
        )

    def definitions(self, kind: str) -> list[tuple[str, dict[str, Any]]]:
        """Saved definitions of ``kind`` as ``(type id, body)``, oldest first."""
        rows = self.db.execute(
            "SELECT type_id, body FROM definitions WHERE kind = ? ORDER BY rowid", (kind,)
        )
        return [(type_id, json.loads(body)) for type_id, body in rows]

    def save_custom_object(self, number: int, body: dict[str, Any]) -> None:
        """Persist the definition of custom object type ``2-<number>``."""
        self.db.execute(
            "INSERT OR REPLACE INTO custom_objects VALUES (?, ?)", (number, _dump(body))
        )

    def custom_objects(self) -> list[dict[str, Any]]:
        """Every saved custom object definition, archived ones included, by number."""
        rows = self.db.execute("SELECT body FROM custom_objects ORDER BY number")
        return [json.loads(body) for (body,) in rows]

    def next_custom_number(self) -> int:
        """The ``n`` of the next custom object type ``2-<n>`` (never reused)."""
        return int(
            self.db.execute("SELECT COALESCE(MAX(number), 0) + 1 FROM custom_objects").fetchone()[0]
        )


def _dump(value: object) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
