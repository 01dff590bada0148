"""Objects by inspection: tables and views as the database describes them, and SELECTs.

Identifiers come only from the database's own catalogue or from the
configuration, and SQLAlchemy quotes them. A configured SELECT is wrapped
as a subquery (its colons escaped, so it can carry no bind parameters);
its columns and their types come from a sample of its rows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    Column,
    ColumnElement,
    Connection,
    MetaData,
    Table,
    and_,
    column,
    inspect,
    literal_column,
    or_,
    select,
    text,
)
from sqlalchemy.engine import Result
from sqlalchemy.exc import NoSuchTableError
from sqlalchemy.sql import FromClause

from app.connectors.base import FieldInfo, FieldType, Key, ObjectInfo
from app.connectors.errors import ConnectorConfigError
from app.connectors.sql.config import ObjectSpec, SqlConfig
from app.connectors.sql.values import (
    Converter,
    coerce,
    is_rowversion,
    python_field_type,
    read_converter,
    sql_field_type,
    stores_naive,
)

_SAMPLE_ROWS = 20
_CURSOR_HINTS = ("updat", "modif", "chang")


@dataclass(frozen=True, slots=True)
class SqlObject:
    """One readable object: what discovery reports, and how to select and convert it."""

    info: ObjectInfo
    source: FromClause
    table: Table | None  # set when the object can be written
    soft_delete: str | None
    converters: dict[str, Converter]
    naive: frozenset[str]  # columns holding timestamps without a zone

    def field_type(self, name: str) -> FieldType:
        """The type of column ``name`` (the soft-delete column is not a field: text)."""
        found = self.info.field(name)
        return found.type if found else FieldType.string

    def key_values(self, key: Key, zone: ZoneInfo) -> dict[str, Any] | None:
        """The key columns' values of ``key`` (``a|b`` for two columns); None if it cannot
        be one (wrong number of parts, or a value the column's type does not take)."""
        parts = key.split("|") if len(self.info.key) > 1 else [key]
        if len(parts) != len(self.info.key):
            return None
        try:
            return {
                name: coerce(part, self.field_type(name), naive=name in self.naive, zone=zone)
                for name, part in zip(self.info.key, parts, strict=True)
            }
        except ValueError:
            return None

    def key_in(self, rows: Sequence[Mapping[str, Any]]) -> ColumnElement[bool]:
        """``key IN (…)`` over the key values of ``rows``; composite keys as ORed pairs of
        equalities, which every dialect runs (SQL Server has no row-value IN)."""
        columns = [self.source.c[name] for name in self.info.key]
        if len(columns) == 1:
            return columns[0].in_([row[columns[0].key] for row in rows])
        return or_(*(and_(*(c == row[c.key] for c in columns)) for row in rows))


def discover(connection: Connection, config: SqlConfig) -> list[SqlObject]:
    """The configured objects, or else every table and view of the schema."""
    names = list(config.objects)
    if not names:
        inspector = inspect(connection)
        schema = config.db_schema
        names = inspector.get_table_names(schema) + inspector.get_view_names(schema)
    return [resolve(connection, config, name) for name in names]


def resolve(connection: Connection, config: SqlConfig, name: str) -> SqlObject:
    """The object called ``name``; ConnectorConfigError if it is not configured or absent."""
    spec = config.objects.get(name)
    if spec is None and config.objects:
        known = ", ".join(config.objects)
        raise ConnectorConfigError("object", f"{name!r} is not a configured object ({known})")
    spec = spec or ObjectSpec(table=name)
    if spec.query is not None:
        return _query_object(connection, config, name, spec, spec.query)
    return _table_object(connection, config, name, spec)


def _table_object(
    connection: Connection, config: SqlConfig, name: str, spec: ObjectSpec
) -> SqlObject:
    schema, _, table_name = (spec.table or "").rpartition(".")
    schema = schema or config.db_schema or ""
    try:
        table = Table(table_name, MetaData(), schema=schema or None, autoload_with=connection)
    except NoSuchTableError:
        raise ConnectorConfigError(
            f"objects.{name}.table", f"no table or view {spec.table!r}"
        ) from None
    view = table_name in inspect(connection).get_view_names(schema or None)
    key = spec.key or tuple(c.name for c in table.primary_key.columns)
    cursor = spec.cursor or _default_cursor(table)
    _check_columns(name, spec, set(table.columns.keys()), key)
    zone = config.zone()
    fields, converters = [], {}
    for col in table.columns:
        ftype, rowversion = sql_field_type(col.type), is_rowversion(col.type)
        if (convert := read_converter(ftype, rowversion, zone)) is not None:
            converters[col.name] = convert
        if col.name != spec.soft_delete:
            fields.append(_field(col.name, ftype, col.nullable, key, _can_be_cursor(col)))
    writable = bool(key) and not view and not config.read_only
    info = _info(name, fields, key, cursor, spec, writable=writable)
    naive = frozenset(c.name for c in table.columns if stores_naive(c.type))
    return SqlObject(info, table, None if view else table, spec.soft_delete, converters, naive)


def _query_object(
    connection: Connection, config: SqlConfig, name: str, spec: ObjectSpec, query: str
) -> SqlObject:
    # A user's colon is text, never a bind parameter; a closing ";" would end the subquery.
    escaped = query.strip().rstrip(";").replace(":", "\\:")
    probe = text(escaped).columns().subquery("q")
    sample: Result[Any] = connection.execute(
        select(literal_column("*")).select_from(probe).limit(_SAMPLE_ROWS)
    )
    names, rows = tuple(sample.keys()), sample.all()
    _check_columns(name, spec, set(names), spec.key)
    firsts = [next((row[i] for row in rows if row[i] is not None), None) for i in range(len(names))]
    types = {n: python_field_type(value) for n, value in zip(names, firsts, strict=True)}
    zone = config.zone()
    fields = [
        _field(n, types[n], True, spec.key, n == spec.cursor)
        for n in names
        if n != spec.soft_delete
    ]
    converters = {n: c for n in names if (c := read_converter(types[n], False, zone)) is not None}
    naive = frozenset(
        n
        for n, v in zip(names, firsts, strict=True)
        if isinstance(v, datetime) and v.tzinfo is None
    )
    source = text(escaped).columns(*(column(n) for n in names)).subquery("q")
    info = _info(name, fields, spec.key, spec.cursor, spec, writable=False)
    return SqlObject(info, source, None, spec.soft_delete, converters, naive)


def _check_columns(name: str, spec: ObjectSpec, columns: set[str], key: tuple[str, ...]) -> None:
    for setting, wanted in (
        ("key", key),
        ("cursor", (spec.cursor,)),
        ("soft_delete", (spec.soft_delete,)),
    ):
        missing = [c for c in wanted if c is not None and c not in columns]
        if missing:
            raise ConnectorConfigError(f"objects.{name}.{setting}", f"no column {missing[0]!r}")


def _field(
    name: str, ftype: FieldType, nullable: bool | None, key: tuple[str, ...], cursor: bool
) -> FieldInfo:
    return FieldInfo(name, ftype, bool(nullable), is_key=name in key, can_be_cursor=cursor)


def _info(
    name: str,
    fields: list[FieldInfo],
    key: tuple[str, ...],
    cursor: str | None,
    spec: ObjectSpec,
    *,
    writable: bool,
) -> ObjectInfo:
    return ObjectInfo(
        name,
        tuple(fields),
        key,
        cursor=cursor,
        writable=writable,
        detects_deletes=spec.soft_delete is not None,
    )


def _can_be_cursor(col: Column[object]) -> bool:
    """Timestamps and rowversions change on every write; sequences grow with each insert."""
    ftype = sql_field_type(col.type)
    if is_rowversion(col.type) or ftype is FieldType.datetime:
        return True
    return ftype is FieldType.integer and (col.autoincrement is True or col.identity is not None)


def _default_cursor(table: Table) -> str | None:
    """A rowversion, else a timestamp named like "updated_at"/"modified"/"changed"."""
    rowversions = [c.name for c in table.columns if is_rowversion(c.type)]
    stamps = [
        c.name
        for c in table.columns
        if sql_field_type(c.type) is FieldType.datetime
        and any(hint in c.name.lower() for hint in _CURSOR_HINTS)
    ]
    return next(iter(rowversions + stamps), None)
