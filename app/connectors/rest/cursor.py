"""The change cursor of a rest object: the highest cursor value seen, and the keys seen at it.

APIs filter ``updated_since`` inclusively (``>=``): asking again from the highest
value returns the records at that value once more, and many records may share
it (a bulk update stamps them all alike). So the cursor is
``{"value": <highest value>, "keys": [<keys already read at that value>]}``, and a
read from it drops records below the value and those listed keys. Nothing is
read twice and a record that arrives later with the same value is still read.
The API must return records in ascending cursor order: then every batch's
cursor is a safe place to stop and resume. The key list grows with the number
of records sharing the top value.
"""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

from app.connectors.base import Cursor, Key
from app.connectors.errors import ConnectorError
from app.connectors.rest.config import SinceFormat
from app.connectors.rest.records import parse_datetime

# A datetime, a Decimal or a str; ``_compare`` refuses to mix them, so ``Any`` is safe here.
Ordered = Any


def order_of(value: Any) -> Ordered:
    """A comparable form of a cursor value: ISO datetimes as datetimes, numbers as decimals."""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int | float | Decimal):
        return Decimal(str(value))
    return parse_datetime(value) or str(value)


def since_param(raw: Any, fmt: SinceFormat) -> str | int:
    """The ``updated_since`` value for cursor value ``raw``, rounded down (never past it)."""
    moment = parse_datetime(raw)
    if moment is None:
        return raw if isinstance(raw, int | str) else str(raw)
    if fmt == "iso":
        return moment.isoformat()
    scale = 1000 if fmt == "epoch_ms" else 1
    return math.floor(moment.timestamp() * scale)


class CursorState:
    """Which records a read still owes, and the cursor to resume after those it has seen."""

    def __init__(self, field: str, since: Cursor | None) -> None:
        self.field = field
        since = since or {}
        self.value: Any = since.get("value")
        self._order = None if self.value is None else order_of(self.value)
        self._keys: set[Key] = {str(k) for k in since.get("keys", ())}

    def is_new(self, record: dict[str, Any], key: Key) -> bool:
        """Whether ``record`` comes after the cursor (not below it, not a key already read)."""
        value = record.get(self.field)
        if self._order is None or value is None:
            return True
        order = self._compare(value)
        return order > self._order or (order == self._order and key not in self._keys)

    def observe(self, record: dict[str, Any], key: Key) -> None:
        """Move the cursor past ``record``."""
        value = record.get(self.field)
        if value is None:
            return
        order = self._compare(value)
        if self._order is None or order > self._order:
            self.value, self._order, self._keys = value, order, {key}
        elif order == self._order:
            self._keys.add(key)

    def snapshot(self) -> Cursor | None:
        """The cursor to resume after everything observed so far (flat JSON)."""
        if self.value is None:
            return None
        return {"value": self.value, "keys": sorted(self._keys)}

    def _compare(self, value: Any) -> Ordered:
        order = order_of(value)
        if self._order is not None and type(order) is not type(self._order):
            raise ConnectorError(
                f"cursor field {self.field!r} mixes value types "
                f"({type(order).__name__} and {type(self._order).__name__})"
            )
        return order
