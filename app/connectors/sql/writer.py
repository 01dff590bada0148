"""Writes: dialect-aware upserts and deletes by key, one result per record.

Within one transaction the stored rows are read first, which tells created
from updated and lets unchanged rows be skipped; the rest are upserted in
batches (INSERT … ON CONFLICT on PostgreSQL and SQLite, ON DUPLICATE KEY
UPDATE on MySQL/MariaDB). A batch that violates a constraint is rolled back
to its savepoint and retried row by row, so a bad row fails alone.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    Connection,
    Executable,
    Table,
    and_,
    bindparam,
    delete,
    select,
    update,
)
from sqlalchemy.dialects.mysql import insert as mysql_insert
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import DataError, IntegrityError

from app.connectors.base import Key, Record, WriteOutcome, WriteResult, record_key
from app.connectors.sql.schema import SqlObject
from app.connectors.sql.values import coerce, same

UPSERT_DIALECTS = frozenset({"postgresql", "sqlite", "mysql", "mariadb"})
_LOOKUP_CHUNK = 500
Explain = Callable[[Exception], str]  # a failed row's reason, without secrets
_Pending = tuple[int, Key, dict[str, Any]]  # position in the input, key, column values


def write_records(
    connection: Connection,
    obj: SqlObject,
    records: Sequence[Record],
    zone: ZoneInfo,
    explain: Explain,
) -> list[WriteResult]:
    """Upsert ``records`` into ``obj``'s table; unchanged rows are not written."""
    results: list[WriteResult] = [WriteResult("", WriteOutcome.unchanged)] * len(records)
    pending: list[_Pending] = []
    for index, record in enumerate(records):
        prepared = _prepare(obj, record, zone)
        if isinstance(prepared, WriteResult):
            results[index] = prepared
        else:
            pending.append((index, record_key(prepared, obj.info.key), prepared))
    written = {name for _, _, values in pending for name in values}
    stored = _stored(connection, obj, [values for _, _, values in pending], written)
    groups: dict[tuple[str, ...], list[_Pending]] = defaultdict(list)
    seen: set[Key] = set(stored)  # a key written twice in one call is created once
    for index, key, values in pending:
        before = stored.get(key)
        if before is not None and all(same(before[c], v, zone) for c, v in values.items()):
            results[index] = WriteResult(key, WriteOutcome.unchanged)
            continue
        outcome = WriteOutcome.updated if key in seen else WriteOutcome.created
        results[index] = WriteResult(key, outcome)
        seen.add(key)
        groups[tuple(values)].append((index, key, values))
    for columns, items in groups.items():
        statement = _upsert(connection.dialect.name, obj, columns)
        _apply(connection, statement, items, results, explain)
    return results


_STAMP = "hubsync_deleted_at"  # bind name of the soft-delete stamp (never a column name)


def delete_keys(
    connection: Connection, obj: SqlObject, keys: Sequence[Key], zone: ZoneInfo, explain: Explain
) -> list[WriteResult]:
    """Delete rows by key (stamping the soft-delete column where the object has one); a key
    that is not stored is ``unchanged``."""
    results = [WriteResult(key, WriteOutcome.deleted) for key in keys]
    pending: list[_Pending] = []
    for index, key in enumerate(keys):
        values = obj.key_values(key, zone)
        if values is None:
            results[index] = WriteResult(key, WriteOutcome.failed, "not a key of this object")
        else:
            pending.append((index, key, values))
    marks = {obj.soft_delete} if obj.soft_delete else set()
    stored = _stored(connection, obj, [values for _, _, values in pending], marks)
    live = {k for k, row in stored.items() if not obj.soft_delete or row[obj.soft_delete] is None}
    found = [item for item in pending if item[1] in live]
    for index, key, _ in pending:
        if key not in live:
            results[index] = WriteResult(key, WriteOutcome.unchanged)
    table = _table(obj)
    if obj.soft_delete is None:
        match = and_(*(table.c[k] == bindparam(k, type_=table.c[k].type) for k in obj.info.key))
        _apply(connection, delete(table).where(match), found, results, explain)
        return results
    # the ERP's own way of deleting: stamp the soft-delete column (rows stay for its references)
    column = table.c[obj.soft_delete]
    now = datetime.now(zone)
    stamp = now.replace(tzinfo=None) if obj.soft_delete in obj.naive else now
    by_key = and_(  # an UPDATE may not bind a column's own name: prefix the key binds
        *(table.c[k] == bindparam(f"key_{k}", type_=table.c[k].type) for k in obj.info.key)
    )
    stamped = [
        (i, k, {_STAMP: stamp} | {f"key_{name}": v for name, v in values.items()})
        for i, k, values in found
    ]
    soft = update(table).where(by_key).values({column: bindparam(_STAMP)})
    _apply(connection, soft, stamped, results, explain)
    return results


