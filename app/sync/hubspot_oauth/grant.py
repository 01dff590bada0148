"""An OAuth connection at run time: a HubSpot client whose tokens refresh and are stored.

``oauth_grant`` turns a connection's decrypted secrets into an ``OAuthGrant``
(None for a private-app connection). Its client refreshes the access token
before it expires and after a 401 (``OAuthTokenProvider``) and stores every new
token set encrypted on the connection. It refreshes with the client secret of
the settings' app when that app is the one the connection was made through
(``refreshing_app``), else with the credentials stored at connect time. When
HubSpot refuses a refresh, the connection gets ``revoked_at``: the run ends with
``RefreshFailed`` (the health table's "access revoked – reconnect HubSpot"
reason) and later runs fail the same way without calling HubSpot again, until
someone reconnects.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.connectors.hubspot.auth import (
    OAuthApp,
    OAuthTokenProvider,
    TokenProvider,
    TokenSet,
)
from app.connectors.hubspot.client import DEFAULT_TIMEOUT, HubSpotClient
from app.connectors.hubspot.errors import RefreshFailed
from app.core.db import SessionFactory, create_session_factory, session_scope
from app.core.secrets_box import SecretBox
from app.core.tenancy import TenantScope, bind_scope
from app.models import Connection
from app.models.base import utcnow
from app.sync.hubspot_oauth.config import OAuthConfig
from app.sync.hubspot_oauth.stored import (
    ACCESS_TOKEN,
    APP,
    REFRESH_TOKEN,
    open_secrets,
    seal,
    stored_tokens,
    token_values,
)
from app.sync.repositories import ConnectionRepository

T = TypeVar("T")
REVOKED_MESSAGE = (
    "HubSpot access was revoked (HubSpot refused to refresh the token); reconnect HubSpot"
)


@dataclass(slots=True)
class TokenStore:
    """Writes a connection's refreshed tokens, or its revocation, in a session of its own.

    Nothing is written once the stored refresh token is no longer the one the run
    started with: someone reconnected or disconnected meanwhile, and that wins.
    """

    sessions: SessionFactory
    box: SecretBox
    connection_id: uuid.UUID
    tenant_id: uuid.UUID
    refresh_token: str | None = field(repr=False)

    async def save(self, tokens: TokenSet) -> None:
        """Store a refreshed token set, encrypted."""

        def store(connection: Connection, values: dict[str, Any]) -> None:
            seal(connection, self.box, values | token_values(tokens))

        await self._change(store)
        self.refresh_token = tokens.refresh_token

    async def mark_revoked(self) -> None:
        """Record that HubSpot refused a refresh (shown on the page; no more calls)."""

        def revoke(connection: Connection, _values: dict[str, Any]) -> None:
            connection.config = {**connection.config, "revoked_at": utcnow().isoformat()}

        await self._change(revoke)

    async def _change(self, change: Callable[[Connection, dict[str, Any]], None]) -> None:
        async with session_scope(self.sessions) as session:
            scope = TenantScope.only(self.tenant_id)
            bind_scope(session, scope)
            connection = await ConnectionRepository.scoped(session, scope).get_by_id(
                self.connection_id
            )
            if connection is None:
                return
            values = open_secrets(connection, self.box)
            if values.get(REFRESH_TOKEN) == self.refresh_token:
                change(connection, values)


class StoringTokenProvider(OAuthTokenProvider):
    """``OAuthTokenProvider`` that stores new tokens and records a refused refresh once."""

    def __init__(self, app: OAuthApp, tokens: TokenSet, store: TokenStore) -> None:
        super().__init__(app, tokens, store.save)
        self._store = store
        self._recorded = False

    async def token(self) -> str:
        """The access token, refreshed first if it expires soon."""
        return await self._watch(super().token())

    async def on_unauthorized(self, rejected: str) -> bool:
        """Refresh once after a 401."""
        return await self._watch(super().on_unauthorized(rejected))

    async def _watch(self, call: Awaitable[T]) -> T:
        try:
            return await call
        except RefreshFailed:
            if not self._recorded:
                self._recorded = True
                await self._store.mark_revoked()
            raise


class RevokedAccess:
    """The token provider of a connection whose refresh HubSpot refused: it calls nobody."""

    def __repr__(self) -> str:
        return "RevokedAccess()"

    async def token(self) -> str:
        """Never a token: the connection must be reconnected."""
        raise RefreshFailed(REVOKED_MESSAGE)

    async def on_unauthorized(self, rejected: str) -> bool:
        """Nothing to retry with."""
        return False


class _SharedHttpClient(HubSpotClient):
    """A HubSpot client that closes the HTTP client it shares with its token refreshes."""

    def __init__(
        self,
        auth: TokenProvider,
        *,
        http: httpx.AsyncClient,
        base_url: str,
        on_response: Callable[[int], None] | None,
    ) -> None:
        super().__init__(auth, http=http, base_url=base_url, on_response=on_response)
        self._shared_http = http

    async def aclose(self) -> None:
        """Close the shared HTTP client."""
        await self._shared_http.aclose()


@dataclass(frozen=True, slots=True)
class OAuthGrant:
    """What a run needs to call HubSpot for an OAuth connection and keep its tokens fresh."""

    app: OAuthConfig
    tokens: TokenSet = field(repr=False)
    revoked: bool
    store: TokenStore

    def client(
        self, base_url: str, *, on_response: Callable[[int], None] | None = None
    ) -> HubSpotClient:
        """A HubSpot client for the portal (use it as an async context manager)."""
        http = httpx.AsyncClient(timeout=DEFAULT_TIMEOUT)
        provider: TokenProvider = (
            RevokedAccess()
            if self.revoked
            else StoringTokenProvider(self.app.client(http), self.tokens, self.store)
        )
        return _SharedHttpClient(provider, http=http, base_url=base_url, on_response=on_response)


def oauth_grant(
    session: AsyncSession,
    connection: Connection,
    values: dict[str, Any],
    box: SecretBox,
    *,
    settings_app: OAuthConfig | None = None,
) -> OAuthGrant | None:
    """The grant of an OAuth connection from its decrypted secrets; None for any other.

    ``settings_app`` is hubsync's HubSpot app as configured now: see ``refreshing_app``.
    """
    if APP not in values or ACCESS_TOKEN not in values:
        return None
    store = TokenStore(
        sessions=create_session_factory(_engine(session)), box=box,
        connection_id=connection.id, tenant_id=connection.tenant_id,
        refresh_token=values.get(REFRESH_TOKEN),
    )  # fmt: skip
    return OAuthGrant(
        app=refreshing_app(OAuthConfig.from_json(values[APP]), settings_app),
        tokens=stored_tokens(values, connection.hub_id),
        revoked=bool(connection.config.get("revoked_at")),
        store=store,
    )


def refreshing_app(stored: OAuthConfig, settings_app: OAuthConfig | None) -> OAuthConfig:
    """The app a connection refreshes its tokens through: the one stored at connect time,
    with the settings' client secret when the settings name the same client id.

    A secret rotated in HubSpot is then picked up from ``HUBSYNC_HUBSPOT_CLIENT_SECRET``
    without reconnecting every portal. A connection made through another app (the
    settings changed to a new app since) keeps its own credentials; so do the stored
    endpoints, which belong to the portal the tokens were issued for.
    """
    if settings_app is None or settings_app.client_id != stored.client_id:
        return stored
    return replace(stored, client_secret=settings_app.client_secret)


def _engine(session: AsyncSession) -> AsyncEngine:
    """The engine behind ``session``: refreshed tokens are stored in sessions of their own."""
    bind = session.bind
    if bind is None:
        raise TypeError("the session is not bound to an engine")
    return bind if isinstance(bind, AsyncEngine) else bind.engine
