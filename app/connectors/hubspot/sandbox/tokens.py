"""Who may call the sandbox: private-app tokens and the OAuth tokens it has issued.

The OAuth server routes (authorize, token exchange and refresh, introspection)
and the request authentication both work on one ``TokenRegistry``.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field

ALL_SCOPES = (
    "oauth",
    "crm.objects.contacts.read", "crm.objects.contacts.write",
    "crm.objects.companies.read", "crm.objects.companies.write",
    "crm.objects.deals.read", "crm.objects.deals.write",
    "crm.objects.products.read", "crm.objects.products.write",
    "crm.objects.line_items.read", "crm.objects.line_items.write",
    "tickets",
    "crm.objects.custom.read", "crm.objects.custom.write",
    "crm.schemas.contacts.read", "crm.schemas.contacts.write",
    "crm.schemas.companies.read", "crm.schemas.companies.write",
    "crm.schemas.deals.read", "crm.schemas.deals.write",
    "crm.schemas.custom.read", "crm.schemas.custom.write",
)  # fmt: skip


@dataclass(slots=True)
class TokenInfo:
    """What a bearer token grants."""

    token: str
    hub_id: int
    scopes: tuple[str, ...]
    kind: str  # "private_app" | "access_token"
    expires_at: float | None = None  # epoch seconds; None = never

    def expired(self, now: float) -> bool:
        """Whether the token is past its lifetime."""
        return self.expires_at is not None and now >= self.expires_at


@dataclass(slots=True)
class _Grant:
    code: str
    client_id: str
    redirect_uri: str
    scopes: tuple[str, ...]
    expires_at: float


@dataclass(slots=True)
class TokenRegistry:
    """Private-app tokens plus OAuth codes, access and refresh tokens of one portal."""

    hub_id: int
    client_id: str
    client_secret: str
    access_token_ttl: int = 1800
    clock: Callable[[], float] = field(default=time.time, repr=False)
    _tokens: dict[str, TokenInfo] = field(default_factory=dict)
    _codes: dict[str, _Grant] = field(default_factory=dict)
    _refresh: dict[str, tuple[str, tuple[str, ...]]] = field(default_factory=dict)

    def now(self) -> float:
        """The registry's clock (replaceable in tests)."""
        return self.clock()

    def add_private_token(self, token: str, scopes: tuple[str, ...] = ALL_SCOPES) -> None:
        """Accept ``token`` as a private-app token with ``scopes``."""
        self._tokens[token] = TokenInfo(token, self.hub_id, scopes, "private_app")

    def authenticate(self, token: str) -> TokenInfo | None:
        """The grant behind a bearer token, or None if unknown or expired."""
        info = self._tokens.get(token)
        if info is None or info.expired(self.now()):
            return None
        return info

    def issue_code(self, client_id: str, redirect_uri: str, scopes: tuple[str, ...]) -> str:
        """An authorization code for an approved install (valid 10 minutes, single use)."""
        code = secrets.token_urlsafe(24)
        self._codes[code] = _Grant(code, client_id, redirect_uri, scopes, self.now() + 600)
        return code

    def exchange_code(
        self, code: str, client_id: str, client_secret: str, redirect_uri: str
    ) -> dict[str, object] | None:
        """Trade a code for tokens (HubSpot's token response), or None if anything is off."""
        if not self._client_ok(client_id, client_secret):
            return None
        grant = self._codes.pop(code, None)
        if grant is None or grant.expires_at < self.now() or grant.redirect_uri != redirect_uri:
            return None
        refresh = "na1-" + secrets.token_urlsafe(24)
        self._refresh[refresh] = (client_id, grant.scopes)
        return self._token_response(refresh, grant.scopes)

    def refresh(
        self, refresh_token: str, client_id: str, client_secret: str
    ) -> dict[str, object] | None:
        """New access token for a refresh token, or None if unknown or the client is wrong."""
        entry = self._refresh.get(refresh_token)
        if entry is None or not self._client_ok(client_id, client_secret):
            return None
        return self._token_response(refresh_token, entry[1])

    def revoke_refresh_token(self, refresh_token: str) -> bool:
        """Forget a refresh token (uninstall); its access tokens stay valid until they expire."""
        return self._refresh.pop(refresh_token, None) is not None

    def expire_access_tokens(self) -> None:
        """Make every issued access token expire now (tests of refresh on 401)."""
        for info in self._tokens.values():
            if info.kind == "access_token":
                info.expires_at = self.now() - 1

    def _client_ok(self, client_id: str, client_secret: str) -> bool:
        return secrets.compare_digest(
            client_id.encode(), self.client_id.encode()
        ) and secrets.compare_digest(client_secret.encode(), self.client_secret.encode())

    def _token_response(self, refresh: str, scopes: tuple[str, ...]) -> dict[str, object]:
        access = "sbx-" + secrets.token_urlsafe(32)
        self._tokens[access] = TokenInfo(
            access, self.hub_id, scopes, "access_token", self.now() + self.access_token_ttl
        )
        return {
            "token_type": "bearer",
            "access_token": access,
            "refresh_token": refresh,
            "expires_in": self.access_token_ttl,
            "hub_id": self.hub_id,
            "scopes": list(scopes),
        }
