"""Purpose-bound keys derived from the master secret keys.

One master secret (``HUBSYNC_SECRET_KEY``) feeds every use through HKDF with a
distinct label, so a key leaked from one purpose cannot be replayed in another
and rotating the master rotates them all.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


def derive_key(master: str, purpose: str, length: int = 32) -> bytes:
    """Derive a key for one ``purpose`` (e.g. ``"session"``) from a master secret."""
    hkdf = HKDF(algorithm=hashes.SHA256(), length=length, salt=None, info=purpose.encode())
    return hkdf.derive(master.encode())


def derive_fernet_key(master: str) -> bytes:
    """The url-safe base64 Fernet key for connection secrets derived from ``master``."""
    return base64.urlsafe_b64encode(derive_key(master, "hubsync/secrets/fernet"))


def keyed_digest(key: bytes, value: str) -> str:
    """A hex HMAC-SHA256 of ``value``: for lookups of secrets that must not be stored."""
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()
