"""Creating the custom HubSpot properties a mapping table needs but the portal lacks.

``plan_properties`` is pure: from the table and the portal's existing properties
it lists what is missing among the properties the table writes or matches on,
typed after the field's transform (the match property unique). ``create_missing_properties``
reads the portal, creates the ``hubsync`` group where missing and the planned
properties; it never changes a property that exists.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from app.connectors.hubspot.auth import StaticTokenProvider
from app.connectors.hubspot.client import HubSpotClient
from app.connectors.hubspot.errors import Conflict
from app.connectors.hubspot.properties import (
    PropertiesApi,
    PropertyGroup,
    PropertyOption,
    PropertySpec,
)
from app.sync.mapping.loader import read_interface_file
from app.sync.mapping.model import DeletionAction, Direction, FieldRule, MappingTable
from app.sync.mapping.problems import MappingError, MappingProblem
from app.sync.mapping.schema_check import HubSpotProperty, portal_properties
from app.sync.mapping.transforms import OutputType, compile_transform

GROUP = PropertyGroup(name="hubsync", label="hubsync")
# HubSpot keeps the ``hs_`` prefix for its own properties: never created here.
HUBSPOT_PREFIX = "hs_"
# A transform's output type → HubSpot's (type, fieldType).
HUBSPOT_TYPES: Mapping[OutputType | None, tuple[str, str]] = {
    OutputType.number: ("number", "number"),
    OutputType.integer: ("number", "number"),
    OutputType.boolean: ("bool", "booleancheckbox"),
    OutputType.date: ("date", "date"),
    OutputType.datetime: ("datetime", "date"),
    OutputType.enumeration: ("enumeration", "select"),
}
STRING = ("string", "text")


@dataclass(frozen=True, slots=True)
class PlannedProperty:
    """A property the table needs that HubSpot lacks, as it will be created."""

    object_type: str
    name: str
    label: str
    type: str
    field_type: str
    options: tuple[str, ...] = ()
    has_unique_value: bool = False

    def spec(self) -> PropertySpec:
        """The ``PropertyCreate`` body, in the ``hubsync`` group."""
        options = [
            PropertyOption(label=value, value=value, display_order=index)
            for index, value in enumerate(self.options)
        ]
        return PropertySpec(
            name=self.name, label=self.label, type=self.type, field_type=self.field_type,
            group_name=GROUP.name, options=options if self.type == "enumeration" else None,
            has_unique_value=self.has_unique_value or None,
        )  # fmt: skip

    def describe(self) -> str:
        """One line for people: ``companies.erp_customer_no (string/text, unique)``."""
        details = [f"{self.type}/{self.field_type}"]
        if self.options:
            details.append(f"options {', '.join(self.options)}")
        if self.has_unique_value:
            details.append("unique")
        return f"{self.object_type}.{self.name} ({'; '.join(details)})"


def label_for(name: str) -> str:
    """A readable label from a property name: ``erp_customer_no`` → ``Erp customer no``."""
    words = name.replace("_", " ").replace("-", " ").replace(".", " ").split()
    text = " ".join(words)
    return text[:1].upper() + text[1:]


def plan_properties(
    table: MappingTable, existing: Mapping[str, Iterable[HubSpotProperty]]
) -> list[PlannedProperty]:
    """The properties ``table`` writes or matches on that HubSpot lacks, in table order.

    ``existing`` maps each HubSpot object type to its properties (``fetch_schemas``);
    an object type missing from it is not a portal object, so nothing is planned for it.
    """
    planned: dict[tuple[str, str], PlannedProperty] = {}
    for mapping in table.objects:
        object_type = mapping.hubspot.object
        if object_type not in existing:
            continue
        have = {p.name for p in existing[object_type]}
        wanted = [_planned(object_type, mapping.hubspot.match, None, unique=True)]
        wanted += [
            _planned(object_type, rule.hubspot, rule)
            for rule in mapping.fields
            if mapping.field_direction(rule).includes(Direction.to_hubspot)
        ]
        rules = mapping.on_delete
        if rules.source_deleted == DeletionAction.flag and rules.flag_field:
            flag_type = OutputType.boolean if isinstance(rules.flag_value, bool) else None
            wanted.append(_typed(object_type, rules.flag_field, flag_type, None))
        for prop in wanted:
            key = (object_type, prop.name)
            if prop.name in have or prop.name.startswith(HUBSPOT_PREFIX):
                continue
            if key in planned:  # the match property is usually a field too: keep both facts
                prop = _merged(planned[key], prop)
            planned[key] = prop
    return list(planned.values())


def _planned(
    object_type: str, name: str, rule: FieldRule | None, *, unique: bool = False
) -> PlannedProperty:
    """A property for a field (typed by its transform) or for a bare match property."""
    transform = compile_transform(rule.transform) if rule and rule.transform else None
    output = None if transform is None or rule is None or rule.template else transform.output_type
    values = transform.output_values if transform else None
    return _typed(object_type, name, output, values, unique=unique)


def _typed(
    object_type: str,
    name: str,
    output: OutputType | None,
    values: frozenset[str] | None,
    *,
    unique: bool = False,
) -> PlannedProperty:
    kind, field_type = HUBSPOT_TYPES.get(output, STRING)
    if kind == "enumeration" and not values:
        kind, field_type = STRING  # HubSpot needs the options; without them, text
    return PlannedProperty(
        object_type=object_type, name=name, label=label_for(name), type=kind,
        field_type=field_type, options=tuple(sorted(values or ())) if kind == "enumeration"
        else (), has_unique_value=unique,
    )  # fmt: skip


def _merged(first: PlannedProperty, second: PlannedProperty) -> PlannedProperty:
    """The field's type with the match property's uniqueness."""
    typed = second if first.type == "string" else first
    unique = first.has_unique_value or second.has_unique_value
    return PlannedProperty(
        object_type=typed.object_type, name=typed.name, label=typed.label, type=typed.type,
        field_type=typed.field_type, options=typed.options, has_unique_value=unique,
    )  # fmt: skip


async def create_missing_properties(
    table: MappingTable, properties: PropertiesApi, *, dry_run: bool = False
) -> list[PlannedProperty]:
    """Create what ``plan_properties`` finds missing (nothing on a dry run); returns the plan.

    A 409 because another process created the group or property meanwhile counts as done.
    """
    planned = plan_properties(
        table, await portal_properties(table, properties, include_archived=True)
    )
    if dry_run:
        return planned
    for object_type in sorted({p.object_type for p in planned}):
        await _ensure_group(object_type, properties)
    for prop in planned:
        with contextlib.suppress(Conflict):  # created by someone else since we read them
            await properties.create(prop.object_type, prop.spec())
    return planned


async def _ensure_group(object_type: str, properties: PropertiesApi) -> None:
    groups = await properties.list_groups(object_type)
    if any(g.name == GROUP.name for g in groups):
        return
    with contextlib.suppress(Conflict):
        await properties.create_group(object_type, GROUP)


async def create_from_interface_file(
    text: str, *, source_name: str, environ: Mapping[str, str], dry_run: bool = False
) -> list[PlannedProperty]:
    """``create_missing_properties`` for an interface file's table in its portal."""
    interface = read_interface_file(text, environ=environ, source_name=source_name).interface
    token = interface.hubspot.access_token
    if token is None:
        message = (
            f"HubSpot uses the stored connection {interface.hubspot.connection!r}: "
            "create the properties through the API (mapping version hubspot-properties)"
        )
        raise MappingError(
            [MappingProblem(None, "hubspot", None, message)], source_name=source_name
        )
    auth = StaticTokenProvider(token.get_secret_value())
    async with HubSpotClient(auth, base_url=interface.hubspot.base_url) as client:
        return await create_missing_properties(
            interface.mapping, client.properties, dry_run=dry_run
        )
