"""What an OAuth connection stores, and where: tokens encrypted, portal facts in plain config.

Encrypted (``Connection.secrets_encrypted``, through ``SecretBox``, bound to the row):
``access_token``, ``refresh_token``, ``expires_at`` (epoch seconds), ``oauth_app`` (the
app the tokens belong to, see ``config.OAuthConfig``) and, between "Connect" and
HubSpot's callback, ``oauth_pending``. Plain ``config``: ``portal_id`` and ``scopes``
(other code finds the portal by them), ``base_url``, ``auth: oauth``,
``connected_at``, and ``revoked_at`` once HubSpot refused a refresh.

A pending authorization keeps only the SHA-256 of the ``state`` sent to HubSpot,
who started it (user, tenant, and the hash of their sign-in session, if any),
when it expires, and the PKCE verifier. It is removed when the callback uses it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import asdict, dataclass, field
from typing import Any

from authlib.oauth2.rfc7636 import create_s256_code_challenge

from app.connectors.hubspot.auth import Pkce, TokenSet
from app.core.secrets_box import SecretBox
from app.models import Connection
from app.models.base import utcnow
from app.sync.connections import open_connection_secrets

ACCESS_TOKEN = "access_token"  # noqa: S105 - key names, not secrets
REFRESH_TOKEN = "refresh_token"  # noqa: S105
EXPIRES_AT = "expires_at"
APP = "oauth_app"
PENDING = "oauth_pending"
TOKEN_KEYS = (ACCESS_TOKEN, REFRESH_TOKEN, EXPIRES_AT, APP)
PORTAL_KEYS = ("portal_id", "scopes", "auth", "connected_at", "revoked_at")
PENDING_TTL_S = 600.0


def open_secrets(connection: Connection, box: SecretBox) -> dict[str, Any]:
    """The connection's decrypted secrets, as a dict the caller may change and ``seal``."""
    return dict(open_connection_secrets(connection, box))


def seal(connection: Connection, box: SecretBox, values: dict[str, Any]) -> None:
    """Store ``values`` encrypted and bound to the row (none left: nothing is stored)."""
    connection.secrets_encrypted = box.encrypt(str(connection.id), values) if values else None
    connection.secrets_set_at = utcnow()


def token_values(tokens: TokenSet) -> dict[str, Any]:
    """The secret fields of a token set."""
    return {
        ACCESS_TOKEN: tokens.access_token,
        REFRESH_TOKEN: tokens.refresh_token,
        EXPIRES_AT: tokens.expires_at,
    }


def stored_tokens(values: dict[str, Any], portal_id: int | None) -> TokenSet:
    """The token set kept in a connection's decrypted secrets."""
    return TokenSet(
        access_token=str(values[ACCESS_TOKEN]),
        refresh_token=values.get(REFRESH_TOKEN),
        expires_at=float(values.get(EXPIRES_AT, 0.0)),
        hub_id=portal_id,
    )


def sha256(value: str) -> str:
    """The hex SHA-256 of a high-entropy value (a state, a session cookie)."""
    return hashlib.sha256(value.encode()).hexdigest()


def new_state(connection_id: uuid.UUID) -> str:
    """A fresh ``state``: the connection it is for, then 256 random bits."""
    return f"{connection_id}.{secrets.token_urlsafe(32)}"


def state_connection(state: str) -> uuid.UUID | None:
    """The connection a ``state`` names, or None if it is not one of ours."""
    head, dot, tail = state.partition(".")
    if not dot or not tail:
        return None
    try:
        return uuid.UUID(head)
    except ValueError:
        return None


@dataclass(frozen=True, slots=True)
class PendingAuthorization:
    """A started "Connect HubSpot", waiting for HubSpot's callback."""

    state_sha256: str
    user_id: str
    tenant_id: str
    session_sha256: str | None  # None: started through the API, bound to the user only
    expires_at: float  # epoch seconds
    verifier: str = field(repr=False)  # PKCE

    @classmethod
    def start(
        cls,
        *,
        state: str,
        pkce: Pkce,
        user_id: uuid.UUID,
        tenant_id: uuid.UUID,
        session_key: str | None,
        now: float,
    ) -> PendingAuthorization:
        """The record of a new authorization for ``state``."""
        return cls(
            state_sha256=sha256(state),
            user_id=str(user_id),
            tenant_id=str(tenant_id),
            session_sha256=sha256(session_key) if session_key else None,
            expires_at=now + PENDING_TTL_S,
            verifier=pkce.verifier,
        )

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PendingAuthorization:
        """The record as stored in the connection's secrets."""
        return cls(**data)

    def to_json(self) -> dict[str, Any]:
        """The record to store (encrypted) in the connection's secrets."""
        return asdict(self)

    def is_for(self, state: str) -> bool:
        """Whether this record was made for ``state`` (constant-time)."""
        return hmac.compare_digest(self.state_sha256, sha256(state))

    def started_by(self, user_id: uuid.UUID | None, session_key: str | None) -> bool:
        """Whether the callback comes from the user (and session) that started it."""
        if user_id is None or self.user_id != str(user_id):
            return False
        if self.session_sha256 is None:
            return True
        return session_key is not None and hmac.compare_digest(
            self.session_sha256, sha256(session_key)
        )

    def pkce(self) -> Pkce:
        """The PKCE pair sent with the authorize URL; its verifier goes with the code exchange."""
        return Pkce(verifier=self.verifier, challenge=create_s256_code_challenge(self.verifier))
