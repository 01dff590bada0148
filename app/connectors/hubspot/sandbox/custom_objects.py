"""Custom object types: HubSpot's ``ObjectSchemaEgg`` checked, saved as JSON, installed, archived.

A definition is saved whole in the store's ``custom_objects`` table and installed again when a
file-backed sandbox starts. Each associated object type gets a USER_DEFINED association type pair
with ids from the portal's counter (1000 on); the ids are saved so they survive restarts.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict
from typing import Any

from app.connectors.hubspot.sandbox.associations import USER_DEFINED
from app.connectors.hubspot.sandbox.errors import HubSpotError, bad_request, not_found
from app.connectors.hubspot.sandbox.records import Portal
from app.connectors.hubspot.sandbox.schema import ObjectType, PropertyDef, custom_type
from app.connectors.hubspot.sandbox.validation import property_from_request

Definition = dict[str, Any]
NAME_LISTS = ("requiredProperties", "searchableProperties", "secondaryDisplayProperties")
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


def create(portal: Portal, egg: Mapping[str, Any], portal_id: int) -> Definition:
    """Define, install and save a new custom object type ``2-<n>``; 400 or 409 if refused."""
    number = portal.store.next_custom_number()
    definition = _definition(portal, egg, number, portal_id)
    install(portal, definition)
    portal.store.save_custom_object(number, definition)
    return definition


def install(portal: Portal, definition: Definition) -> None:
    """Register a definition's association types (fresh ids are written into it) and its type."""
    type_id = definition["objectTypeId"]
    types = portal.assoc_types
    types.names[type_id] = definition["name"]
    for link in definition["associations"]:
        kind = types.define(
            type_id, link["toObjectTypeId"], category=USER_DEFINED, ids=link.get("typeIds")
        )
        link["typeIds"] = [kind.type_id, kind.inverse]
    if not definition["archived"]:
        portal.catalog.add(object_type(definition))


def object_type(definition: Definition) -> ObjectType:
    """The object type a definition describes, with the properties the schema created."""
    ot = custom_type(
        definition["objectTypeId"], definition["name"], (definition["fullyQualifiedName"],)
    )
    for saved in definition["properties"]:
        ot.add(PropertyDef.from_dict(saved))
    return ot


def definitions(portal: Portal, archived: bool) -> list[Definition]:
    """Saved definitions that are (not) archived, oldest first."""
    return [d for d in portal.store.custom_objects() if d["archived"] == archived]


def find(portal: Portal, ref: str) -> Definition:
    """The active definition ``ref`` names (name, ``2-<n>``, ``p_<name>`` or full name), or 404."""
    ot = portal.catalog.find(ref)
    type_id = ot.type_id if ot is not None else None
    for definition in definitions(portal, archived=False):
        if definition["objectTypeId"] == type_id:
            return definition
    raise not_found(f"Unable to find object type {ref}")


def archive(portal: Portal, definition: Definition) -> None:
    """Archive a custom object type that has no active records (HubSpot's 400 otherwise)."""
    type_id = definition["objectTypeId"]
    if portal.store.page(type_id, 0, 1, archived=False):
        message = f"Object type {type_id} still has records; archive them before the schema"
        raise bad_request(message, "OBJECT_TYPE_HAS_RECORDS")
    definition.update(archived=True, updatedMs=portal.now_ms())
    portal.store.save_custom_object(int(definition["id"]), definition)
    portal.catalog.remove(definition["name"])


