"""The mapping table as data: which objects and fields flow where, and how.

This pydantic model is the single definition of the YAML format; the JSON
Schema published for editors is generated from it. Everything a file says is
checked here except what needs the two systems' real schemas (that is
``validation.py``, against ``discover()`` and HubSpot's properties).
"""

from __future__ import annotations

import enum
from typing import Annotated, Any, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

Name = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[A-Za-z_][A-Za-z0-9_\-.]*$")]
# A transform: a name ("trim"), a name with arguments ({"map": {...}}), or a chain of those.
TransformSpec = str | dict[str, Any] | list[str | dict[str, Any]]
CONTACT_OBJECTS = frozenset({"contacts", "0-1"})  # how a mapping may name HubSpot contacts


class Direction(enum.StrEnum):
    """Which way values flow."""

    to_hubspot = "to_hubspot"
    from_hubspot = "from_hubspot"
    both = "both"

    def includes(self, other: Direction) -> bool:
        """Whether a flow in ``other`` is allowed under this direction."""
        return self == Direction.both or self == other


class ConflictRule(enum.StrEnum):
    """Who wins when the same field changed on both sides since the last sync."""

    newest = "newest"
    source = "source"
    hubspot = "hubspot"


class DeletionAction(enum.StrEnum):
    """What happens on the other side when a record is deleted or archived."""

    archive = "archive"  # HubSpot: archive; source: delete (or soft delete, as the connector does)
    delete = "delete"
    flag = "flag"  # set a field (e.g. active = false) instead of deleting
    gdpr_delete = "gdpr_delete"  # HubSpot contacts only: erased for good, with a deletion request
    ignore = "ignore"


class PrivacyAction(enum.StrEnum):
    """What a HubSpot privacy deletion does to the person in the connected system."""

    delete = "delete"
    anonymize = "anonymize"
    ignore = "ignore"


class Strict(BaseModel):
    """Base of every table element: unknown keys are errors, not silently ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class SourceSide(Strict):
    """The third-party object, its key and (optionally) its change cursor field."""

    object: Name
    key: Name
    updated: Name | None = None


class HubSpotSide(Strict):
    """The HubSpot object and the unique property records are matched by."""

    object: Name
    match: Name


class FieldRule(Strict):
    """One field: where it comes from, where it goes, and how it is transformed."""

    source: Name | None = None
    hubspot: Name
    direction: Direction | None = None  # None: the object's direction
    transform: TransformSpec | None = None
    template: str | None = Field(default=None, max_length=2000)  # sandboxed Jinja2, to HubSpot
    default: Any = None
    conflict: ConflictRule | None = None  # None: the object's rule

    @model_validator(mode="after")
    def _has_a_source(self) -> Self:
        if self.source is None and self.template is None and self.default is None:
            raise ValueError("a field needs `source`, `template` or `default`")
        if self.template is not None and self.direction not in (None, Direction.to_hubspot):
            raise ValueError("a `template` field can only flow to_hubspot")
        return self


class Filter(Strict):
    """Which source records take part (all filters of an object must hold)."""

    field: Name
    equals: Any = None
    not_equals: Any = None
    in_: list[Any] | None = Field(default=None, alias="in")
    not_in: list[Any] | None = None
    empty: bool | None = None

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @model_validator(mode="after")
    def _one_condition(self) -> Self:
        given = [n for n in ("equals", "not_equals", "in_", "not_in", "empty")
                 if getattr(self, n) is not None]  # fmt: skip
        if len(given) != 1:
            raise ValueError("a filter needs exactly one of equals, not_equals, in, not_in, empty")
        return self


class AssociationRule(Strict):
    """Link this object's HubSpot record to another mapped object's record."""

    field: Name  # the source field holding the other object's source key
    to: Name  # the name of the other object mapping
    type_id: int | None = None  # HubSpot association type; None: the default for the pair
    label: str | None = None

    @property
    def key(self) -> str:
        """Names this rule among its object's rules, for the associations a link remembers."""
        return (
            f"{self.to}.{self.field}"
            if self.type_id is None
            else f"{self.to}.{self.field}.{self.type_id}"
        )


