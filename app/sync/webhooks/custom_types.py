"""Custom object types by name: each HubSpot connection's schema API, asked once and cached.

A mapping names a custom object as HubSpot's API lets it (``cars``,
``p_cars``, ``p12345_cars``); its webhook events carry only the type id
(``2-1234``). ``CustomObjectTypes.resolve`` turns the names the targets of a
chunk's portals read into type ids, asking ``GET /crm/v3/schemas`` through
the target's HubSpot connection — only for portals with an event about a
non-standard type, and at most once per connection while the answer is fresh:

- an answer is kept ``TTL`` (a type defined in HubSpot later is seen then),
  and asked again at once when a target wants a name the last answer was not
  asked for (a new mapping version naming another custom object);
- a failed lookup (no ``crm.schemas.custom.read`` scope, access revoked,
  HubSpot down after the client's own retries) is kept ``RETRY_AFTER`` and
  its reason goes on the target: routing then ignores the events of
  unresolved types with that reason instead of retrying them. The scheduled
  run reads every change since its cursor anyway, so nothing is lost, and a
  lookup that fails for a reason that does not pass (a missing scope) does
  not fill the error log with failed events after ten attempts.

The cache lives as long as the worker (one per process), keyed by connection.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Protocol

from app.connectors.hubspot.errors import HubSpotError
from app.connectors.hubspot.schemas import ObjectSchema
from app.core.db import SessionFactory, session_scope
from app.core.errors import HubsyncError, NotFound
from app.core.secrets_box import SecretBox
from app.core.tenancy import TenantScope, bind_scope
from app.sync.hubspot_oauth.config import OAuthConfig
from app.sync.repositories import ConnectionRepository
from app.sync.running import portal_access
from app.sync.webhooks.repository import DueEvent
from app.sync.webhooks.routing import Portal, Target, event_types, is_type_id

logger = logging.getLogger(__name__)

TTL = timedelta(minutes=15)
RETRY_AFTER = timedelta(minutes=1)
_STANDARD_PREFIX = "0-"


class SchemaLookup(Protocol):
    """Reads the custom object schemas of one HubSpot connection."""

    async def __call__(self, connection_id: uuid.UUID, tenant_id: uuid.UUID) -> list[ObjectSchema]:
        """The connection's custom object types; raises if HubSpot cannot be asked."""


@dataclass(frozen=True, slots=True)
class HubSpotSchemas:
    """``SchemaLookup`` through the connection's own token (refreshed like a run's)."""

    sessions: SessionFactory
    box: SecretBox
    oauth_app: OAuthConfig | None = None  # the settings' app: its secret refreshes tokens

    async def __call__(self, connection_id: uuid.UUID, tenant_id: uuid.UUID) -> list[ObjectSchema]:
        """The connection's custom object types, from HubSpot's schema API."""
        scope = TenantScope.only(tenant_id)
        async with session_scope(self.sessions) as session:
            bind_scope(session, scope)
            connection = await ConnectionRepository.scoped(session, scope).get_by_id(connection_id)
            if connection is None:
                raise NotFound("the HubSpot connection no longer exists")
            access = portal_access(session, connection, self.box, oauth_app=self.oauth_app)
        async with access.client() as client:
            return await client.schemas.list()


@dataclass(frozen=True, slots=True)
class _Answer:
    at: datetime
    asked: frozenset[str]  # the names wanted when HubSpot was asked
    types: Mapping[str, str] | None  # name → type id; None: the lookup failed
    reason: str = ""


class CustomObjectTypes:
    """Per-process cache of each HubSpot connection's custom object types, by name."""

    def __init__(self, lookup: SchemaLookup) -> None:
        self.lookup = lookup
        self._answers: dict[uuid.UUID, _Answer] = {}

    async def resolve(
        self, portals: Mapping[int, Portal], events: Sequence[DueEvent], now: datetime
    ) -> dict[int, Portal]:
        """``portals`` with the custom objects their targets read named by type id, where
        an event of the portal is about a custom object type."""
        custom = {e.portal_id for e in events if _custom(event_types(e))}
        resolved = dict(portals)
        for portal_id in custom & portals.keys():
            portal = portals[portal_id]
            targets = [await self._target(target, now) for target in portal.targets]
            resolved[portal_id] = replace(portal, targets=tuple(targets))
        return resolved

    async def _target(self, target: Target, now: datetime) -> Target:
        names = target.readers.custom_names
        if not names:
            return target
        answer = await self._answer(target.connection_id, target.tenant_id, names, now)
        if answer.types is None:
            return replace(target, unresolved=answer.reason)
        return target.with_types(answer.types)

    async def _answer(
        self, connection_id: uuid.UUID, tenant_id: uuid.UUID, names: frozenset[str],
        now: datetime,
    ) -> _Answer:  # fmt: skip
        known = self._answers.get(connection_id)
        if known is not None and _fresh(known, names, now):
            return known
        asked = names | (known.asked if known is not None else frozenset())
        try:
            schemas = await self.lookup(connection_id, tenant_id)
        except Exception as exc:  # the reason is kept on the targets; their events are ignored
            expected = isinstance(exc, HubsyncError | HubSpotError)
            logger.warning("custom object types of HubSpot connection %s could not be looked up",
                           connection_id, exc_info=not expected)  # fmt: skip
            reason = f"the custom object types could not be looked up in HubSpot ({_text(exc)})"
            answer = _Answer(now, asked, None, reason)
        else:
            answer = _Answer(now, asked, _by_name(schemas))
        self._answers[connection_id] = answer
        return answer


def _fresh(answer: _Answer, names: frozenset[str], now: datetime) -> bool:
    """Whether ``answer`` still serves a target wanting ``names``."""
    if answer.types is None:
        return now - answer.at < RETRY_AFTER
    return now - answer.at < TTL and names <= answer.asked


def _custom(types: Iterable[str]) -> bool:
    """Whether any of ``types`` is a custom (non-standard) object type id."""
    return any(is_type_id(t) and not t.startswith(_STANDARD_PREFIX) for t in types)


def _by_name(schemas: Iterable[ObjectSchema]) -> dict[str, str]:
    return {name: s.object_type_id for s in schemas if not s.archived for name in s.names}


def _text(exc: Exception) -> str:
    """A failure as the event's reason: hubsync's and HubSpot's messages carry no personal
    data here (a schema lookup); for anything else only the type."""
    if isinstance(exc, HubsyncError | HubSpotError):
        return str(exc)[:300]
    return f"unexpected error ({type(exc).__name__})"
