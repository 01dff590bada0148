"""What the "HubSpot access" page shows of a connection: portal, scopes, token expiry, state.

Read from the connection's plain config and, for the token's expiry only, its
decrypted secrets; no token ever leaves this module.
"""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.actor import Actor
from app.core.secrets_box import SecretBox
from app.sync.hubspot_oauth.needs import interfaces_using, needed_scopes
from app.sync.hubspot_oauth.service import hubspot_connection
from app.sync.hubspot_oauth.stored import ACCESS_TOKEN, APP, EXPIRES_AT, open_secrets


class AccessState(enum.StrEnum):
    """How a HubSpot connection reaches its portal."""

    connected = "connected"  # OAuth tokens, refreshed on their own
    revoked = "revoked"  # OAuth, but HubSpot refused the last refresh: reconnect
    private_app = "private_app"  # a token entered by an operator
    not_connected = "not_connected"


@dataclass(frozen=True, slots=True)
class HubSpotAccessStatus:
    """One HubSpot connection's access to its portal, for people to read."""

    connection_id: uuid.UUID
    name: str
    state: AccessState
    portal_id: int | None
    granted: tuple[str, ...]
    needed: tuple[str, ...]
    interfaces: tuple[str, ...]
    expires_at: datetime | None
    connected_at: datetime | None
    revoked_at: datetime | None

    @property
    def missing(self) -> tuple[str, ...]:
        """Scopes the mapping tables need that the portal has not granted (OAuth only)."""
        if self.state not in (AccessState.connected, AccessState.revoked):
            return ()
        return tuple(scope for scope in self.needed if scope not in self.granted)


async def access_status(
    session: AsyncSession, *, actor: Actor, box: SecretBox, connection_id: uuid.UUID
) -> HubSpotAccessStatus:
    """The access of one HubSpot connection in the actor's scope (any role may read it)."""
    connection = await hubspot_connection(session, actor=actor, connection_id=connection_id)
    values = open_secrets(connection, box)
    config = connection.config
    revoked_at = _moment(config.get("revoked_at"))
    expires = values.get(EXPIRES_AT)
    return HubSpotAccessStatus(
        connection_id=connection.id,
        name=connection.name,
        state=_state(oauth=APP in values, token=ACCESS_TOKEN in values, revoked=bool(revoked_at)),
        portal_id=connection.hub_id,
        granted=tuple(config.get("scopes") or ()),
        needed=await needed_scopes(session, connection),
        interfaces=tuple(i.name for i in await interfaces_using(session, connection)),
        expires_at=datetime.fromtimestamp(float(expires), UTC) if expires else None,
        connected_at=_moment(config.get("connected_at")),
        revoked_at=revoked_at,
    )


def _state(*, oauth: bool, token: bool, revoked: bool) -> AccessState:
    if oauth:
        return AccessState.revoked if revoked else AccessState.connected
    return AccessState.private_app if token else AccessState.not_connected


def _moment(value: object) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) else None
