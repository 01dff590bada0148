"""Connecting a HubSpot portal to a connection through OAuth 2.0, and disconnecting it.

``start_authorization`` returns HubSpot's consent URL with the scopes the
interfaces' mapping tables need, PKCE (S256) and a ``state`` that is single-use,
valid 10 minutes and bound to the user, the connection's tenant and (from the
UI) the sign-in session. ``complete_authorization`` handles HubSpot's callback:
it uses the state up first, so a refused callback cannot be replayed, then
exchanges the code, asks HubSpot which portal and scopes the token grants, and
stores the tokens encrypted and the portal in the connection's config.
``disconnect`` revokes the refresh token at HubSpot where it can and deletes the
tokens. Every outcome is audited, without tokens.
"""

from __future__ import annotations

import enum
import logging
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import quote

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.actor import Actor, Permission
from app.connectors.clock import SYSTEM_CLOCK, Clock
from app.connectors.hubspot.auth import OAuthApp, Pkce, TokenInfo, TokenSet
from app.connectors.hubspot.client import DEFAULT_TIMEOUT
from app.connectors.hubspot.errors import HubSpotError
from app.connectors.hubspot.paths import LEGACY_PATHS
from app.core.audit import record_audit
from app.core.errors import HubsyncError, InvalidInput, NotFound
from app.core.secrets_box import SecretBox
from app.models import Connection
from app.models.base import utcnow
from app.models.enums import ConnectionKind, Role
from app.sync.connections import get_connection
from app.sync.hubspot_oauth.config import OAuthConfig
from app.sync.hubspot_oauth.needs import needed_scopes
from app.sync.hubspot_oauth.stored import (
    APP,
    PENDING,
    PORTAL_KEYS,
    REFRESH_TOKEN,
    TOKEN_KEYS,
    PendingAuthorization,
    new_state,
    open_secrets,
    seal,
    state_connection,
    token_values,
)

logger = logging.getLogger(__name__)


class CallbackProblem(enum.StrEnum):
    """Why HubSpot's callback connected nothing."""

    unknown_state = "unknown_state"  # not ours, another tenant's, or used already
    expired = "expired"  # older than 10 minutes
    wrong_user = "wrong_user"  # another user, or another sign-in session, started it
    denied = "denied"  # access was not granted on HubSpot's consent page
    refused = "refused"  # HubSpot refused the code, or could not be reached
    portal_taken = "portal_taken"  # the portal belongs to another tenant
    not_configured = "not_configured"  # hubsync has no HubSpot app


class OAuthCallbackError(HubsyncError):
    """HubSpot's callback could not connect the portal; no token was stored."""

    status_code = 400

    def __init__(
        self, problem: CallbackProblem, message: str, connection_id: uuid.UUID | None = None
    ) -> None:
        super().__init__(message)
        self.problem = problem
        self.connection_id = connection_id


class OAuthNotConfigured(HubsyncError):
    """hubsync has no HubSpot app to connect portals through."""

    status_code = 503


NOT_CONFIGURED = (
    "HubSpot OAuth is not set up on this hubsync: "
    "set HUBSYNC_HUBSPOT_CLIENT_ID and HUBSYNC_HUBSPOT_CLIENT_SECRET"
)


async def hubspot_connection(
    session: AsyncSession, *, actor: Actor, connection_id: uuid.UUID
) -> Connection:
    """A HubSpot connection in the actor's scope (``NotFound`` for another tenant's)."""
    return _hubspot_only(await get_connection(session, actor=actor, connection_id=connection_id))


def _hubspot_only(connection: Connection) -> Connection:
    if connection.kind != ConnectionKind.hubspot:
        raise InvalidInput(f"the connection {connection.name!r} is not a HubSpot connection")
    return connection


async def start_authorization(
    session: AsyncSession,
    *,
    actor: Actor,
    box: SecretBox,
    config: OAuthConfig | None,
    connection_id: uuid.UUID,
    session_key: str | None,
    clock: Clock = SYSTEM_CLOCK,
) -> str:
    """HubSpot's consent URL for connecting ``connection_id``; the state is remembered.

    ``session_key`` identifies the caller's sign-in session (the UI's cookie); the
    callback must then come from that session. The API passes None: the
    callback must then come from the same user.
    """
    connection = await _connectable(session, actor=actor, connection_id=connection_id)
    if config is None:
        raise OAuthNotConfigured(NOT_CONFIGURED)
    if actor.user_id is None:
        raise InvalidInput("only a signed-in user can connect HubSpot: HubSpot sends them back")
    scopes = await needed_scopes(session, connection)
    state, pkce = new_state(connection.id), Pkce.new()
    pending = PendingAuthorization.start(
        state=state, pkce=pkce, user_id=actor.user_id, tenant_id=connection.tenant_id,
        session_key=session_key, now=clock.time(),
    )  # fmt: skip
    values = open_secrets(connection, box)
    values[PENDING] = pending.to_json()
    seal(connection, box, values)
    async with _http(None) as http:
        return config.client(http, scopes=scopes).authorization_url(state, pkce)


