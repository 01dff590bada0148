"""Value maps: source codes ↔ HubSpot values (typically enumeration options)."""

from __future__ import annotations

from typing import Any

from app.sync.mapping.transforms.base import Args, OutputType, Transform


def key_text(value: object) -> str:
    """How map keys and looked-up values compare: booleans as true/false, rest as text."""
    return str(value).lower() if isinstance(value, bool) else str(value)


class ValueMap(Transform):
    """Source value → HubSpot value by a table, e.g. ``{map: {CH: Switzerland}, default: Other}``.

    A value not in the table gets ``default`` if set, passes unchanged with
    ``keep_unmapped: true``, and otherwise fails the record. ``ignore_case`` compares
    source values case-insensitively. The reverse is the inverted table, and exists
    only when the table is one-to-one, maps to no empty value and ``default``
    is no value of the table.
    """

    name = "map"
    output_type = OutputType.enumeration

    def __init__(self, args: Args) -> None:
        table: dict[Any, Any] = args.require("values", dict)
        self.ignore_case = args.get("ignore_case", bool, False)
        self.keep_unmapped = args.get("keep_unmapped", bool, False)
        default = args.scalar("default", None)
        self.default = None if default is None else key_text(default)
        if not table:
            raise args.error("values", "must map at least one value")
        if any(not isinstance(v, str | int | float | bool) for v in table.values()):
            raise args.error("values", "must map to text, numbers or true/false")
        self.table = {self._key(k): key_text(v) for k, v in table.items()}
        if len(self.table) != len(table):
            raise args.error("values", "has keys that are equal when case is ignored")
        results = set(self.table.values())
        self.inverse = {key_text(v): k for k, v in table.items()}
        one_to_one = len(results) == len(table) and "" not in results
        self.reversible = one_to_one and self.default not in results
        if self.default is not None:
            results.add(self.default)
        self.output_values = None if self.keep_unmapped else frozenset(results)

    def _key(self, value: object) -> str:
        text = key_text(value)
        return text.casefold() if self.ignore_case else text

    def _forward(self, value: object) -> object:
        found = self.table.get(self._key(value))
        if found is not None:
            return found
        if self.default is not None:
            return self.default
        if self.keep_unmapped:
            return value
        raise self._reject(value, "not in the value map and no default set")

    def _reverse(self, value: object) -> object:
        text = key_text(value)
        if text in self.inverse:
            return self.inverse[text]
        if self.keep_unmapped:
            return value
        raise self._reject(value, "a HubSpot value the value map has no source value for")
