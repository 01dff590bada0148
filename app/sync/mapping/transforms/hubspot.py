"""Any value in the string form HubSpot's properties API takes."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from functools import lru_cache

from app.sync.mapping.transforms.base import Args, OutputType, TransformValueError
from app.sync.mapping.transforms.dates import DEFAULT_TIMEZONE, Date, DateTime
from app.sync.mapping.transforms.numbers import decimal_text
from app.sync.mapping.transforms.text import HUBSPOT_MULTI_SEPARATOR


def to_hubspot_string(
    value: object, output_type: OutputType | None = None, *, timezone: str = DEFAULT_TIMEZONE
) -> str:
    """``value`` as HubSpot wants it: ``""`` for empty (clears), ``"true"``/``"false"``,
    plain decimals, dates as epoch ms at midnight UTC, datetimes as epoch ms (naive ones
    local in ``timezone``), lists joined with ``;``. Text is passed as it is.
    """
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | Decimal):
        number = Decimal(str(value)) if isinstance(value, float) else Decimal(value)
        if not number.is_finite():
            raise TransformValueError("hubspot", value, "not a finite number")
        return decimal_text(number)
    if isinstance(value, dt.date):
        return _moment(value, output_type, timezone)
    if isinstance(value, list | tuple | set | frozenset):
        items = (to_hubspot_string(v, output_type, timezone=timezone) for v in value)
        return HUBSPOT_MULTI_SEPARATOR.join(item for item in items if item)
    return str(value)


def _moment(value: dt.date, output_type: OutputType | None, timezone: str) -> str:
    is_datetime = isinstance(value, dt.datetime)
    as_datetime = output_type == OutputType.datetime or (is_datetime and output_type is None)
    converter = _converters(timezone)[as_datetime]
    return str(converter.forward(value))


@lru_cache(maxsize=16)
def _converters(timezone: str) -> tuple[Date, DateTime]:
    arguments = {"timezone": timezone}
    return Date(Args("date", arguments)), DateTime(Args("datetime", arguments))
