"""CRM schemas v3: define, list, read and archive custom object types (``2-<n>``)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from app.connectors.hubspot.sandbox import custom_objects
from app.connectors.hubspot.sandbox.context import body, flag, require, sandbox
from app.connectors.hubspot.sandbox.custom_objects import NAME_LISTS, Definition
from app.connectors.hubspot.sandbox.errors import json_response
from app.connectors.hubspot.sandbox.records import Portal
from app.connectors.hubspot.sandbox.routes_properties import render_property
from app.connectors.hubspot.sandbox.schema import CUSTOM_SCHEMA_READ, CUSTOM_SCHEMA_WRITE
from app.connectors.hubspot.sandbox.times import iso

router = APIRouter(prefix="/crm/v3/schemas")
_COPIED = ("id", "objectTypeId", "fullyQualifiedName", "name", "labels", "primaryDisplayProperty")


def render_schema(portal: Portal, definition: Definition) -> dict[str, Any]:
    """HubSpot's ``ObjectSchema`` for a saved definition, with the type's current properties."""
    ot = portal.catalog.find(definition["objectTypeId"]) or custom_objects.object_type(definition)
    created, updated = iso(definition["createdMs"]), iso(definition["updatedMs"])
    associations = []
    for link in definition["associations"]:
        kind = portal.assoc_types.by_id[link["typeIds"][0]]
        associations.append(
            {
                "id": str(kind.type_id),
                "fromObjectTypeId": kind.from_type,
                "toObjectTypeId": kind.to_type,
                "name": kind.name,
                "createdAt": created,
                "updatedAt": created,
            }
        )
    return {
        **{key: definition[key] for key in (*_COPIED, *NAME_LISTS)},
        "properties": [render_property(p) for p in ot.properties.values()],
        "associations": associations,
        "metaType": "PORTAL_SPECIFIC",
        "archived": definition["archived"],
        "createdAt": created,
        "updatedAt": updated,
    }


@router.get("")
async def list_schemas(request: Request) -> Response:
    """Every custom object schema (``archived=true``: the archived ones)."""
    require(request, CUSTOM_SCHEMA_READ)
    portal = sandbox(request).portal
    found = custom_objects.definitions(portal, flag(request, "archived"))
    return json_response({"results": [render_schema(portal, d) for d in found]})


@router.post("")
async def create_schema(request: Request) -> Response:
    """Define a custom object type (201; 400 if invalid, 409 if the name is taken)."""
    require(request, CUSTOM_SCHEMA_WRITE)
    state = sandbox(request)
    definition = custom_objects.create(state.portal, await body(request), state.config.portal_id)
    return json_response(render_schema(state.portal, definition), 201)


@router.get("/{object_type}")
async def read_schema(request: Request) -> Response:
    """One schema, by name, ``2-<n>``, ``p_<name>`` or fully qualified name."""
    require(request, CUSTOM_SCHEMA_READ)
    portal = sandbox(request).portal
    definition = custom_objects.find(portal, request.path_params["object_type"])
    return json_response(render_schema(portal, definition))


@router.delete("/{object_type}")
async def archive_schema(request: Request) -> Response:
    """Archive a schema without active records (204; 400 while it has some)."""
    require(request, CUSTOM_SCHEMA_WRITE)
    portal = sandbox(request).portal
    custom_objects.archive(portal, custom_objects.find(portal, request.path_params["object_type"]))
    return Response(status_code=204)
