"""Every HubSpot API path prefix in one place.

Moving to HubSpot's date-based versions (``/crm/objects/2026-03/...``) is a change
to the prefixes of one ``ApiPaths`` value; nothing else builds a versioned path.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote


def _seg(value: str) -> str:
    """One URL path segment, escaped (ids and unique values may hold ``/`` or ``@``)."""
    return quote(value, safe="")


@dataclass(frozen=True, slots=True)
class ApiPaths:
    """The versioned prefixes of each API family HubSpot exposes."""

    objects: str = "/crm/v3/objects"
    properties: str = "/crm/v3/properties"
    associations: str = "/crm/v4/associations"
    schemas: str = "/crm/v3/schemas"
    oauth: str = "/oauth/v1"

    def object_collection(self, object_type: str) -> str:
        """``/crm/v3/objects/{t}``: list and create."""
        return f"{self.objects}/{_seg(object_type)}"

    def object_item(self, object_type: str, object_id: str) -> str:
        """``/crm/v3/objects/{t}/{id}``: read, update, archive one record."""
        return f"{self.object_collection(object_type)}/{_seg(object_id)}"

    def object_batch(self, object_type: str, action: str) -> str:
        """``/crm/v3/objects/{t}/batch/{read|create|update|upsert|archive}``."""
        return f"{self.object_collection(object_type)}/batch/{action}"

    def search(self, object_type: str) -> str:
        """``/crm/v3/objects/{t}/search``."""
        return f"{self.object_collection(object_type)}/search"

    def gdpr_delete(self) -> str:
        """``/crm/v3/objects/contacts/gdpr-delete``."""
        return f"{self.object_collection('contacts')}/gdpr-delete"

    def property_collection(self, object_type: str) -> str:
        """``/crm/v3/properties/{t}``."""
        return f"{self.properties}/{_seg(object_type)}"

    def property_groups(self, object_type: str) -> str:
        """``/crm/v3/properties/{t}/groups``."""
        return f"{self.property_collection(object_type)}/groups"

    def association_batch(self, from_type: str, to_type: str, action: str) -> str:
        """``/crm/v4/associations/{from}/{to}/batch/{action}``."""
        return f"{self.associations}/{_seg(from_type)}/{_seg(to_type)}/batch/{action}"

    def oauth_token(self) -> str:
        """``/oauth/v1/token``: code exchange and refresh."""
        return f"{self.oauth}/token"

    def access_token_info(self, token: str) -> str:
        """``/oauth/v1/access-tokens/{token}``: hub id and scopes of a token."""
        return f"{self.oauth}/access-tokens/{_seg(token)}"


LEGACY_PATHS = ApiPaths()
