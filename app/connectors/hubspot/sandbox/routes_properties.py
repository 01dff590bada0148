"""CRM properties v3: list, read and create properties and property groups."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from app.connectors.hubspot.sandbox.context import body, flag, object_type, require, sandbox
from app.connectors.hubspot.sandbox.errors import HubSpotError, bad_request, json_response
from app.connectors.hubspot.sandbox.schema import ObjectType, PropertyDef
from app.connectors.hubspot.sandbox.times import iso
from app.connectors.hubspot.sandbox.validation import property_from_request

router = APIRouter(prefix="/crm/v3/properties")


def render_property(prop: PropertyDef) -> dict[str, Any]:
    """HubSpot's ``Property`` for ``prop``."""
    out: dict[str, Any] = {
        "name": prop.name,
        "label": prop.label,
        "type": prop.type,
        "fieldType": prop.field_type,
        "description": prop.description,
        "groupName": prop.group_name,
        "options": [dict(o) for o in prop.options],
        "displayOrder": prop.display_order,
        "calculated": False,
        "externalOptions": prop.external_options,
        "hasUniqueValue": prop.has_unique_value,
        "hidden": False,
        "hubspotDefined": prop.hubspot_defined,
        "formField": prop.form_field,
        "archived": False,
        "dataSensitivity": "non_sensitive",
        "modificationMetadata": {
            "archivable": not prop.hubspot_defined,
            "readOnlyDefinition": prop.hubspot_defined,
            "readOnlyValue": prop.read_only,
        },
    }
    if prop.created_ms is not None:
        out["createdAt"] = out["updatedAt"] = iso(prop.created_ms)
    return out


def _schema_type(request: Request, write: bool) -> ObjectType:
    ot = object_type(request)
    require(request, ot.schema_write_scopes if write else ot.schema_read_scopes)
    return ot


def _missing(what: str, name: str) -> HubSpotError:
    return HubSpotError(404, "OBJECT_NOT_FOUND", f"Unable to find {what} {name}")


@router.get("/{object_type}")
async def list_properties(request: Request) -> Response:
    """Every (non-archived) property of an object type."""
    ot = _schema_type(request, write=False)
    props = [] if flag(request, "archived") else list(ot.properties.values())
    return json_response({"results": [render_property(p) for p in props]})


@router.post("/{object_type}")
async def create_property(request: Request) -> Response:
    """Create a custom property (201; 409 if the name is taken)."""
    ot = _schema_type(request, write=True)
    state = sandbox(request)
    prop = property_from_request(ot, await body(request), state.portal.now_ms())
    if prop.name in ot.properties:
        message = f"A property named '{prop.name}' already exists."
        raise HubSpotError(409, "OBJECT_ALREADY_EXISTS", message)
    ot.add(prop)
    state.save_property(ot.type_id, prop)
    return json_response(render_property(prop), 201)


@router.get("/{object_type}/groups")
async def list_groups(request: Request) -> Response:
    """Every property group of an object type."""
    ot = _schema_type(request, write=False)
    return json_response({"results": list(ot.groups.values())})


@router.post("/{object_type}/groups")
async def create_group(request: Request) -> Response:
    """Create a property group (201; 409 if the name is taken)."""
    ot = _schema_type(request, write=True)
    payload = await body(request)
    name, label = payload.get("name"), payload.get("label")
    if not isinstance(name, str) or not name or not isinstance(label, str) or not label:
        raise bad_request("name and label are required", "REQUIRED_FIELD")
    if name in ot.groups:
        raise HubSpotError(409, "OBJECT_ALREADY_EXISTS", f"A group named '{name}' already exists.")
    order = payload.get("displayOrder", -1)
    group = {"name": name, "label": label, "displayOrder": order, "archived": False}
    ot.groups[name] = group
    sandbox(request).save_group(ot.type_id, group)
    return json_response(group, 201)


@router.get("/{object_type}/groups/{group_name}")
async def read_group(request: Request) -> Response:
    """One property group."""
    ot = _schema_type(request, write=False)
    name = request.path_params["group_name"]
    if name not in ot.groups:
        raise _missing("group", name)
    return json_response(ot.groups[name])


@router.get("/{object_type}/{property_name}")
async def read_property(request: Request) -> Response:
    """One property."""
    ot = _schema_type(request, write=False)
    name = request.path_params["property_name"]
    if name not in ot.properties:
        raise _missing("property", name)
    return json_response(render_property(ot.properties[name]))
