"""Random credentials and their stored forms: session ids, API tokens, CSRF tokens.

Only hashes are stored. A session cookie carries a random id plus an HMAC so a
forged cookie is refused before any database lookup; a CSRF token is an HMAC
of the session id, so it is bound to that session and needs no storage.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from app.core.keys import derive_key, keyed_digest

API_TOKEN_PREFIX = "hsy_"  # noqa: S105 - a public marker, not a secret
_TOKEN_BYTES = 32


def sha256_hex(value: str) -> str:
    """The SHA-256 of ``value`` as hex: how high-entropy secrets are stored."""
    return hashlib.sha256(value.encode()).hexdigest()


def new_api_token() -> str:
    """A fresh API token: a recognisable prefix and 256 random bits."""
    return API_TOKEN_PREFIX + secrets.token_urlsafe(_TOKEN_BYTES)


@dataclass(frozen=True, slots=True)
class CredentialKeys:
    """The keys that sign cookies, bind CSRF tokens and hash throttle keys."""

    cookie: bytes
    csrf: bytes
    throttle: bytes

    @classmethod
    def from_master(cls, master: str) -> CredentialKeys:
        """Derive every credential key from the newest master secret."""
        return cls(
            cookie=derive_key(master, "hubsync/auth/cookie"),
            csrf=derive_key(master, "hubsync/auth/csrf"),
            throttle=derive_key(master, "hubsync/auth/throttle"),
        )

    def new_session_cookie(self) -> tuple[str, str]:
        """A new session cookie value and the hash to store for it."""
        session_id = secrets.token_urlsafe(_TOKEN_BYTES)
        return f"{session_id}.{self._sign(session_id)}", sha256_hex(session_id)

    def session_hash(self, cookie_value: str) -> str | None:
        """The stored hash for a cookie value, or None if its signature is wrong."""
        session_id, _, signature = cookie_value.partition(".")
        if not session_id or not hmac.compare_digest(signature, self._sign(session_id)):
            return None
        return sha256_hex(session_id)

    def csrf_token(self, binding: str) -> str:
        """The CSRF token bound to a session (or an anonymous pre-login cookie)."""
        return keyed_digest(self.csrf, binding)

    def csrf_valid(self, binding: str, token: str | None) -> bool:
        """Whether ``token`` is the CSRF token bound to ``binding``."""
        return bool(token) and hmac.compare_digest(self.csrf_token(binding), token or "")

    def throttle_key(self, kind: str, value: str) -> str:
        """A keyed hash naming one throttled account or address without storing it."""
        return keyed_digest(self.throttle, f"{kind}:{value.lower()}")

    def _sign(self, value: str) -> str:
        return keyed_digest(self.cookie, value)[:32]
