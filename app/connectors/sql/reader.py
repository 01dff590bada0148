"""Keyset paging on (cursor, key): one bounded SELECT per batch.

Rows come ordered by the cursor column, then the key; each batch starts
strictly after the last (cursor, key) pair of the one before. Thousands of
rows sharing one timestamp page correctly, and a row changed during the
read moves behind the reader and is read again at its new position. An
object without a cursor pages on its key alone, and its reads are always
full: the last batch carries no cursor. A lookup by key (``keyed_batch``)
is one SELECT with ``key IN (…)``: soft-deleted and absent keys come back as
deleted.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Connection, Row, Select, and_, or_, select

from app.connectors.base import Cursor, Key, Record, RecordBatch, absent, record_key
from app.connectors.errors import ConnectorConfigError
from app.connectors.sql.schema import SqlObject
from app.connectors.sql.values import coerce, to_json

Position = tuple[Any, ...]  # the (cursor, key…) values of the last row read


def order_columns(obj: SqlObject) -> tuple[str, ...]:
    """The columns rows are ordered and paged by: the cursor (if any), then the key."""
    cursor = obj.info.cursor
    return ((cursor,) if cursor else ()) + obj.info.key


def position_of(obj: SqlObject, since: Cursor | None, zone: ZoneInfo) -> Position | None:
    """The position to read after, from a cursor this connector returned earlier."""
    if since is None:
        return None
    try:
        values = ([since["value"]] if obj.info.cursor else []) + list(since["key"])
        names = order_columns(obj)
        if len(values) != len(names):
            raise ValueError("wrong number of values")
        return tuple(
            coerce(v, obj.field_type(n), naive=n in obj.naive, zone=zone)
            for n, v in zip(names, values, strict=True)
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ConnectorConfigError("since", f"not a cursor of {obj.info.name!r}: {exc}") from None


def batch_query(obj: SqlObject, after: Position | None, limit: int) -> Select[Any]:
    """The SELECT of the next ``limit`` rows after ``after``, in (cursor, key) order."""
    columns = [obj.source.c[name] for name in order_columns(obj)]
    query = select(*obj.source.c).order_by(*columns).limit(limit)
    if obj.info.cursor:
        query = query.where(columns[0].is_not(None))  # rows without a cursor value are not read
    if after is not None:
        # The leading >= lets an index on (cursor, key) serve the OR below as a range.
        query = query.where(columns[0] >= after[0], _after(columns, after))
    return query


def _after(columns: Sequence[ColumnElement[Any]], values: Position) -> ColumnElement[bool]:
    """Lexicographic (a, b, …) > (x, y, …), spelled out so every dialect can run it."""
    head: ColumnElement[bool] = columns[0] > values[0]
    if len(columns) == 1:
        return head
    return or_(head, and_(columns[0] == values[0], _after(columns[1:], values[1:])))


def next_batch(
    connection: Connection, *, obj: SqlObject, after: Position | None, limit: int
) -> tuple[RecordBatch, Position, bool] | None:
    """The next batch after ``after``, the position after it, and whether more may follow."""
    rows = connection.execute(batch_query(obj, after, limit)).all()
    if not rows:
        return None
    more = len(rows) == limit
    names = tuple(obj.source.c.keys())
    last = dict(zip(names, rows[-1], strict=True))
    position = tuple(last[name] for name in order_columns(obj))  # raw values bind back exactly
    return to_batch(obj, rows, last=not more), position, more


def keyed_batch(
    connection: Connection, *, obj: SqlObject, keys: Sequence[Key], zone: ZoneInfo
) -> RecordBatch:
    """The rows with ``keys`` as they are now; soft-deleted and absent keys as deleted."""
    wanted = [values for key in keys if (values := obj.key_values(key, zone)) is not None]
    query = select(*obj.source.c).where(obj.key_in(wanted))
    rows = connection.execute(query).all() if wanted else []
    records, deleted = _records(obj, rows)
    found = {record_key(record, obj.info.key) for record in records} | set(deleted)
    return RecordBatch(records, None, [*deleted, *absent(keys, found)])


def to_batch(obj: SqlObject, rows: Sequence[Row[Any]], *, last: bool) -> RecordBatch:
    """Records and soft-deleted keys of ``rows``, with the cursor to resume after them."""
    records, deleted = _records(obj, rows)
    names = tuple(obj.source.c.keys())
    return RecordBatch(records, _cursor(obj, rows[-1], names, last=last), deleted)


def _records(obj: SqlObject, rows: Sequence[Row[Any]]) -> tuple[list[Record], list[Key]]:
    """The records of ``rows`` (values converted), and the keys of the soft-deleted ones."""
    records: list[Record] = []
    deleted: list[Key] = []
    names = tuple(obj.source.c.keys())
    converters = tuple(obj.converters.get(name) for name in names)
    for row in rows:
        record = {
            name: convert(value) if convert else value
            for name, value, convert in zip(names, row, converters, strict=True)
        }
        if obj.soft_delete and record.pop(obj.soft_delete) is not None:
            deleted.append(record_key(record, obj.info.key))
        else:
            records.append(record)
    return records, deleted


def _cursor(obj: SqlObject, row: Row[Any], names: tuple[str, ...], *, last: bool) -> Cursor | None:
    if obj.info.cursor is None and last:
        return None  # no change cursor: the next read starts over
    values = dict(zip(names, row, strict=True))

    def as_json(name: str) -> Any:
        convert = obj.converters.get(name)
        return to_json(convert(values[name]) if convert else values[name])

    cursor: Cursor = {"key": [as_json(k) for k in obj.info.key]}
    if obj.info.cursor:
        cursor["value"] = as_json(obj.info.cursor)
    return cursor
