"""Request signing for the rest connector: static headers, or an OAuth2 client-credentials token.

The client-credentials token is fetched once, reused until shortly before
``expires_in`` runs out, then fetched again; a 401 drops it once, early.
"""

from __future__ import annotations

import asyncio
import base64

from pydantic import SecretStr

from app.connectors.clock import Clock
from app.connectors.errors import ConnectorAuthError
from app.connectors.rest.config import AuthSettings
from app.connectors.rest.http import HttpClient, Signer

EXPIRY_MARGIN_S = 30.0  # renew this long before expiry (at most a tenth of the lifetime)


def _secret(value: SecretStr | None) -> str:
    """The plain text of a secret the settings checked is present."""
    return value.get_secret_value() if value is not None else ""


def basic_credentials(username: str, password: str) -> str:
    """The value of an ``Authorization: Basic`` header."""
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode("ascii")


class StaticSigner:
    """The same headers on every request (none, bearer, basic or API key)."""

    def __init__(self, headers: dict[str, str]) -> None:
        self._headers = headers

    async def headers(self, http: HttpClient) -> dict[str, str]:
        """The fixed headers."""
        return dict(self._headers)

    def invalidate(self) -> bool:
        """A static credential cannot be renewed."""
        return False


class ClientCredentialsSigner:
    """An OAuth2 client-credentials access token, cached until it expires."""

    def __init__(self, settings: AuthSettings, clock: Clock) -> None:
        self._settings = settings
        self._clock = clock
        self._token: str | None = None
        self._expires_at = 0.0
        self._lock = asyncio.Lock()

    async def headers(self, http: HttpClient) -> dict[str, str]:
        """``Authorization: Bearer`` with a valid token, fetched when missing or expired."""
        async with self._lock:
            if self._token is None or self._clock.time() >= self._expires_at:
                await self._fetch(http)
        return {"Authorization": f"Bearer {self._token}"}

    def invalidate(self) -> bool:
        """Drop the token so the next request fetches a new one."""
        self._token = None
        return True

    async def _fetch(self, http: HttpClient) -> None:
        s = self._settings
        form = {"grant_type": "client_credentials"}
        if s.scope:
            form["scope"] = s.scope
        auth = basic_credentials(s.client_id or "", _secret(s.client_secret))
        reply = await http.request(
            "POST", s.token_url or "", form=form, sign=False, headers={"Authorization": auth}
        )
        if reply.status != 200:
            raise ConnectorAuthError(f"{reply.what}: the token endpoint refused the client")
        body = reply.json()
        token = body.get("access_token") if isinstance(body, dict) else None
        if not isinstance(token, str) or not token:
            raise ConnectorAuthError(f"{reply.what}: the token endpoint sent no access_token")
        lifetime = float(body.get("expires_in") or 3600)
        self._token = token
        self._expires_at = self._clock.time() + lifetime - min(EXPIRY_MARGIN_S, lifetime / 10)


def make_signer(settings: AuthSettings, clock: Clock) -> Signer:
    """The signer for the configured auth type."""
    match settings.type:
        case "bearer":
            return StaticSigner({"Authorization": f"Bearer {_secret(settings.token)}"})
        case "basic":
            value = basic_credentials(settings.username or "", _secret(settings.password))
            return StaticSigner({"Authorization": value})
        case "api_key":
            return StaticSigner({settings.header: _secret(settings.value)})
        case "oauth2_client_credentials":
            return ClientCredentialsSigner(settings, clock)
    return StaticSigner({})