async def complete_authorization(
    session: AsyncSession,
    *,
    actor: Actor,
    box: SecretBox,
    config: OAuthConfig | None,
    state: str | None,
    code: str | None,
    error: str | None,
    session_key: str | None,
    http: httpx.AsyncClient | None = None,
    clock: Clock = SYSTEM_CLOCK,
) -> Connection:
    """Connect the portal HubSpot's callback names; ``OAuthCallbackError`` if anything is off.

    The state is used up before any check, and a refusal is audited: the caller
    should commit even when this raises (the UI route renders the error page).
    """
    connection, pending = await _take_pending(session, actor=actor, box=box, state=state or "")
    try:
        _check_callback(pending, actor, session_key, clock.time(), error, connection.id)
        if config is None:
            raise OAuthCallbackError(CallbackProblem.not_configured, NOT_CONFIGURED, connection.id)
        async with _http(http) as client:
            app = config.client(client, clock=clock)
            tokens, info = await _exchange(app, code or "", pending, connection.id)
            await _claim_portal(session, actor, connection, info, app, tokens)
    except OAuthCallbackError as exc:
        await _audit(session, actor, connection, "hubspot.connect_refused", {"reason": exc.problem})
        raise
    _store_portal(connection, box, config, tokens, info)
    details = {"portal_id": info.hub_id, "scopes": list(info.scopes)}
    await _audit(session, actor, connection, "hubspot.connected", details)
    return connection


async def disconnect(
    session: AsyncSession,
    *,
    actor: Actor,
    box: SecretBox,
    connection_id: uuid.UUID,
    http: httpx.AsyncClient | None = None,
) -> bool:
    """Revoke the refresh token at HubSpot where possible, then delete every token.

    Returns whether HubSpot confirmed the revocation; the tokens are deleted either way.
    """
    connection = await _connectable(session, actor=actor, connection_id=connection_id)
    values = open_secrets(connection, box)
    revoked = False
    if values.get(APP) and values.get(REFRESH_TOKEN):
        app = OAuthConfig.from_json(values[APP])
        async with _http(http) as client:
            revoked = await _revoke(client, app.api_url, str(values[REFRESH_TOKEN]), connection.id)
    portal_id = connection.config.get("portal_id")
    seal(connection, box, {k: v for k, v in values.items() if k not in (*TOKEN_KEYS, PENDING)})
    connection.config = _without_portal(connection.config)
    connection.hub_id = None
    details = {"portal_id": portal_id, "revoked": revoked}
    await _audit(session, actor, connection, "hubspot.disconnected", details)
    return revoked


async def _connectable(
    session: AsyncSession, *, actor: Actor, connection_id: uuid.UUID
) -> Connection:
    """The connection, if the actor may connect and disconnect it (404 before 403)."""
    connection = await get_connection(session, actor=actor, connection_id=connection_id)
    actor.require(Permission.operate_interfaces)
    return _hubspot_only(connection)


async def _take_pending(
    session: AsyncSession, *, actor: Actor, box: SecretBox, state: str
) -> tuple[Connection, PendingAuthorization]:
    """The connection and the authorization ``state`` belongs to, removed from storage."""
    unknown = OAuthCallbackError(
        CallbackProblem.unknown_state, "the OAuth state is unknown or was used already"
    )
    connection_id = state_connection(state)
    if connection_id is None:
        raise unknown
    try:
        connection = await hubspot_connection(session, actor=actor, connection_id=connection_id)
    except (NotFound, InvalidInput):
        raise unknown from None
    values = open_secrets(connection, box)
    raw = values.get(PENDING)
    pending = PendingAuthorization.from_json(raw) if raw else None
    if pending is None or not pending.is_for(state):
        raise unknown
    del values[PENDING]
    seal(connection, box, values)
    if pending.tenant_id != str(connection.tenant_id):
        raise unknown
    return connection, pending


