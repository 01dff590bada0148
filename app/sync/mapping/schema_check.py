"""A mapping table checked against what both systems really have.

The model checks a table on its own; this checks it against the connector's
``discover()`` and HubSpot's properties API: unknown objects and fields, type
mismatches (``ACCEPTS``), enumeration values HubSpot would refuse, a match
property that is not unique, writes into read-only properties or objects.
Every problem names the object mapping, the field and (given ``line_of``) the line.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from app.connectors.base import Connector, FieldInfo, FieldType, ObjectInfo
from app.connectors.hubspot.errors import NotFound, ValidationError
from app.connectors.hubspot.properties import PropertiesApi, Property
from app.sync.mapping.model import (
    DeletionAction,
    Direction,
    FieldRule,
    MappingTable,
    ObjectMapping,
    PrivacyAction,
)
from app.sync.mapping.problems import LineOf, MappingProblem, Path, dotted
from app.sync.mapping.templates import TemplateError, compile_template
from app.sync.mapping.transforms import Transform, TransformError, compile_transform

# What each target type accepts without a transform (the value's kind → the field's type).
_SCALARS = frozenset(FieldType) - {FieldType.json}
ACCEPTS: Mapping[FieldType, frozenset[FieldType]] = {
    FieldType.string: _SCALARS,
    FieldType.integer: frozenset({FieldType.integer}),
    FieldType.number: frozenset({FieldType.integer, FieldType.number}),
    FieldType.boolean: frozenset({FieldType.boolean}),
    FieldType.date: frozenset({FieldType.date}),  # a datetime needs `date` (HubSpot: UTC midnight)
    FieldType.datetime: frozenset({FieldType.date, FieldType.datetime}),
    FieldType.json: frozenset(FieldType),
}
# HubSpot property types as value kinds (hubspot-api.md §4); unknown types are not checked.
HUBSPOT_KINDS: Mapping[str, FieldType] = {
    "string": FieldType.string,
    "phone_number": FieldType.string,
    "enumeration": FieldType.string,
    "number": FieldType.number,
    "date": FieldType.date,
    "datetime": FieldType.datetime,
    "bool": FieldType.boolean,
}
# Properties HubSpot keeps unique although ``hasUniqueValue`` is false.
UNIQUE_BY_HUBSPOT: Mapping[str, frozenset[str]] = {"contacts": frozenset({"email"})}


@dataclass(frozen=True, slots=True)
class HubSpotProperty:
    """What the checks need of a HubSpot property definition."""

    name: str
    type: str  # string, number, date, datetime, enumeration, bool, phone_number
    field_type: str = "text"
    options: tuple[str, ...] = ()  # the option values writes must use
    has_unique_value: bool = False
    read_only: bool = False


def hubspot_property(definition: Property) -> HubSpotProperty:
    """A property from HubSpot's properties API, reduced to what the checks need."""
    return HubSpotProperty(
        name=definition.name,
        type=definition.type,
        field_type=definition.field_type,
        options=tuple(o.value for o in definition.options or ()),
        has_unique_value=bool(definition.has_unique_value),
        read_only=definition.read_only or bool(definition.calculated),
    )


async def fetch_schemas(
    table: MappingTable, *, connector: Connector[Any], properties: PropertiesApi
) -> tuple[list[ObjectInfo], dict[str, list[HubSpotProperty]]]:
    """Both sides' schemas for ``table``: ``discover()`` and the live properties of each object."""
    return await connector.discover(), await portal_properties(table, properties)


async def portal_properties(
    table: MappingTable, properties: PropertiesApi, *, include_archived: bool = False
) -> dict[str, list[HubSpotProperty]]:
    """The properties of each HubSpot object the table uses (unknown object types left out)."""
    found: dict[str, list[HubSpotProperty]] = {}
    for object_type in sorted({m.hubspot.object for m in table.objects}):
        try:
            definitions = await properties.list(object_type)
            if include_archived:
                definitions = [*definitions, *await properties.list(object_type, archived=True)]
        except (NotFound, ValidationError):
            continue  # not an object type of this portal: reported by the check
        found[object_type] = [
            hubspot_property(d) for d in definitions if include_archived or not d.archived
        ]
    return found


def check_against(
    table: MappingTable,
    *,
    source_objects: Iterable[ObjectInfo] | None,
    hubspot_properties: Mapping[str, Iterable[HubSpotProperty]] | None,
    line_of: LineOf | None = None,
) -> list[MappingProblem]:
    """Every problem of ``table`` against both schemas (a side given as None is not checked).

    ``line_of`` maps a path inside the table to its line (``LoadedMapping.locator.line``).
    """
    sources = None if source_objects is None else {o.name: o for o in source_objects}
    hubspot = None if hubspot_properties is None else dict(hubspot_properties)
    problems: list[MappingProblem] = []
    for index, mapping in enumerate(table.objects):
        check = _ObjectCheck(mapping, ("objects", index), line_of or (lambda _path: None))
        check.source(sources)
        check.hubspot(hubspot)
        check.fields()
        problems.extend(check.problems)
    return sorted(problems, key=lambda p: p.line or 0)


