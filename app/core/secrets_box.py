"""Encryption of secrets at rest (connection credentials, OAuth tokens).

Fernet (AES-128-CBC + HMAC-SHA256, encrypt-then-MAC) through ``MultiFernet``:
the newest key encrypts, every listed key decrypts, and ``rotate`` re-encrypts
under the newest key. Ciphertexts carry a version prefix (``v1:``) so the
algorithm can change later, and each plaintext is bound to the row it belongs
to, so a ciphertext copied onto another row (another tenant's) fails to open.
"""

from __future__ import annotations

import json
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from app.core.errors import HubsyncError
from app.core.keys import derive_fernet_key, derive_key

VERSION_PREFIX = "v1:"


class SecretDecryptionError(HubsyncError):
    """A stored secret could not be opened: wrong key, tampered, or bound to another row."""

    status_code = 500


class SecretBox:
    """Encrypts and decrypts JSON-serialisable secrets bound to an owner id."""

    def __init__(self, master_keys: list[str]) -> None:
        if not master_keys:
            raise ValueError("SecretBox needs at least one key")
        self._fernet = MultiFernet([Fernet(derive_fernet_key(k)) for k in master_keys])
        self._masters = tuple(master_keys)

    def purpose_keys(self, purpose: str) -> tuple[bytes, ...]:
        """Keys for another ``purpose`` from the same master keys, newest first (e.g. the
        keyed hashes of the privacy suppression list), so holders of the box need no
        settings."""
        return tuple(derive_key(master, purpose) for master in self._masters)

    def encrypt(self, owner_id: str, data: Any) -> str:
        """Encrypt ``data`` for the row ``owner_id``; the result is safe to store."""
        envelope = json.dumps({"v": 1, "id": owner_id, "data": data}, separators=(",", ":"))
        return VERSION_PREFIX + self._fernet.encrypt(envelope.encode()).decode()

    def decrypt(self, owner_id: str, token: str) -> Any:
        """Open a value stored for ``owner_id``; refuses one made for any other row."""
        if not token.startswith(VERSION_PREFIX):
            raise SecretDecryptionError("stored secret has an unknown format")
        try:
            envelope = json.loads(self._fernet.decrypt(token[len(VERSION_PREFIX) :].encode()))
        except InvalidToken:
            raise SecretDecryptionError("stored secret cannot be decrypted") from None
        if envelope.get("id") != owner_id:
            raise SecretDecryptionError("stored secret belongs to another record")
        return envelope["data"]

    def rotate(self, token: str) -> str:
        """Re-encrypt a stored value under the newest key (for key rotation)."""
        if not token.startswith(VERSION_PREFIX):
            raise SecretDecryptionError("stored secret has an unknown format")
        try:
            rotated = self._fernet.rotate(token[len(VERSION_PREFIX) :].encode())
        except InvalidToken:
            raise SecretDecryptionError("stored secret cannot be decrypted") from None
        return VERSION_PREFIX + rotated.decode()
