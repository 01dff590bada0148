"""CRM property definitions and property groups (v3).

Creating a property or group that exists raises ``Conflict`` (409); creates are
not idempotent, so an ambiguous failure raises ``OutcomeUnknown`` rather than
being retried.
"""

from __future__ import annotations

import builtins
from typing import Any

from app.connectors.hubspot.models import HubSpotModel, parse, parse_list, results
from app.connectors.hubspot.paths import ApiPaths
from app.connectors.hubspot.transport import Call, Transport


class PropertyOption(HubSpotModel):
    """One choice of an enumeration property; writes use ``value``."""

    label: str
    value: str
    hidden: bool = False
    display_order: int | None = None
    description: str | None = None


class PropertySpec(HubSpotModel):
    """A property to create (``PropertyCreate``); ``has_unique_value`` is fixed at creation."""

    name: str
    label: str
    type: str
    field_type: str
    group_name: str
    description: str | None = None
    options: list[PropertyOption] | None = None
    has_unique_value: bool | None = None
    hidden: bool | None = None
    form_field: bool | None = None
    display_order: int | None = None

    def wire(self) -> dict[str, Any]:
        """The JSON body, camelCase, without unset fields."""
        return self.model_dump(by_alias=True, exclude_none=True)


class Property(PropertySpec):
    """A property definition as HubSpot returns it."""

    hubspot_defined: bool | None = None
    calculated: bool | None = None
    archived: bool = False
    modification_metadata: dict[str, bool] | None = None

    @property
    def read_only(self) -> bool:
        """Whether its values cannot be written through the API."""
        return bool((self.modification_metadata or {}).get("readOnlyValue"))


class PropertyGroup(HubSpotModel):
    """A group that properties are shown under."""

    name: str
    label: str
    display_order: int = -1
    archived: bool = False


class PropertiesApi:
    """Property and property-group endpoints."""

    def __init__(self, transport: Transport, paths: ApiPaths) -> None:
        self._transport = transport
        self._paths = paths

    async def list(self, object_type: str, *, archived: bool = False) -> builtins.list[Property]:
        """All property definitions of an object type (HubSpot does not page these)."""
        call = Call(
            "GET",
            self._paths.property_collection(object_type),
            params={"archived": str(archived).lower()},
        )
        return parse_list(Property, results(await self._transport.call(call)))

    async def create(self, object_type: str, spec: PropertySpec) -> Property:
        """Create a property; ``Conflict`` if the name exists."""
        path = self._paths.property_collection(object_type)
        body = await self._transport.call(Call("POST", path, json=spec.wire(), idempotent=False))
        return parse(Property, body)

    async def list_groups(self, object_type: str) -> builtins.list[PropertyGroup]:
        """All property groups of an object type."""
        call = Call("GET", self._paths.property_groups(object_type))
        return parse_list(PropertyGroup, results(await self._transport.call(call)))

    async def create_group(self, object_type: str, group: PropertyGroup) -> PropertyGroup:
        """Create a property group; ``Conflict`` if the name exists."""
        body = group.model_dump(by_alias=True, include={"name", "label", "display_order"})
        call = Call("POST", self._paths.property_groups(object_type), json=body, idempotent=False)
        return parse(PropertyGroup, await self._transport.call(call))
