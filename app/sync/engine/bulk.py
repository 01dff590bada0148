"""Bulk INSERTs of the run engine's rows (record links, run items), each value converted once.

``session.execute(insert(table), rows)`` builds every row's parameters anew and runs
every value through its type's bind processor (UUIDs, JSON, datetimes, enums): a
large share of an initial sync's CPU time. The rows of one batch mostly share their
values (tenant, run, interface, object, direction, empty error fields). Here the
INSERT is compiled once per dialect, table and column set; a column whose value is
the same object in every row is converted once, the others row by row, each with
the dialect's own processor; the driver gets all rows in one executemany. What is
stored is exactly what ``session.execute`` would store.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, insert
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncSession

Processor = Callable[[Any], Any]


@dataclass(frozen=True, slots=True)
class _Statement:
    """A compiled INSERT: its SQL, and per positional parameter the column and processor."""

    sql: str
    keys: tuple[str, ...]
    processors: tuple[Processor | None, ...]


async def insert_rows(
    session: AsyncSession, table: Table, rows: Sequence[Mapping[str, Any]]
) -> None:
    """Insert ``rows`` (all with the same keys: column names) into ``table`` in one call."""
    if not rows:
        return
    connection = await session.connection()
    statement = _compile(connection.dialect, table, frozenset(rows[0]))
    columns = [
        _column(rows, key, process)
        for key, process in zip(statement.keys, statement.processors, strict=True)
    ]
    await connection.exec_driver_sql(statement.sql, list(zip(*columns, strict=True)))


def _column(rows: Sequence[Mapping[str, Any]], key: str, process: Processor | None) -> list[Any]:
    """One column's parameter values: converted once when every row holds the same object."""
    first = rows[0][key]
    if all(row[key] is first for row in rows):
        return [process(first) if process else first] * len(rows)
    if process is None:
        return [row[key] for row in rows]
    return [process(row[key]) for row in rows]


@functools.lru_cache(maxsize=64)
def _compile(dialect: Dialect, table: Table, keys: frozenset[str]) -> _Statement:
    compiled = insert(table).compile(dialect=dialect, column_keys=sorted(keys))
    order = tuple(compiled.positiontup or ())
    if not compiled.positional or set(order) != keys:
        # a named paramstyle, or a column default the rows leave to SQLAlchemy
        raise ValueError(f"cannot bulk insert {sorted(keys)} into {table.name} on {dialect.name}")
    processors = compiled._bind_processors  # the dialect's own conversions
    return _Statement(compiled.string, order, tuple(_single(processors.get(k)) for k in order))


def _single(process: Processor | Sequence[Processor] | None) -> Processor | None:
    """One column's processor (a tuple type, with one per element, is not bulk inserted)."""
    if isinstance(process, Sequence):
        raise ValueError("cannot bulk insert a tuple type")
    return process
