"""Stable hashes and per-field snapshots of mapped values, so unchanged records cost no API call.

Values are compared in HubSpot's string form (everything HubSpot stores is a
string): ``None`` and ``""`` are the same empty value, booleans are
``"true"``/``"false"``, numbers are plain decimals, dates ``YYYY-MM-DD``,
datetimes ISO 8601 in UTC with milliseconds (as HubSpot returns them) and
lists ``;``-joined (multi-checkbox). Empty fields are left out of snapshots and
hashes, so adding a field that is empty everywhere changes no record's hash.
"""

from __future__ import annotations

import enum
import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import orjson

Values = Mapping[str, Any]  # field → value, keyed by HubSpot property names
Snapshot = dict[str, str]  # field → canonical non-empty value


class Side(enum.StrEnum):
    """One end of a record pair; hashes, snapshots and writes are kept per side."""

    source = "source"
    hubspot = "hubspot"

    @property
    def other(self) -> Side:
        """The opposite end of the pair."""
        return Side.hubspot if self is Side.source else Side.source


def as_utc(moment: datetime) -> datetime:
    """``moment`` as an aware UTC datetime (naive ones are taken to be UTC already)."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def canonical(value: Any) -> str:
    """``value`` in HubSpot's string form; every empty value becomes ``""``."""
    if value is None or isinstance(value, str):
        return value or ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float | Decimal):
        return _decimal(Decimal(repr(value)) if isinstance(value, float) else value)
    if isinstance(value, datetime):
        moment = as_utc(value)
        return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return ";".join(canonical(item) for item in value)
    if isinstance(value, set | frozenset):
        return ";".join(sorted(canonical(item) for item in value))
    if isinstance(value, Mapping):
        return json.dumps(value, sort_keys=True, separators=(",", ":"), default=canonical)
    return str(value)


def _decimal(number: Decimal) -> str:
    if not number.is_finite():
        return str(number)
    text = format(number.normalize(), "f")
    return "0" if text == "-0" else text


def snapshot(values: Values) -> Snapshot:
    """The non-empty fields of ``values`` in canonical form: what is stored as "last synced"."""
    snap: Snapshot = {}
    for name, value in values.items():
        text = canonical(value)
        if text:
            snap[name] = text
    return snap


def values_hash(values: Values) -> str:
    """SHA-256 (hex, 64 characters) of the canonical JSON of ``values``: equal iff values agree."""
    return snapshot_hash(snapshot(values))


def snapshot_hash(snap: Snapshot) -> str:
    """``values_hash`` of values already in snapshot form (canonical, non-empty): the same
    hash without canonicalising every value again."""
    document = orjson.dumps(snap, option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(document).hexdigest()