class _ObjectCheck:
    """The checks of one object mapping; each adds located problems to ``problems``."""

    def __init__(self, mapping: ObjectMapping, at: Path, line_of: LineOf) -> None:
        self.mapping = mapping
        self.at = at
        self.line_of = line_of
        self.problems: list[MappingProblem] = []
        self.info: ObjectInfo | None = None  # None: the source side is not checked
        self.properties: dict[str, HubSpotProperty] | None = None  # None: HubSpot not checked

    def report(self, path: Path, message: str, field: str | None = None) -> None:
        """Add a problem at ``path`` (relative to this object mapping)."""
        line = self.line_of((*self.at, *path))
        self.problems.append(
            MappingProblem(self.mapping.name, field or dotted(path), line, message)
        )

    def source(self, objects: Mapping[str, ObjectInfo] | None) -> None:
        """The source object, its key, cursor, filter, association and flag fields."""
        side, rules = self.mapping.source, self.mapping.on_delete
        if objects is None:
            return
        self.info = objects.get(side.object)
        if self.info is None:
            self.report(("source", "object"), f"the source has no object {side.object!r}")
            return
        self.source_field(("source", "key"), side.key)
        cursor = self.source_field(("source", "updated"), side.updated)
        if cursor and not cursor.can_be_cursor:
            self.report(("source", "updated"), f"{side.updated!r} cannot be a change cursor")
        for k, condition in enumerate(self.mapping.filters):
            self.source_field(("filters", k, "field"), condition.field)
        for k, association in enumerate(self.mapping.associations):
            self.source_field(("associations", k, "field"), association.field)
        self._writes_into_source()
        if rules.hubspot_deleted == DeletionAction.flag and rules.flag_field:
            self.source_field(("on_delete", "flag_field"), rules.flag_field)

    def _writes_into_source(self) -> None:
        """Refuse what would write into a source object the connector cannot write."""
        if self.info is None or self.info.writable:
            return
        writes = {
            ("direction",): self.mapping.direction.includes(Direction.from_hubspot),
            ("on_delete", "hubspot_deleted"): (
                self.mapping.on_delete.hubspot_deleted != DeletionAction.ignore
            ),
            ("on_privacy_deletion",): self.mapping.on_privacy_deletion != PrivacyAction.ignore,
        }
        for path, writes_into in writes.items():
            if writes_into:
                self.report(path, f"the source object {self.info.name!r} is read-only")

    def hubspot(self, properties: Mapping[str, Iterable[HubSpotProperty]] | None) -> None:
        """The HubSpot object, its match property and the deletion flag property."""
        side, rules = self.mapping.hubspot, self.mapping.on_delete
        if properties is None:
            return
        if side.object not in properties:
            self.report(("hubspot", "object"), f"HubSpot has no object type {side.object!r}")
            return
        self.properties = {p.name: p for p in properties[side.object]}
        match = self.property(("hubspot", "match"), side.match)
        if match and not (
            match.has_unique_value or match.name in UNIQUE_BY_HUBSPOT.get(side.object, ())
        ):
            self.report(
                ("hubspot", "match"),
                f"{match.name!r} is not a unique-value property: records cannot be matched by it",
            )
        if rules.source_deleted == DeletionAction.flag and rules.flag_field:
            flag = self.property(("on_delete", "flag_field"), rules.flag_field)
            if flag and flag.read_only:
                self.report(("on_delete", "flag_field"), f"{flag.name!r} is read-only in HubSpot")

    def fields(self) -> None:
        """Each field rule against both sides, in the directions it flows."""
        for j, rule in enumerate(self.mapping.fields):
            at: Path = ("fields", j)
            field = self.source_field((*at, "source"), rule.source, rule.hubspot)
            self._template_fields(at, rule)
            prop = self.property((*at, "hubspot"), rule.hubspot, rule.hubspot)
            try:
                transform = compile_transform(rule.transform) if rule.transform else None
            except TransformError:
                continue  # the loader reports it (``compile_problems``)
            direction = self.mapping.field_direction(rule)
            if direction.includes(Direction.to_hubspot) and prop:
                self._to_hubspot(at, rule, prop, field, transform)
            if direction.includes(Direction.from_hubspot):
                self._from_hubspot(at, rule, prop, field, transform)

    def _template_fields(self, at: Path, rule: FieldRule) -> None:
        if self.info is None or rule.template is None:
            return
        try:
            variables = compile_template(rule.template).variables
        except TemplateError:
            return  # the loader reports it (``compile_problems``)
        for name in sorted(variables):
            self.source_field((*at, "template"), name, rule.hubspot)

    def source_field(
        self, path: Path, name: str | None, label: str | None = None
    ) -> FieldInfo | None:
        """The source field ``name``; a problem if the source object lacks it."""
        if self.info is None or name is None:
            return None
        found = self.info.field(name)
        if found is None:
            self.report(path, f"the source object {self.info.name!r} has no field {name!r}", label)
        return found

    def property(self, path: Path, name: str, label: str | None = None) -> HubSpotProperty | None:
        """The HubSpot property ``name``; a problem if the object lacks it."""
        if self.properties is None:
            return None
        found = self.properties.get(name)
        if found is None:
            object_type = self.mapping.hubspot.object
            self.report(path, f"HubSpot {object_type} have no property {name!r}", label)
        return found

    def _to_hubspot(
        self,
        at: Path,
        rule: FieldRule,
        prop: HubSpotProperty,
        field: FieldInfo | None,
        transform: Transform | None,
    ) -> None:
        if prop.read_only:
            self.report((*at, "hubspot"), f"{prop.name!r} is read-only in HubSpot", rule.hubspot)
            return
        kind, target = _value_kind(rule, field, transform), HUBSPOT_KINDS.get(prop.type)
        if kind and target and kind not in ACCEPTS[target]:
            self.report(
                (*at, "transform" if rule.transform else "source"),
                f"{_origin(rule, transform)} {kind} values; HubSpot's {prop.name!r} is a "
                f"{prop.type} property" + ("" if rule.transform else ": add a transform"),
                rule.hubspot,
            )
        if prop.type in ("enumeration", "bool"):
            self._enumeration(at, rule, prop, transform)

    def _enumeration(
        self, at: Path, rule: FieldRule, prop: HubSpotProperty, transform: Transform | None
    ) -> None:
        allowed = set(prop.options or (("true", "false") if prop.type == "bool" else ()))
        if not allowed:
            return  # options kept elsewhere (owners): HubSpot checks them itself
        produced = {
            "transform": transform.output_values if transform else None,
            "default": None if rule.default is None else frozenset({_wire(rule.default)}),
        }
        for key, values in produced.items():
            multiple = prop.field_type == "checkbox"
            parts = {p for v in values or () for p in (v.split(";") if multiple else [v])}
            refused = sorted(parts - allowed)
            if refused:
                self.report(
                    (*at, key),
                    f"HubSpot refuses {', '.join(map(repr, refused))} for {prop.name!r}; "
                    f"its options are {', '.join(sorted(allowed))}",
                    rule.hubspot,
                )

    def _from_hubspot(
        self,
        at: Path,
        rule: FieldRule,
        prop: HubSpotProperty | None,
        field: FieldInfo | None,
        transform: Transform | None,
    ) -> None:
        if rule.source is None:  # a constant or template only ever flows to HubSpot
            if rule.direction == Direction.from_hubspot:
                self.report(at, "a field that flows from HubSpot needs `source`", rule.hubspot)
            return
        if transform is not None and not transform.reversible:
            self.report(
                (*at, "transform"), "has no reverse, so it cannot flow from HubSpot", rule.hubspot
            )
        if prop and field and transform is None:
            kind = HUBSPOT_KINDS.get(prop.type)
            if kind and kind not in ACCEPTS[field.type]:
                self.report(
                    (*at, "source"),
                    f"HubSpot's {prop.name!r} is a {prop.type} property; the source field "
                    f"{field.name!r} holds {field.type} values: add a transform",
                    rule.hubspot,
                )


