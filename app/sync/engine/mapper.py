"""One object mapping compiled for a run: source records → HubSpot values, and back.

Transforms and templates are compiled once per run. ``to_hubspot`` gives a record's
HubSpot values (property → HubSpot string, empty as ``""``) for the fields that
flow to HubSpot; a value a transform or template refuses raises ``MappingFailure``
and fails that record alone. ``reverse`` turns a HubSpot value back into the
source's form for ``merge``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from app.connectors.base import Record, record_key
from app.connectors.hubspot.models import CrmObject
from app.sync.engine.hashing import canonical
from app.sync.mapping.model import Direction, FieldRule, Filter, ObjectMapping
from app.sync.mapping.templates import Template, TemplateError, compile_template
from app.sync.mapping.transforms import (
    Transform,
    TransformError,
    TransformValueError,
    compile_transform,
    is_empty,
    to_hubspot_string,
)


class MappingFailure(ValueError):
    """A record whose values the field rules cannot convert; it fails alone."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(f"{field}: {message}")


@dataclass(frozen=True, slots=True)
class _Field:
    rule: FieldRule
    transform: Transform
    template: Template | None


class RecordMapper:
    """The compiled field rules and filters of one object mapping."""

    def __init__(self, mapping: ObjectMapping) -> None:
        self.mapping = mapping
        self._fields = [
            _Field(
                rule,
                compile_transform(rule.transform),
                compile_template(rule.template) if rule.template else None,
            )
            for rule in mapping.fields
        ]
        self._by_name = {f.rule.hubspot: f for f in self._fields}
        self._outgoing = [  # decided once, not per record
            f
            for f in self._fields
            if mapping.field_direction(f.rule).includes(Direction.to_hubspot)
        ]

    @property
    def properties(self) -> list[str]:
        """Every HubSpot property the mapping maps (what to read from HubSpot)."""
        return [f.rule.hubspot for f in self._fields]

    def key(self, record: Mapping[str, Any]) -> str:
        """The record's source key."""
        return record_key(record, [self.mapping.source.key])

    def accepts(self, record: Mapping[str, Any]) -> bool:
        """Whether the record passes every filter of the mapping."""
        return all(_passes(f, record.get(f.field)) for f in self.mapping.filters)

    def to_hubspot(self, record: Mapping[str, Any]) -> dict[str, str]:
        """The record's values for the fields that flow to HubSpot (``MappingFailure``)."""
        return {compiled.rule.hubspot: self._value(compiled, record) for compiled in self._outgoing}

    def match_values(self, record: Mapping[str, Any]) -> list[object]:
        """What a record names as its HubSpot match value, for a record whose mapping failed:
        the mapped value where that field still maps, and the value as the source holds it."""
        compiled = self._by_name.get(self.mapping.hubspot.match)
        if compiled is None:
            return []
        raw = record.get(compiled.rule.source) if compiled.rule.source else None
        try:
            return [self._value(compiled, record), raw]
        except MappingFailure:
            return [raw]

    def _value(self, compiled: _Field, record: Mapping[str, Any]) -> str:
        rule = compiled.rule
        try:
            if compiled.template is not None:
                value: object = compiled.template.render(record)
            else:
                value = record.get(rule.source) if rule.source else None
            value = compiled.transform.forward(value)
            if is_empty(value) and rule.default is not None:
                value = rule.default
            return to_hubspot_string(value, compiled.transform.output_type)
        except (TransformValueError, TransformError, TemplateError) as exc:
            raise MappingFailure(rule.hubspot, str(exc)) from None

    def references(self, record: Mapping[str, Any]) -> dict[str, str]:
        """Per association rule, the other record's source key ``record`` names (if any)."""
        found: dict[str, str] = {}
        for rule in self.mapping.associations:
            value = record.get(rule.field)
            if value not in (None, ""):
                found[rule.key] = str(value)
        return found

    def hubspot_values(self, record: CrmObject) -> dict[str, Any]:
        """A HubSpot record's values of the mapped properties (None where it has none)."""
        return {name: record.properties.get(name) for name in self.properties}

    def reverse(self, rule: FieldRule, value: str | None) -> Any:
        """A HubSpot value in the source's form (``merge``'s ``Reverse``)."""
        transform = self._by_name[rule.hubspot].transform
        return transform.reverse(value) if transform.reversible else value


def _passes(condition: Filter, value: Any) -> bool:
    text = canonical(value)
    if condition.equals is not None:
        return text == canonical(condition.equals)
    if condition.not_equals is not None:
        return text != canonical(condition.not_equals)
    if condition.in_ is not None:
        return text in {canonical(v) for v in condition.in_}
    if condition.not_in is not None:
        return text not in {canonical(v) for v in condition.not_in}
    return (text == "") is bool(condition.empty)


def json_safe(record: Record) -> dict[str, Any]:
    """A source record as JSON (dates ISO, decimals as text): a failed item's payload."""
    return {name: _json_value(value) for name, value in record.items()}


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, list | tuple):
        return [_json_value(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _json_value(v) for k, v in value.items()}
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)
