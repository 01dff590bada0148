"""Password hashing with argon2id and the password rules users must meet.

Hashing runs in worker threads behind a limiter, because each hash takes
64 MiB and parallel logins could otherwise exhaust memory. Unknown accounts are
verified against a dummy hash so timing does not reveal which emails exist.
"""

from __future__ import annotations

import secrets

import anyio
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from app.core.errors import InvalidInput

MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_BYTES = 1024
CONTEXT_WORDS = ("hubsync", "hubspot", "password", "passwort")

_hasher = PasswordHasher()
_limiter = anyio.CapacityLimiter(4)
_DUMMY_HASH = _hasher.hash("hubsync dummy password for timing")


def check_password_rules(password: str, *, context: tuple[str, ...] = ()) -> None:
    """Refuse passwords that are too short, too long or built on obvious context words."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(f"password must have at least {MIN_PASSWORD_LENGTH} characters")
    if len(password.encode()) > MAX_PASSWORD_BYTES:
        raise InvalidInput(f"password must not exceed {MAX_PASSWORD_BYTES} bytes")
    lowered = password.lower()
    for word in (*CONTEXT_WORDS, *(c.lower() for c in context if len(c) >= 4)):
        if word in lowered and len(lowered) - len(word) < MIN_PASSWORD_LENGTH:
            raise InvalidInput("password is too close to a name that belongs to this service")


def generate_password() -> str:
    """A random 16-character password (for demo and bootstrap logins)."""
    return secrets.token_urlsafe(12)


def set_hash_concurrency(limit: int) -> None:
    """Cap how many hashes run at once (each costs 64 MiB of memory)."""
    _limiter.total_tokens = limit


async def hash_password(password: str) -> str:
    """The argon2id PHC string for ``password``."""
    return await anyio.to_thread.run_sync(_hasher.hash, password, limiter=_limiter)


async def verify_password(password_hash: str | None, password: str) -> bool:
    """Whether ``password`` matches; ``None`` (no such user) costs the same time."""
    return await anyio.to_thread.run_sync(
        _verify, password_hash or _DUMMY_HASH, password, password_hash is None, limiter=_limiter
    )


def _verify(password_hash: str, password: str, always_fail: bool) -> bool:
    try:
        ok = _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
    return ok and not always_fail


def needs_rehash(password_hash: str) -> bool:
    """Whether a stored hash uses weaker parameters than today's and should be renewed."""
    return _hasher.check_needs_rehash(password_hash)
