"""Credentials for HubSpot calls: static private-app tokens and OAuth 2.0 token sets.

``OAuthApp`` speaks to HubSpot's OAuth endpoints (authorize URL with optional
PKCE, code exchange, refresh, token info) using authlib's OAuth 2 helpers.
``OAuthTokenProvider`` hands out a valid access token: it refreshes five minutes
before expiry and once after a 401, under a lock so concurrent requests refresh
once, and passes every new ``TokenSet`` to ``on_tokens`` for the caller to store.
A refused refresh kills the provider: every later call raises ``RefreshFailed``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx
from authlib.common.security import generate_token
from authlib.oauth2.rfc6749.parameters import prepare_grant_uri, prepare_token_request
from authlib.oauth2.rfc7636 import create_s256_code_challenge

from app.connectors.clock import SYSTEM_CLOCK, Clock
from app.connectors.hubspot.errors import (
    HubSpotError,
    MalformedResponse,
    RefreshFailed,
    TransportError,
    error_from_response,
    json_body,
)
from app.connectors.hubspot.paths import LEGACY_PATHS, ApiPaths

AUTHORIZE_URL = "https://app.hubspot.com/oauth/authorize"
DEFAULT_BASE_URL = "https://api.hubapi.com"
REFRESH_MARGIN_S = 300.0


@dataclass(frozen=True, slots=True)
class TokenSet:
    """An OAuth token set as HubSpot issued it; tokens are kept out of ``repr``."""

    access_token: str = field(repr=False)
    refresh_token: str | None = field(repr=False)
    expires_at: float  # epoch seconds
    hub_id: int | None = None
    scopes: tuple[str, ...] = ()
    token_type: str = "bearer"  # noqa: S105 - a token kind, not a secret

    @classmethod
    def from_response(cls, body: Mapping[str, Any], now: float, refresh: str | None) -> TokenSet:
        """Build from a token response; ``refresh`` is kept if HubSpot sends no new one."""
        try:
            access, expires_in = str(body["access_token"]), float(body["expires_in"])
        except (KeyError, TypeError, ValueError):
            raise MalformedResponse("token response lacks access_token or expires_in") from None
        hub_id = body.get("hub_id")
        return cls(
            access_token=access,
            refresh_token=body.get("refresh_token") or refresh,
            expires_at=now + expires_in,
            hub_id=int(hub_id) if hub_id is not None else None,
            scopes=tuple(body.get("scopes") or ()),
            token_type=str(body.get("token_type", "bearer")),
        )

    def expires_within(self, seconds: float, now: float) -> bool:
        """Whether the access token expires within ``seconds`` of ``now``."""
        return self.expires_at - now <= seconds


@dataclass(frozen=True, slots=True)
class TokenInfo:
    """What HubSpot says an access token grants."""

    hub_id: int
    scopes: tuple[str, ...]
    app_id: int | None = None
    user: str | None = None
    expires_in: int | None = None


@dataclass(frozen=True, slots=True)
class Pkce:
    """A PKCE verifier and its S256 challenge."""

    verifier: str = field(repr=False)
    challenge: str

    @classmethod
    def new(cls) -> Pkce:
        """A fresh random verifier (64 characters) and its challenge."""
        verifier = generate_token(64)
        return cls(verifier=verifier, challenge=create_s256_code_challenge(verifier))


class TokenProvider(Protocol):
    """Supplies the bearer token for each request."""

    async def token(self) -> str:
        """A token valid for the next request."""
        ...

    async def on_unauthorized(self, rejected: str) -> bool:
        """React to a 401 for ``rejected``; ``True`` if a retry with a new token makes sense."""
        ...


class StaticTokenProvider:
    """A private-app token or service key: never expires, cannot be refreshed."""

    def __init__(self, token: str) -> None:
        self._token = token

    def __repr__(self) -> str:
        return "StaticTokenProvider(token=[redacted])"

    async def token(self) -> str:
        """The static token."""
        return self._token

    async def on_unauthorized(self, rejected: str) -> bool:
        """A static token cannot be renewed; the 401 stands."""
        return False


@dataclass(slots=True)
class OAuthApp:
    """A HubSpot OAuth app: builds authorize URLs and exchanges or refreshes tokens."""

    client_id: str
    client_secret: str = field(repr=False)
    redirect_uri: str
    http: httpx.AsyncClient
    scopes: Sequence[str] = ()
    optional_scopes: Sequence[str] = ()
    base_url: str = DEFAULT_BASE_URL
    authorize_url: str = AUTHORIZE_URL
    paths: ApiPaths = LEGACY_PATHS
    clock: Clock = SYSTEM_CLOCK

    def authorization_url(self, state: str, pkce: Pkce | None = None) -> str:
        """Where to send the installing user (scopes space-joined, PKCE S256 optional)."""
        extra: dict[str, str] = {}
        if self.optional_scopes:
            extra["optional_scope"] = " ".join(self.optional_scopes)
        if pkce:
            extra |= {"code_challenge": pkce.challenge, "code_challenge_method": "S256"}
        return str(
            prepare_grant_uri(
                self.authorize_url,
                self.client_id,
                "code",
                redirect_uri=self.redirect_uri,
                scope=" ".join(self.scopes),
                state=state,
                **extra,
            )
        )

    async def exchange_code(self, code: str, pkce: Pkce | None = None) -> TokenSet:
        """Trade an authorization code for a token set."""
        extra = {"code_verifier": pkce.verifier} if pkce else {}
        body = await self._token_call(
            "authorization_code", code=code, redirect_uri=self.redirect_uri, **extra
        )
        return TokenSet.from_response(body, self.clock.time(), None)

    async def refresh(self, tokens: TokenSet) -> TokenSet:
        """A new token set from ``tokens.refresh_token``; ``RefreshFailed`` if refused."""
        if not tokens.refresh_token:
            raise RefreshFailed("token set has no refresh token")
        try:
            body = await self._token_call("refresh_token", refresh_token=tokens.refresh_token)
        except HubSpotError as exc:
            if exc.status is not None and 400 <= exc.status < 500:
                raise RefreshFailed(f"refresh refused: {exc.message}", **_fields(exc)) from None
            raise
        return TokenSet.from_response(body, self.clock.time(), tokens.refresh_token)

    async def token_info(self, access_token: str) -> TokenInfo:
        """Hub id and scopes of an access token (GET /oauth/v1/access-tokens/{token})."""
        response = await self._send("GET", self.paths.access_token_info(access_token))
        body = json_body(response)
        return TokenInfo(
            hub_id=int(body["hub_id"]),
            scopes=tuple(body.get("scopes") or ()),
            app_id=body.get("app_id"),
            user=body.get("user"),
            expires_in=body.get("expires_in"),
        )

    async def _token_call(self, grant_type: str, **params: str) -> dict[str, Any]:
        form = prepare_token_request(
            grant_type, client_id=self.client_id, client_secret=self.client_secret, **params
        )
        response = await self._send(
            "POST",
            self.paths.oauth_token(),
            content=form,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        body = json_body(response)
        if not isinstance(body, dict):
            raise MalformedResponse("token response is not a JSON object")
        return body

    async def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            response = await self.http.request(method, self.base_url + path, **kwargs)
        except httpx.TransportError as exc:
            raise TransportError(
                f"OAuth call failed: {type(exc).__name__}", maybe_applied=True
            ) from None
        if response.status_code >= 400:
            raise error_from_response(response)
        return response


def _fields(error: HubSpotError) -> dict[str, Any]:
    return {
        "status": error.status,
        "category": error.category,
        "correlation_id": error.correlation_id,
        "context": error.context,
    }


OnTokens = Callable[[TokenSet], Awaitable[None]]


class OAuthTokenProvider:
    """Keeps one portal's OAuth access token fresh and reports new token sets."""

    def __init__(
        self,
        app: OAuthApp,
        tokens: TokenSet,
        on_tokens: OnTokens,
        *,
        margin_s: float = REFRESH_MARGIN_S,
    ) -> None:
        self._app = app
        self._tokens = tokens
        self._on_tokens = on_tokens
        self._margin_s = margin_s
        self._lock = asyncio.Lock()
        self._dead: RefreshFailed | None = None

    def __repr__(self) -> str:
        return f"OAuthTokenProvider(hub_id={self._tokens.hub_id}, dead={self._dead is not None})"

    @property
    def tokens(self) -> TokenSet:
        """The current token set."""
        return self._tokens

    async def token(self) -> str:
        """The access token, refreshed first if it expires within the margin."""
        self._raise_if_dead()
        current = self._tokens
        if current.expires_within(self._margin_s, self._app.clock.time()):
            await self._refresh(stale=current.access_token)
        return self._tokens.access_token

    async def on_unauthorized(self, rejected: str) -> bool:
        """Refresh once for all requests that saw a 401 with the same token."""
        await self._refresh(stale=rejected)
        return True

    async def _refresh(self, stale: str) -> None:
        async with self._lock:
            self._raise_if_dead()
            if self._tokens.access_token != stale:
                return  # another request refreshed while we waited
            try:
                fresh = await self._app.refresh(self._tokens)
            except RefreshFailed as exc:
                self._dead = exc
                raise
            self._tokens = fresh
            await self._on_tokens(fresh)

    def _raise_if_dead(self) -> None:
        if self._dead is not None:
            raise RefreshFailed(self._dead.message, **_fields(self._dead))
