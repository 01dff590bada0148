"""``HubSpotClient``: one portal's API surface (objects, search, properties, associations,
custom object schemas).

The client takes plain arguments and callbacks: a ``TokenProvider``, an optional
shared ``httpx.AsyncClient``, the portal's ``PortalLimiter`` (share it through a
``LimiterRegistry`` between clients of the same portal), a ``RetryPolicy`` and a
``Clock``, and optionally ``on_response``, told each HTTP attempt's status (0 when no
response came). It knows nothing of the web layer, the database or metrics.
"""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType

import httpx

from app.connectors.clock import SYSTEM_CLOCK, Clock
from app.connectors.hubspot.associations import AssociationsApi
from app.connectors.hubspot.auth import DEFAULT_BASE_URL, TokenProvider
from app.connectors.hubspot.limiter import PortalLimiter
from app.connectors.hubspot.objects import ObjectsApi
from app.connectors.hubspot.paths import LEGACY_PATHS, ApiPaths
from app.connectors.hubspot.properties import PropertiesApi
from app.connectors.hubspot.retry import RetryPolicy
from app.connectors.hubspot.schemas import SchemasApi
from app.connectors.hubspot.search import SearchApi
from app.connectors.hubspot.transport import Transport

DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=5.0)


class HubSpotClient:
    """Async HubSpot client for one portal; use ``async with`` or call ``aclose``."""

    def __init__(
        self,
        auth: TokenProvider,
        *,
        http: httpx.AsyncClient | None = None,
        limiter: PortalLimiter | None = None,
        retry: RetryPolicy | None = None,
        clock: Clock = SYSTEM_CLOCK,
        base_url: str = DEFAULT_BASE_URL,
        paths: ApiPaths = LEGACY_PATHS,
        on_response: Callable[[int], None] | None = None,
    ) -> None:
        self._owns_http = http is None
        self._http = http or httpx.AsyncClient(timeout=DEFAULT_TIMEOUT)
        self.limiter = limiter or PortalLimiter(clock=clock)
        self.transport = Transport(
            auth=auth,
            http=self._http,
            limiter=self.limiter,
            retry=retry or RetryPolicy(),
            clock=clock,
            base_url=base_url,
            on_response=on_response,
        )
        self.objects = ObjectsApi(self.transport, paths)
        self.search = SearchApi(self.transport, paths)
        self.properties = PropertiesApi(self.transport, paths)
        self.associations = AssociationsApi(self.transport, paths)
        self.schemas = SchemasApi(self.transport, paths)

    async def aclose(self) -> None:
        """Close the HTTP client if this client created it."""
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> HubSpotClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
