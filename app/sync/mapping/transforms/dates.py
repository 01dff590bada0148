"""Date and datetime transforms: source notations and time zones ↔ HubSpot's epoch milliseconds.

HubSpot stores a date as the epoch milliseconds of that day's midnight UTC (2025-03-07 →
``"1741305600000"``) and a datetime as epoch milliseconds. A naive source datetime is local
time in ``timezone`` (default Europe/Zurich). A local time that does not exist (skipped by
the spring DST change, such as 2025-03-30 02:30 in Zurich) is refused; an ambiguous one
(repeated in autumn) is read as its first occurrence, summer time.
"""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from app.sync.mapping.transforms.base import Args, OutputType, Transform

DEFAULT_TIMEZONE = "Europe/Zurich"
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_MS_PER_DAY = 86_400_000
_EPOCH_MS = re.compile(r"^-?\d{1,16}$")
_PROBE = dt.datetime(2001, 12, 31, 13, 45, 59)


def zone(args: Args) -> ZoneInfo:
    """The ``timezone`` argument as a zone (IANA name such as ``Europe/Zurich``)."""
    name = args.get("timezone", str, DEFAULT_TIMEZONE)
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise args.error("timezone", f"unknown time zone {name!r}") from None


def strftime_format(args: Args) -> str | None:
    """The ``format`` argument (strftime/strptime codes), checked to work both ways."""
    fmt = args.get("format", str, None)
    if fmt is None:
        return None
    try:
        dt.datetime.strptime(_PROBE.strftime(fmt), fmt)
    except ValueError as exc:
        raise args.error("format", f"not a usable date format: {exc}") from None
    return fmt


def epoch_ms(moment: dt.datetime) -> int:
    """An aware datetime as epoch milliseconds."""
    return (moment - EPOCH) // dt.timedelta(milliseconds=1)


def local(naive: dt.datetime, tz: ZoneInfo) -> dt.datetime | None:
    """A naive local time made aware in ``tz``; None when DST skips that time."""
    aware = naive.replace(tzinfo=tz, fold=0)
    back = aware.astimezone(dt.UTC).astimezone(tz).replace(tzinfo=None)
    return aware if back == naive else None


class _Moment(Transform):
    """Shared parsing for date and datetime: source values, HubSpot values, formats."""

    reversible = True
    blank_is_empty = True

    def __init__(self, args: Args) -> None:
        self.format = strftime_format(args)
        self.zone = zone(args)

    def source_datetime(self, value: object) -> dt.datetime | dt.date:
        """A source value as a date or datetime (naive or aware), by ``format`` or ISO 8601."""
        if isinstance(value, dt.date):
            return value
        if not isinstance(value, str):
            raise self._reject(value, "not a date")
        text = value.strip()
        try:
            if self.format:
                return dt.datetime.strptime(text, self.format)
            return (
                dt.date.fromisoformat(text) if len(text) <= 10 else dt.datetime.fromisoformat(text)
            )
        except ValueError:
            raise self._reject(
                value, f"not a date in the format {self.format or 'ISO 8601'}"
            ) from None

    def hubspot_moment(self, value: object) -> dt.datetime:
        """A HubSpot value (epoch ms or ISO 8601 text) as an aware UTC datetime."""
        text = str(value).strip()
        if _EPOCH_MS.match(text):
            return EPOCH + dt.timedelta(milliseconds=int(text))
        try:
            moment = dt.datetime.fromisoformat(text)
        except ValueError:
            raise self._reject(value, "HubSpot sent no date") from None
        return moment.astimezone(dt.UTC) if moment.tzinfo else moment.replace(tzinfo=dt.UTC)

    def shown(self, moment: dt.date) -> object:
        """A date or naive datetime in the source's form: formatted text, or as it is."""
        return moment.strftime(self.format) if self.format else moment


class Date(_Moment):
    """A calendar date ↔ epoch ms at midnight UTC of that date.

    A datetime source value gives its date (an aware one: its date in ``timezone``).
    The reverse gives a ``date``, or text in ``format`` when one is set.
    """

    name = "date"
    output_type = OutputType.date

    def _forward(self, value: object) -> object:
        day = self.source_datetime(value)
        if isinstance(day, dt.datetime):
            day = (day.astimezone(self.zone) if day.tzinfo else day).date()
        return str((day - EPOCH.date()).days * _MS_PER_DAY)

    def _reverse(self, value: object) -> object:
        if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            return self.shown(value)
        return self.shown(self.hubspot_moment(value).date())


class DateTime(_Moment):
    """A moment ↔ epoch ms; naive source values are local time in ``timezone``.

    A date source value means its midnight in ``timezone``. The reverse gives a naive
    local ``datetime`` in ``timezone``, or text in ``format`` when one is set.
    """

    name = "datetime"
    output_type = OutputType.datetime

    def _forward(self, value: object) -> object:
        moment = self.source_datetime(value)
        if not isinstance(moment, dt.datetime):
            moment = dt.datetime.combine(moment, dt.time())
        if moment.tzinfo is None:
            aware = local(moment, self.zone)
            if aware is None:
                raise self._reject(value, f"this local time does not exist in {self.zone.key}")
            moment = aware
        return str(epoch_ms(moment))

    def _reverse(self, value: object) -> object:
        moment = value if isinstance(value, dt.datetime) else self.hubspot_moment(value)
        if moment.tzinfo is not None:
            moment = moment.astimezone(self.zone).replace(tzinfo=None)
        return self.shown(moment)
