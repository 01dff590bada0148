"""Swiss formats for both languages: dd.mm.yyyy HH:MM in Europe/Zurich, 1'234'567."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from markupsafe import Markup, escape

ZURICH = ZoneInfo("Europe/Zurich")


def swiss_datetime(value: datetime | None, *, seconds: bool = False) -> str:
    """A UTC timestamp shown in Zurich time, e.g. ``07.03.2025 14:05``."""
    if value is None:
        return "–"
    pattern = "%d.%m.%Y %H:%M:%S" if seconds else "%d.%m.%Y %H:%M"
    return value.astimezone(ZURICH).strftime(pattern)


def swiss_number(value: float | int | None, decimals: int = 0) -> str:
    """A number with apostrophe thousands groups and a decimal point, e.g. ``1'234.50``."""
    if value is None:
        return "–"
    return f"{value:,.{decimals}f}".replace(",", "'")


def option_tags(options: Iterable[Any], chosen: str) -> Markup:
    """``<option>`` tags of (value, text) pairs or rows with an id and a name, the one whose
    value is ``chosen`` selected — built in Python: filter menus list up to 1,000s of
    interfaces on every page that has one, too many for a template loop."""
    tags = []
    for option in options:
        value, text = (option[0], option[1]) if isinstance(option, tuple) else _id_name(option)
        value = str(value)
        mark = " selected" if value == chosen else ""
        tags.append(f'<option value="{escape(value)}"{mark}>{escape(text)}</option>')
    return Markup("\n".join(tags))  # noqa: S704 - every value and text is escaped above


def _id_name(row: Any) -> tuple[Any, Any]:
    return row.id, row.name
