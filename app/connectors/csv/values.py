"""Cell text ↔ typed values: infer a column's type from a sample, parse and format cells.

Exports hold text; the connector reports ``integer``, ``number`` (with the
configured decimal separator, no thousands separators), ``boolean``
(true/false), ISO ``date`` and ``datetime``, and ``string`` for the rest.
Numbers with a leading zero (article numbers, postcodes) stay strings. A
cell that does not fit its column's type is passed on as its text.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from app.connectors.base import FieldType

_INTEGER = re.compile(r"-?(0|[1-9]\d*)")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}.*")
_BOOLEANS = {"true": True, "false": False}


def _number_pattern(decimal_separator: str) -> re.Pattern[str]:
    return re.compile(r"-?(0|[1-9]\d*)(" + re.escape(decimal_separator) + r"\d+)?")


def _is_date(text: str) -> bool:
    if not _DATE.fullmatch(text):
        return False
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


def _is_datetime(text: str) -> bool:
    if not _DATETIME.fullmatch(text):
        return False
    try:
        datetime.fromisoformat(text)
    except ValueError:
        return False
    return True


def _tests(decimal_separator: str) -> list[tuple[FieldType, Callable[[str], bool]]]:
    number = _number_pattern(decimal_separator)
    return [
        (FieldType.integer, lambda text: _INTEGER.fullmatch(text) is not None),
        (FieldType.number, lambda text: number.fullmatch(text) is not None),
        (FieldType.boolean, lambda text: text.lower() in _BOOLEANS),
        (FieldType.date, _is_date),
        (FieldType.datetime, _is_datetime),
    ]


def infer_type(texts: Iterable[str], decimal_separator: str) -> FieldType:
    """The narrowest type every non-empty text fits (``string`` when there is none)."""
    present = [text for text in texts if text != ""]
    if not present:
        return FieldType.string
    for field_type, fits in _tests(decimal_separator):
        if all(fits(text) for text in present):
            return field_type
    return FieldType.string


def parse(text: str, field_type: FieldType, decimal_separator: str) -> Any:
    """The typed value of a cell (None when empty, the text when it does not fit)."""
    if text == "":
        return None
    try:
        return _PARSERS[field_type](text, decimal_separator)
    except (ValueError, ArithmeticError, KeyError):
        return text


_PARSERS: dict[FieldType, Callable[[str, str], Any]] = {
    FieldType.string: lambda text, _sep: text,
    FieldType.json: lambda text, _sep: text,
    FieldType.integer: lambda text, _sep: int(text),
    FieldType.number: lambda text, sep: Decimal(text.replace(sep, ".")),
    FieldType.boolean: lambda text, _sep: _BOOLEANS[text.lower()],
    FieldType.date: lambda text, _sep: date.fromisoformat(text),
    FieldType.datetime: lambda text, _sep: datetime.fromisoformat(text),
}


def format_value(value: Any, decimal_separator: str) -> str:
    """The cell text of a value: ISO dates, the configured decimal separator, "" for None."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float | Decimal):
        return format(Decimal(str(value)), "f").replace(".", decimal_separator)
    if isinstance(value, date):  # datetime is a date too
        return value.isoformat()
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)