def _definition(portal: Portal, egg: Mapping[str, Any], number: int, portal_id: int) -> Definition:
    name, type_id, now = _name(portal, egg.get("name")), f"2-{number}", portal.now_ms()
    ot = custom_type(type_id, name)
    props = _properties(ot, egg.get("properties"), now)
    return {
        "id": str(number),
        "objectTypeId": type_id,
        "name": name,
        "fullyQualifiedName": f"p{portal_id}_{name}",
        "labels": _labels(egg.get("labels")),
        "primaryDisplayProperty": _primary(ot, egg.get("primaryDisplayProperty")),
        **{key: _known(ot, egg.get(key, []), key) for key in NAME_LISTS},
        "properties": [asdict(p) for p in props],
        "associations": [
            {"toObjectTypeId": t} for t in _targets(portal, egg.get("associatedObjects", []))
        ],
        "createdMs": now,
        "updatedMs": now,
        "archived": False,
    }


def _name(portal: Portal, raw: object) -> str:
    if not isinstance(raw, str) or not _NAME.match(raw):
        message = "name is required: a letter, then letters, digits or _"
        raise bad_request(message, "INVALID_NAME", "name")
    if portal.catalog.find(raw) is not None:
        raise HubSpotError(
            409, "OBJECT_ALREADY_EXISTS", f"An object type named '{raw}' already exists."
        )
    return raw


def _labels(raw: object) -> dict[str, str]:
    if not isinstance(raw, dict) or not all(
        isinstance(raw.get(k), str) and raw[k] for k in ("singular", "plural")
    ):
        raise bad_request("labels.singular and labels.plural are required", "REQUIRED_FIELD")
    return {"singular": raw["singular"], "plural": raw["plural"]}


def _properties(ot: ObjectType, raw: object, now: int) -> list[PropertyDef]:
    if not isinstance(raw, list):
        raise bad_request("properties must be a list", "INVALID_PROPERTIES", "properties")
    props = []
    for index, item in enumerate(raw):
        prop = _property(ot, item, index, now)
        if prop.name in ot.properties:
            message = f"properties[{index}]: a property named '{prop.name}' already exists"
            raise bad_request(message, "DUPLICATE_PROPERTY", prop.name)
        ot.add(prop)
        props.append(prop)
    return props


def _property(ot: ObjectType, raw: object, index: int, now: int) -> PropertyDef:
    """One ``properties[]`` entry, checked as the properties API checks it (default group)."""
    if not isinstance(raw, dict):
        raise bad_request(f"properties[{index}] must be an object", "INVALID_PROPERTIES")
    try:
        return property_from_request(ot, {"groupName": next(iter(ot.groups)), **raw}, now)
    except HubSpotError as exc:
        code = exc.errors[0]["code"] if exc.errors else "INVALID_PROPERTIES"
        where = f"properties[{index}]"
        raise bad_request(f"{where}: {exc.message}", code, where) from None


def _primary(ot: ObjectType, raw: object) -> str | None:
    if raw is None:
        return None
    if not isinstance(raw, str):
        message = "primaryDisplayProperty must be a property name"
        raise bad_request(message, "INVALID_INPUT", "primaryDisplayProperty")
    return _known(ot, [raw], "primaryDisplayProperty")[0]


def _known(ot: ObjectType, raw: object, key: str) -> list[str]:
    if not isinstance(raw, list) or not all(isinstance(n, str) for n in raw):
        raise bad_request(f"{key} must be a list of property names", "INVALID_INPUT", key)
    unknown = [n for n in raw if n not in ot.properties]
    if unknown:
        raise bad_request(f"{key}: unknown property '{unknown[0]}'", "PROPERTY_DOESNT_EXIST", key)
    return raw


def _targets(portal: Portal, raw: object) -> list[str]:
    if not isinstance(raw, list) or not all(isinstance(n, str) for n in raw):
        message = "associatedObjects must be a list of object types"
        raise bad_request(message, "INVALID_INPUT", "associatedObjects")
    targets: list[str] = []
    for ref in raw:
        ot = portal.catalog.find(ref)
        if ot is None:
            message = f"associatedObjects: unknown object type '{ref}'"
            raise bad_request(message, "INVALID_OBJECT_TYPE", "associatedObjects")
        if ot.type_id not in targets:
            targets.append(ot.type_id)
    return targets
