"""The HubSpot scopes a set of mapping tables needs: derived from the tables, never typed in.

HubSpot asks apps to request only the scopes they use (``hubspot-api.md`` §6.1,
SECURITY §16), so the consent page shows exactly what the interfaces do:

- every mapped HubSpot object is read (``crm.objects.<type>.read``) and its
  property definitions are checked (``crm.schemas.<type>.read``, where HubSpot has one);
- an object written to HubSpot (direction ``to_hubspot`` or ``both``) needs
  ``crm.objects.<type>.write``, and so does the other end of each association it writes;
- an object on which hubsync may create a property (its match property or a written
  field that is not one of HubSpot's default properties, the rule of
  ``plan_properties``) needs ``crm.schemas.<type>.write``;
- ``oauth`` always.

Object type ids (``0-1``) name the same objects as their names; custom objects
(``2-…``, ``p_…``) share HubSpot's ``custom`` scopes; tickets use HubSpot's ``tickets``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from app.sync.mapping.hubspot_properties import plan_properties
from app.sync.mapping.model import Direction, MappingTable, ObjectMapping
from app.sync.mapping.schema_check import HubSpotProperty

BASE_SCOPE = "oauth"


@dataclass(frozen=True, slots=True)
class ObjectScopes:
    """The scopes that read and write one HubSpot object family and its properties."""

    read: str
    write: str
    schema_read: str | None = None
    schema_write: str | None = None

    @classmethod
    def crm(cls, family: str, *, schemas: bool) -> ObjectScopes:
        """HubSpot's ``crm.objects.<family>.*`` scopes, with ``crm.schemas.<family>.*`` if any."""
        objects, schema = f"crm.objects.{family}", f"crm.schemas.{family}"
        if not schemas:
            return cls(f"{objects}.read", f"{objects}.write")
        return cls(f"{objects}.read", f"{objects}.write", f"{schema}.read", f"{schema}.write")


_STANDARD: Mapping[str, ObjectScopes] = {
    "contacts": ObjectScopes.crm("contacts", schemas=True),
    "companies": ObjectScopes.crm("companies", schemas=True),
    "deals": ObjectScopes.crm("deals", schemas=True),
    "products": ObjectScopes.crm("products", schemas=False),
    "line_items": ObjectScopes.crm("line_items", schemas=False),
    "tickets": ObjectScopes("tickets", "tickets"),
}
_TYPE_IDS: Mapping[str, str] = {
    "0-1": "contacts", "0-2": "companies", "0-3": "deals",
    "0-5": "tickets", "0-7": "products", "0-8": "line_items",
}  # fmt: skip
_CUSTOM = ObjectScopes.crm("custom", schemas=True)
# Properties every portal has (the defaults HubSpot returns, hubspot-api.md §1.1): never created.
_DEFAULT_PROPERTIES: Mapping[str, tuple[str, ...]] = {
    "contacts": ("email", "firstname", "lastname"),
    "companies": ("name", "domain"),
    "deals": ("dealname", "amount", "closedate", "pipeline", "dealstage"),
    "tickets": ("subject", "content"),
    "products": ("name", "description", "price"),
}


def object_scopes(object_type: str) -> ObjectScopes:
    """The scopes of one HubSpot object type, given by name or by type id."""
    name = _TYPE_IDS.get(object_type, object_type)
    if name in _STANDARD:
        return _STANDARD[name]
    if name.startswith(("2-", "p_")):
        return _CUSTOM
    return ObjectScopes.crm(name, schemas=False)


def required_scopes(tables: Iterable[MappingTable]) -> tuple[str, ...]:
    """Every scope ``tables`` need, sorted; ``oauth`` even for no table."""
    needed = {BASE_SCOPE}
    for table in tables:
        needed |= _table_scopes(table)
    return tuple(sorted(needed))


def _table_scopes(table: MappingTable) -> set[str]:
    creatable = _objects_with_creatable_properties(table)
    needed: set[str] = set()
    for mapping in table.objects:
        own = object_scopes(mapping.hubspot.object)
        needed |= _present(own.read, own.schema_read)
        if mapping.hubspot.object in creatable:
            needed |= _present(own.schema_write)
        if mapping.direction.includes(Direction.to_hubspot):
            needed |= {own.write, *_association_writes(table, mapping)}
    return needed


def _association_writes(table: MappingTable, mapping: ObjectMapping) -> set[str]:
    """Writing an association needs the write scope of the other end too."""
    return {
        object_scopes(table.mapping(rule.to).hubspot.object).write for rule in mapping.associations
    }


def _objects_with_creatable_properties(table: MappingTable) -> set[str]:
    """The object types on which ``plan_properties`` could plan a property in a fresh portal."""
    defaults = {
        mapping.hubspot.object: [
            HubSpotProperty(name=name, type="string")
            for name in _DEFAULT_PROPERTIES.get(
                _TYPE_IDS.get(mapping.hubspot.object, mapping.hubspot.object), ()
            )
        ]
        for mapping in table.objects
    }
    return {planned.object_type for planned in plan_properties(table, defaults)}


def _present(*scopes: str | None) -> set[str]:
    return {scope for scope in scopes if scope is not None}