def _value_kind(
    rule: FieldRule, field: FieldInfo | None, transform: Transform | None
) -> FieldType | None:
    """The kind of value a field sends to HubSpot, if it can be known."""
    if rule.template is not None:
        return FieldType.string
    if transform is not None and transform.output_type is not None:
        output = str(transform.output_type)
        return FieldType(output) if output in FieldType.__members__ else FieldType.string
    if field is not None:
        return field.type
    if rule.source is None and rule.default is not None:
        return _kind_of(rule.default)
    return None


def _origin(rule: FieldRule, transform: Transform | None) -> str:
    """What gives a field its value, for messages."""
    if rule.template is not None:
        return "the template gives"
    if transform is not None and transform.output_type is not None:
        return "the transform gives"
    if rule.source is None:
        return "the default gives"
    return f"the source field {rule.source!r} holds"


def _kind_of(value: object) -> FieldType:
    kinds: list[tuple[type, FieldType]] = [
        (bool, FieldType.boolean),
        (int, FieldType.integer),
        (float, FieldType.number),
        (datetime, FieldType.datetime),
        (date, FieldType.date),
        (str, FieldType.string),
    ]
    return next((kind for cls, kind in kinds if isinstance(value, cls)), FieldType.json)


def _wire(value: object) -> str:
    """A constant as HubSpot receives it (booleans as true/false, lists ;-joined)."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, list | tuple):
        return ";".join(_wire(v) for v in value)
    return str(value)
