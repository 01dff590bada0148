"""The portal's object types and property definitions, HubSpot's defaults included."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

READ_ONLY = frozenset({"hs_object_id", "createdate", "lastmodifieddate", "hs_lastmodifieddate"})
CUSTOM_SCHEMA_READ = ("crm.schemas.custom.read", "crm.objects.custom.read")
CUSTOM_SCHEMA_WRITE = ("crm.schemas.custom.write",)


@dataclass(frozen=True, slots=True)
class PropertyDef:
    """One property of an object type (HubSpot's ``Property``)."""

    name: str
    type: str = "string"
    field_type: str = "text"
    label: str = ""
    group_name: str = ""
    description: str = ""
    options: tuple[dict[str, Any], ...] = ()
    has_unique_value: bool = False
    hubspot_defined: bool = True
    external_options: bool = False  # option list lives elsewhere (owners): values not checked
    display_order: int = -1
    form_field: bool = False
    created_ms: int | None = None

    @classmethod
    def from_dict(cls, saved: dict[str, Any]) -> PropertyDef:
        """A property back from its saved ``asdict`` form."""
        return cls(**{**saved, "options": tuple(saved["options"])})

    @property
    def read_only(self) -> bool:
        """Whether API writes must leave the value alone."""
        return self.name in READ_ONLY

    @property
    def option_values(self) -> frozenset[str]:
        """The values an enumeration accepts."""
        return frozenset(str(o["value"]) for o in self.options)


@dataclass(slots=True)
class ObjectType:
    """A CRM object type: ids, scopes, default properties and its property definitions."""

    type_id: str
    name: str
    singular: str
    lastmodified: str
    defaults: tuple[str, ...]
    read_scopes: tuple[str, ...]
    write_scopes: tuple[str, ...]
    schema_read_scopes: tuple[str, ...]
    schema_write_scopes: tuple[str, ...]
    event_prefix: str
    properties: dict[str, PropertyDef] = field(default_factory=dict)
    groups: dict[str, dict[str, Any]] = field(default_factory=dict)
    unique: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()  # more names the catalog finds it by (custom: p<portal>_<name>)

    def add(self, prop: PropertyDef) -> None:
        """Register ``prop`` and refresh the list of unique properties."""
        self.properties[prop.name] = prop
        self.unique = tuple(p.name for p in self.properties.values() if p.has_unique_value)

    @property
    def system(self) -> tuple[str, ...]:
        """Properties present on every record (id, created, last modified)."""
        return ("createdate", self.lastmodified, "hs_object_id")


def _enum(name: str, *values: str, field_type: str = "select") -> PropertyDef:
    options = tuple(
        {"label": v.replace("_", " ").title(), "value": v, "hidden": False, "displayOrder": i}
        for i, v in enumerate(values)
    )
    return PropertyDef(name, "enumeration", field_type, options=options)


def _num(name: str) -> PropertyDef:
    return PropertyDef(name, "number", "number")


def _owner() -> PropertyDef:
    return PropertyDef("hubspot_owner_id", "enumeration", "select", external_options=True)


_LIFECYCLE = _enum(
    "lifecyclestage",
    *("subscriber", "lead", "marketingqualifiedlead", "salesqualifiedlead"),
    *("opportunity", "customer", "evangelist", "other"),
)
_TEXT = ("phone", "address", "city", "state", "zip", "country", "website", "description")

_SPECS: dict[str, tuple[Any, ...]] = {
    # name: (type id, singular, group, defaults, extra property definitions)
    "contacts": (
        "0-1", "contact", "contactinformation", ("firstname", "lastname", "email"),
        [PropertyDef("email", has_unique_value=True), _LIFECYCLE, _owner(),
         *map(PropertyDef, ("firstname", "lastname", "mobilephone", "company", "jobtitle")),
         _enum("hs_lead_status", "NEW", "OPEN", "IN_PROGRESS", "OPEN_DEAL", "UNQUALIFIED",
               "ATTEMPTED_TO_CONTACT", "CONNECTED", "BAD_TIMING"),
         PropertyDef("date_of_birth"), _num("annualrevenue")],
    ),
    "companies": (
        "0-2", "company", "companyinformation", ("name", "domain"),
        [*map(PropertyDef, ("name", "domain", "industry")), _LIFECYCLE, _owner(),
         _num("numberofemployees"), _num("annualrevenue")],
    ),
    "deals": (
        "0-3", "deal", "dealinformation",
        ("dealname", "amount", "closedate", "pipeline", "dealstage"),
        [PropertyDef("dealname"), _num("amount"), PropertyDef("closedate", "datetime", "date"),
         _enum("pipeline", "default"), _owner(),
         _enum("dealstage", "appointmentscheduled", "qualifiedtobuy", "presentationscheduled",
               "decisionmakerboughtin", "contractsent", "closedwon", "closedlost"),
         _enum("dealtype", "newbusiness", "existingbusiness")],
    ),
    "tickets": (
        "0-5", "ticket", "ticketinformation",
        ("content", "hs_pipeline", "hs_pipeline_stage", "hs_ticket_category",
         "hs_ticket_priority", "subject"),
        [PropertyDef("subject"), PropertyDef("content", field_type="textarea"), _owner(),
         _enum("hs_pipeline", "0"), _enum("hs_pipeline_stage", "1", "2", "3", "4"),
         _enum("hs_ticket_category", "PRODUCT_ISSUE", "BILLING_ISSUE", "FEATURE_REQUEST",
               "GENERAL_INQUIRY", field_type="checkbox"),
         _enum("hs_ticket_priority", "LOW", "MEDIUM", "HIGH", "URGENT")],
    ),
    "products": (
        "0-7", "product", "productinformation", ("name", "description", "price"),
        [PropertyDef("name"), _num("price"), PropertyDef("hs_sku"),
         _num("hs_cost_of_goods_sold"), PropertyDef("hs_recurring_billing_period")],
    ),
    "line_items": (
        "0-8", "line_item", "lineiteminformation", (),
        [PropertyDef("name"), _num("quantity"), _num("price"), _num("amount"),
         PropertyDef("hs_product_id"), PropertyDef("hs_sku")],
    ),
}  # fmt: skip

_SCOPES: dict[str, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = {
    "tickets": (("tickets",), ("tickets",), ("tickets",), ("tickets",)),
}


def _scopes(name: str) -> tuple[tuple[str, ...], ...]:
    if name in _SCOPES:
        return _SCOPES[name]
    read, write = f"crm.objects.{name}.read", f"crm.objects.{name}.write"
    if name in ("products", "line_items"):
        return (read,), (write,), (read,), (write,)
    return (read,), (write,), (f"crm.schemas.{name}.read", read), (f"crm.schemas.{name}.write",)


def _system(singular: str, lastmodified: str) -> list[PropertyDef]:
    return [
        PropertyDef("createdate", "datetime", "date", label="Create Date"),
        PropertyDef(lastmodified, "datetime", "date", label="Last Modified Date"),
        PropertyDef("hs_object_id", "number", "number", label=f"Record ID ({singular})"),
    ]


def _finish(ot: ObjectType, group: str, props: list[PropertyDef]) -> ObjectType:
    label = group.removesuffix("information").rstrip("_").title() + " information"
    ot.groups[group] = {"name": group, "label": label, "displayOrder": 0, "archived": False}
    for prop in (*_system(ot.singular, ot.lastmodified), *props):
        pretty = prop.label or prop.name.replace("_", " ").capitalize()
        ot.add(replace(prop, label=pretty, group_name=prop.group_name or group))
    return ot


def standard_types() -> dict[str, ObjectType]:
    """HubSpot's standard object types with their default properties, fresh copies."""
    types: dict[str, ObjectType] = {}
    for name, (type_id, singular, group, defaults, props) in _SPECS.items():
        extra = [PropertyDef(n) for n in _TEXT if n not in {p.name for p in props}]
        lastmodified = "lastmodifieddate" if name == "contacts" else "hs_lastmodifieddate"
        read, write, schema_read, schema_write = _scopes(name)
        ot = ObjectType(
            type_id, name, singular, lastmodified, defaults,
            read, write, schema_read, schema_write, singular,
        )  # fmt: skip
        types[name] = _finish(ot, group, [*props, *extra])
    return types


def custom_type(type_id: str, name: str, aliases: tuple[str, ...] = ()) -> ObjectType:
    """A custom object type (``2-<n>``) with its system properties; the schema adds its own."""
    ot = ObjectType(
        type_id, name, name, "hs_lastmodifieddate", (),
        ("crm.objects.custom.read",), ("crm.objects.custom.write",),
        CUSTOM_SCHEMA_READ, CUSTOM_SCHEMA_WRITE, "object", aliases=aliases,
    )  # fmt: skip
    return _finish(ot, f"{name.lower()}_information", [])


class Catalog:
    """The portal's object types, found by plural name, singular name, type id or ``p_`` alias."""

    def __init__(self) -> None:
        self.types = standard_types()
        self._index: dict[str, ObjectType] = {}
        self._reindex()

    def add(self, ot: ObjectType) -> None:
        """Register a (custom) object type."""
        self.types[ot.name] = ot
        self._reindex()

    def remove(self, name: str) -> None:
        """Forget the (custom) object type called ``name``."""
        del self.types[name]
        self._reindex()

    def find(self, ref: str) -> ObjectType | None:
        """The object type ``ref`` names, or None."""
        return self._index.get(ref.lower())

    def _reindex(self) -> None:
        self._index = {}
        for ot in self.types.values():
            for key in (ot.name, ot.singular, ot.type_id, f"p_{ot.name}", *ot.aliases):
                self._index[key.lower()] = ot