class DeletionRules(Strict):
    """What a deletion on one side does on the other."""

    source_deleted: DeletionAction = DeletionAction.ignore  # applied in HubSpot
    hubspot_deleted: DeletionAction = DeletionAction.ignore  # applied in the source
    flag_field: Name | None = None  # for ``flag``: the field to set
    flag_value: Any = False

    @model_validator(mode="after")
    def _flag_needs_a_field(self) -> Self:
        flagged = DeletionAction.flag in (self.source_deleted, self.hubspot_deleted)
        if flagged and self.flag_field is None:
            raise ValueError("the `flag` action needs `flag_field`")
        if self.hubspot_deleted == DeletionAction.gdpr_delete:
            raise ValueError("`gdpr_delete` erases in HubSpot: use it for `source_deleted` only")
        return self


class ObjectMapping(Strict):
    """One object pair: source object ↔ HubSpot object, with its field rules."""

    name: Name
    source: SourceSide
    hubspot: HubSpotSide
    direction: Direction = Direction.to_hubspot
    conflict: ConflictRule = ConflictRule.newest
    fields: list[FieldRule] = Field(min_length=1)
    filters: list[Filter] = Field(default_factory=list)
    associations: list[AssociationRule] = Field(default_factory=list)
    on_delete: DeletionRules = Field(default_factory=DeletionRules)
    on_privacy_deletion: PrivacyAction = PrivacyAction.ignore

    def field_direction(self, rule: FieldRule) -> Direction:
        """The direction a field actually flows in (its own, else the object's)."""
        return rule.direction or self.direction

    @model_validator(mode="after")
    def _fields_fit_the_object(self) -> Self:
        targets = [f.hubspot for f in self.fields]
        duplicates = sorted({t for t in targets if targets.count(t) > 1})
        if duplicates:
            raise ValueError(f"HubSpot properties mapped twice: {', '.join(duplicates)}")
        for rule in self.fields:
            if not self.direction.includes(self.field_direction(rule)):
                raise ValueError(
                    f"field {rule.hubspot!r} flows {self.field_direction(rule)}, "
                    f"outside the object's direction {self.direction}"
                )
        erases = self.on_delete.source_deleted == DeletionAction.gdpr_delete
        if erases and self.hubspot.object not in CONTACT_OBJECTS:
            raise ValueError("`gdpr_delete` is available for HubSpot contacts only")
        return self


class MappingTable(Strict):
    """A whole mapping table: object mappings, run in dependency order."""

    objects: list[ObjectMapping] = Field(min_length=1)

    @model_validator(mode="after")
    def _names_and_associations(self) -> Self:
        names = [o.name for o in self.objects]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"object mappings named twice: {', '.join(duplicates)}")
        for mapping in self.objects:
            for rule in mapping.associations:
                if rule.to not in names:
                    raise ValueError(
                        f"{mapping.name}: association to unknown object mapping {rule.to!r}"
                    )
        self.in_dependency_order()  # refuses cycles
        return self

    def in_dependency_order(self) -> list[ObjectMapping]:
        """Objects so that each comes after those its associations point to."""
        by_name = {o.name: o for o in self.objects}
        ordered: list[ObjectMapping] = []
        visiting: set[str] = set()

        def visit(name: str) -> None:
            if any(o.name == name for o in ordered):
                return
            if name in visiting:
                raise ValueError(f"associations form a cycle through {name!r}")
            visiting.add(name)
            for rule in by_name[name].associations:
                if rule.to != name:
                    visit(rule.to)
            visiting.discard(name)
            ordered.append(by_name[name])

        for mapping in self.objects:
            visit(mapping.name)
        return ordered

    def mapping(self, name: str) -> ObjectMapping:
        """The object mapping called ``name``."""
        return next(o for o in self.objects if o.name == name)
