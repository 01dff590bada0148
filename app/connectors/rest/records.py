"""Records in JSON bodies: where they sit, what types they hold, how values go back to JSON."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from app.connectors.base import FieldType, Record

_PYTHON_TYPES: tuple[tuple[type, FieldType], ...] = (
    (bool, FieldType.boolean),  # before int: a bool is an int
    (int, FieldType.integer),
    (float, FieldType.number),
    (dict, FieldType.json),
    (list, FieldType.json),
)


def json_default(value: object) -> object:
    """JSON for the values JSON lacks: dates as ISO 8601, decimals as numbers."""
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def dig(body: Any, path: str) -> Any:
    """The value at a dotted ``path`` of ``body`` ("" is the body itself); None if absent."""
    for part in filter(None, path.split(".")):
        if not isinstance(body, Mapping):
            return None
        body = body.get(part)
    return body


def records_at(body: Any, path: str) -> list[Record] | None:
    """The list of record objects at ``path``, or None when there is none."""
    found = dig(body, path)
    if not isinstance(found, list) or not all(isinstance(r, dict) for r in found):
        return None
    return found


def parse_datetime(value: object) -> dt.datetime | None:
    """An ISO 8601 string (or datetime) as an aware datetime (naive means UTC), else None."""
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, str) and len(value) >= 10 and value[4:5] == "-":
        try:
            moment = dt.datetime.fromisoformat(value)
        except ValueError:
            return None
    else:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def coerce(record: Record, types: Mapping[str, FieldType]) -> Record:
    """``record`` with ISO strings of declared date and datetime fields made Python values."""
    for name, kind in types.items():
        value = record.get(name)
        if kind is FieldType.datetime and (moment := parse_datetime(value)) is not None:
            record[name] = moment
        elif kind is FieldType.date and isinstance(value, str):
            try:
                record[name] = dt.date.fromisoformat(value)
            except ValueError:
                continue
    return record


def infer_type(values: list[Any]) -> FieldType:
    """The field type the non-null sample ``values`` suggest (string when unsure)."""
    kinds = {_type_of(v) for v in values if v is not None}
    if kinds == {FieldType.integer, FieldType.number}:
        return FieldType.number
    return kinds.pop() if len(kinds) == 1 else FieldType.string


def _type_of(value: Any) -> FieldType:
    if isinstance(value, str):
        return FieldType.datetime if parse_datetime(value) else FieldType.string
    return next((kind for py, kind in _PYTHON_TYPES if isinstance(value, py)), FieldType.string)