def _check_callback(
    pending: PendingAuthorization,
    actor: Actor,
    session_key: str | None,
    now: float,
    error: str | None,
    connection_id: uuid.UUID,
) -> None:
    if not pending.started_by(actor.user_id, session_key):
        raise OAuthCallbackError(
            CallbackProblem.wrong_user, "another user or session started this authorization"
        )
    if now > pending.expires_at:
        raise OAuthCallbackError(
            CallbackProblem.expired, "the authorization expired", connection_id
        )
    if error:
        raise OAuthCallbackError(
            CallbackProblem.denied, "access was not granted in HubSpot", connection_id
        )


async def _exchange(
    app: OAuthApp, code: str, pending: PendingAuthorization, connection_id: uuid.UUID
) -> tuple[TokenSet, TokenInfo]:
    """Trade the code for tokens and ask HubSpot which portal and scopes they grant."""
    try:
        tokens = await app.exchange_code(code, pending.pkce())
        return tokens, await app.token_info(tokens.access_token)
    except HubSpotError as exc:
        logger.warning(
            "HubSpot refused the authorization code",
            extra={"connection_id": str(connection_id), "error": type(exc).__name__,
                   "status": exc.status, "correlation_id": exc.correlation_id},
        )  # fmt: skip
        raise OAuthCallbackError(
            CallbackProblem.refused, f"HubSpot refused the authorization: {exc}", connection_id
        ) from None


async def _claim_portal(
    session: AsyncSession,
    actor: Actor,
    connection: Connection,
    info: TokenInfo,
    app: OAuthApp,
    tokens: TokenSet,
) -> None:
    """Refuse a portal that another tenant has connected, unless an operator connects it.

    The fresh refresh token is revoked then, so nothing is left granted.
    """
    if actor.role == Role.operator or not await _portal_elsewhere(session, connection, info):
        return
    if tokens.refresh_token:
        await _revoke(app.http, app.base_url, tokens.refresh_token, connection.id)
    raise OAuthCallbackError(
        CallbackProblem.portal_taken,
        f"HubSpot portal {info.hub_id} is connected to another tenant",
        connection.id,
    )


async def _portal_elsewhere(session: AsyncSession, connection: Connection, info: TokenInfo) -> bool:
    """Whether another tenant's connection holds the portal.

    A query on the table, not the model, on purpose: the session only sees the
    actor's tenant, and this one check must look beyond it (it returns no row).
    """
    table = Connection.__table__
    statement = (
        select(table.c.id)
        .where(table.c.hub_id == info.hub_id, table.c.tenant_id != connection.tenant_id)
        .limit(1)
    )
    return (await session.execute(statement)).first() is not None


def _store_portal(
    connection: Connection, box: SecretBox, config: OAuthConfig, tokens: TokenSet, info: TokenInfo
) -> None:
    values = open_secrets(connection, box)
    values |= token_values(tokens)
    values[APP] = config.to_json()
    seal(connection, box, values)
    connection.hub_id = info.hub_id
    connection.config = {
        **_without_portal(connection.config),
        "base_url": config.api_url,
        "portal_id": info.hub_id,
        "scopes": list(info.scopes),
        "auth": "oauth",
        "connected_at": utcnow().isoformat(),
    }


def _without_portal(config: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in config.items() if k not in PORTAL_KEYS}


async def _revoke(
    http: httpx.AsyncClient, api_url: str, refresh_token: str, connection_id: uuid.UUID
) -> bool:
    """Revoke a refresh token (``DELETE /oauth/v1/refresh-tokens/{token}``); True if gone.

    A refresh token HubSpot does not know (404) counts as revoked. The URL holds
    the token, so it is never logged.
    """
    url = f"{api_url}{LEGACY_PATHS.oauth}/refresh-tokens/{quote(refresh_token, safe='')}"
    try:
        response = await http.delete(url)
    except httpx.HTTPError as exc:
        status = f"no answer ({type(exc).__name__})"
    else:
        if response.is_success or response.status_code == 404:
            return True
        status = str(response.status_code)
    logger.warning(
        "HubSpot did not revoke the refresh token; it is deleted here anyway",
        extra={"connection_id": str(connection_id), "status": status},
    )
    return False


async def _audit(
    session: AsyncSession,
    actor: Actor,
    connection: Connection,
    action: str,
    details: dict[str, Any],
) -> None:
    await record_audit(
        session, action=action, actor_label=actor.label, actor_id=actor.user_id,
        tenant_id=connection.tenant_id, target_type="connection", target_id=connection.id,
        details=details,
    )  # fmt: skip


@asynccontextmanager
async def _http(http: httpx.AsyncClient | None) -> AsyncIterator[httpx.AsyncClient]:
    """``http`` if given (tests pass one), else a client closed afterwards."""
    if http is not None:
        yield http
        return
    async with httpx.AsyncClient(timeout=DEFAULT_TIMEOUT) as client:
        yield client
