"""CRM schemas v3: the portal's custom object types (``GET /crm/v3/schemas``).

A mapping table may name a custom object by its name (``cars``), its
``p_<name>`` alias, its fully qualified name (``p12345_cars``) or its type id
(``2-1234``); webhook events carry only the type id. ``ObjectSchema.names``
lists every name a type is known by, so callers can map one to the other.
"""

from __future__ import annotations

import builtins

from app.connectors.hubspot.models import HubSpotModel, parse_list, results
from app.connectors.hubspot.paths import ApiPaths
from app.connectors.hubspot.transport import Call, Transport


class ObjectSchema(HubSpotModel):
    """A custom object type as the schema API describes it (only what hubsync uses)."""

    id: str
    object_type_id: str
    name: str
    fully_qualified_name: str
    archived: bool = False

    @property
    def names(self) -> frozenset[str]:
        """Every name the type is addressed by in the CRM API, lower-cased."""
        found = (self.object_type_id, self.name, f"p_{self.name}", self.fully_qualified_name)
        return frozenset(name.lower() for name in found)


class SchemasApi:
    """Custom object schema endpoints (read only: hubsync does not define types)."""

    def __init__(self, transport: Transport, paths: ApiPaths) -> None:
        self._transport = transport
        self._paths = paths

    async def list(self) -> builtins.list[ObjectSchema]:
        """The portal's active custom object types (HubSpot does not page these)."""
        call = Call("GET", self._paths.schemas, params={"archived": "false"})
        return parse_list(ObjectSchema, results(await self._transport.call(call)))
