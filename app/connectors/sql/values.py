"""Column values between the database, records and JSON cursors.

Timestamps stored without a zone are read in the configured zone and come
out timezone-aware; aware values are written back in that zone. Cursor
values are JSON-safe (ISO strings for timestamps, strings for decimals) and
are turned back into the column's type, as known from discovery.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import types as sqltypes
from sqlalchemy.types import TypeEngine

from app.connectors.base import FieldType

Converter = Callable[[Any], Any]

_SQL_TYPES: tuple[tuple[type[TypeEngine[Any]], FieldType], ...] = (
    (sqltypes.Boolean, FieldType.boolean),
    (sqltypes.Integer, FieldType.integer),
    (sqltypes.Numeric, FieldType.number),  # Float too
    (sqltypes.DateTime, FieldType.datetime),
    (sqltypes.Date, FieldType.date),
    (sqltypes.JSON, FieldType.json),
)
_PYTHON_TYPES: tuple[tuple[type, FieldType], ...] = (
    (bool, FieldType.boolean),  # before int: bool is an int
    (int, FieldType.integer),
    (Decimal, FieldType.number),
    (float, FieldType.number),
    (datetime, FieldType.datetime),  # before date: datetime is a date
    (date, FieldType.date),
    (dict, FieldType.json),
    (list, FieldType.json),
)


def is_rowversion(sql_type: TypeEngine[Any]) -> bool:
    """Whether ``sql_type`` is SQL Server's ROWVERSION (alias TIMESTAMP): bytes that grow."""
    return type(sql_type).__name__ in {"ROWVERSION", "TIMESTAMP"} and not isinstance(
        sql_type, sqltypes.DateTime
    )


def sql_field_type(sql_type: TypeEngine[Any]) -> FieldType:
    """The field type of a reflected column type (text for anything unknown)."""
    if is_rowversion(sql_type):
        return FieldType.integer
    return next((ft for cls, ft in _SQL_TYPES if isinstance(sql_type, cls)), FieldType.string)


def python_field_type(value: object) -> FieldType:
    """The field type of a value from a query's result row (text for None or unknown)."""
    return next((ft for cls, ft in _PYTHON_TYPES if isinstance(value, cls)), FieldType.string)


def stores_naive(sql_type: TypeEngine[Any]) -> bool:
    """Whether a timestamp column stores wall-clock time without a zone."""
    return isinstance(sql_type, sqltypes.DateTime) and not sql_type.timezone


def read_converter(field_type: FieldType, rowversion: bool, zone: ZoneInfo) -> Converter | None:
    """How a database value of this field becomes a record value (None: as it is)."""
    if rowversion:
        return lambda value: None if value is None else int.from_bytes(value, "big")
    if field_type is FieldType.datetime:
        return lambda value: _aware(value, zone)
    return None


def _aware(value: Any, zone: ZoneInfo) -> Any:
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=zone)
    return value


def to_json(value: Any) -> Any:
    """A cursor value as JSON: ISO strings for dates and timestamps, text for decimals."""
    if isinstance(value, date):  # datetime too
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def coerce(value: Any, field_type: FieldType, *, naive: bool, zone: ZoneInfo) -> Any:
    """A record or cursor value as the column takes it; ValueError when it does not fit."""
    if value is None:
        return None
    if field_type is FieldType.datetime:
        moment = datetime.fromisoformat(value) if isinstance(value, str) else value
        if not isinstance(moment, datetime):
            raise ValueError(f"not a timestamp: {value!r}")
        return _naive(moment, zone) if naive else _aware(moment, zone)
    converter = _COERCE.get(field_type)
    return converter(value) if converter else value


def _naive(moment: datetime, zone: ZoneInfo) -> datetime:
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(zone).replace(tzinfo=None)


def _number(value: Any) -> Decimal:
    if isinstance(value, bool):
        raise ValueError(f"not a number: {value!r}")
    try:
        return Decimal(str(value))
    except InvalidOperation:
        raise ValueError(f"not a number: {value!r}") from None


def _integer(value: Any) -> int:
    if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
        raise ValueError(f"not an integer: {value!r}")
    return int(value)


def _date(value: Any) -> date:
    if isinstance(value, str):
        return date.fromisoformat(value)
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    raise ValueError(f"not a date: {value!r}")


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if value in (0, 1, "0", "1", "true", "false"):
        return value in (1, "1", "true")
    raise ValueError(f"not a boolean: {value!r}")


def _string(value: Any) -> str:
    if isinstance(value, (dict, list, bytes)):
        raise ValueError(f"not text: {type(value).__name__}")
    return str(value)


_COERCE: dict[FieldType, Converter] = {
    FieldType.number: _number,
    FieldType.integer: _integer,
    FieldType.date: _date,
    FieldType.boolean: _boolean,
    FieldType.string: _string,
}


def same(stored: Any, wanted: Any, zone: ZoneInfo) -> bool:
    """Whether a stored value already equals the value about to be written."""
    if isinstance(stored, float | Decimal) and isinstance(wanted, float | Decimal):
        return Decimal(str(stored)) == Decimal(str(wanted))  # 0.1 (float) is 0.10 (numeric)
    return bool(_aware(stored, zone) == _aware(wanted, zone))
