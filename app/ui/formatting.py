"""Swiss formats for both languages: dd.mm.yyyy HH:MM in Europe/Zurich, 1'234'567."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

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