def _prepare(obj: SqlObject, record: Record, zone: ZoneInfo) -> dict[str, Any] | WriteResult:
    """The record's values as the columns take them, or why it cannot be written."""
    table = _table(obj)
    key = record_key({k: record.get(k, "") for k in obj.info.key}, obj.info.key)
    missing = [k for k in obj.info.key if record.get(k) is None]
    unknown = [name for name in record if name not in table.c]
    if missing or unknown:
        reason = f"missing key field {missing[0]!r}" if missing else f"no column {unknown[0]!r}"
        return WriteResult(key, WriteOutcome.failed, reason)
    try:
        return {
            name: coerce(value, obj.field_type(name), naive=name in obj.naive, zone=zone)
            for name, value in record.items()
        }
    except ValueError as exc:
        return WriteResult(key, WriteOutcome.failed, f"{exc}")


def _stored(
    connection: Connection, obj: SqlObject, rows: Sequence[Mapping[str, Any]], columns: set[str]
) -> dict[Key, dict[str, Any]]:
    """The stored values of ``columns`` for the rows with these keys, by key."""
    table, key = _table(obj), obj.info.key
    wanted = [table.c[name] for name in dict.fromkeys((*key, *sorted(columns)))]
    found: dict[Key, dict[str, Any]] = {}
    for start in range(0, len(rows), _LOOKUP_CHUNK):
        chunk = rows[start : start + _LOOKUP_CHUNK]
        for row in connection.execute(select(*wanted).where(obj.key_in(chunk))).mappings():
            stored = dict(row)
            found[record_key(stored, key)] = stored
    return found


def _upsert(dialect: str, obj: SqlObject, columns: tuple[str, ...]) -> Executable:
    """INSERT … ON CONFLICT / ON DUPLICATE KEY UPDATE of ``columns``, for this dialect."""
    table, key = _table(obj), obj.info.key
    changing = [c for c in columns if c not in key] or [key[0]]  # at least one SET item
    if dialect in {"mysql", "mariadb"}:
        mysql = mysql_insert(table)
        return mysql.on_duplicate_key_update({c: mysql.inserted[c] for c in changing})
    insert = postgresql_insert(table) if dialect == "postgresql" else sqlite_insert(table)
    return insert.on_conflict_do_update(
        index_elements=list(key), set_={c: insert.excluded[c] for c in changing}
    )


def _apply(
    connection: Connection,
    statement: Executable,
    items: Sequence[_Pending],
    results: list[WriteResult],
    explain: Explain,
) -> None:
    """Run ``statement`` for all items in one savepoint; after a failure, one by one."""
    if not items:
        return
    for (index, key, _), reason in zip(
        items, _attempt(connection, statement, items, explain), strict=True
    ):
        if reason is not None:
            results[index] = WriteResult(key, WriteOutcome.failed, reason)


def _attempt(
    connection: Connection, statement: Executable, items: Sequence[_Pending], explain: Explain
) -> Iterator[str | None]:
    try:
        with connection.begin_nested():
            connection.execute(statement, [values for _, _, values in items])
    except (IntegrityError, DataError) as exc:
        if len(items) == 1:
            yield explain(exc)
            return
        for item in items:
            yield from _attempt(connection, statement, [item], explain)
        return
    yield from (None for _ in items)


def _table(obj: SqlObject) -> Table:
    if obj.table is None:
        raise TypeError(f"{obj.info.name} is not a table")  # callers check writable first
    return obj.table
