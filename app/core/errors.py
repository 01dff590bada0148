"""The application error base.

    HubsyncError                 message + HTTP status, rendered by one handler
    ├── NotFound                 404: also for another tenant's object
    ├── Forbidden                403: the actor's role may not do this
    ├── Unauthenticated          401: no, expired or revoked credentials
    ├── InvalidInput             422: input that passed parsing but breaks a rule
    ├── Conflict                 409: the object exists already
    ├── TooManyRequests          429: throttled, with a retry delay
    └── SecretDecryptionError    500: (app.core.secrets_box) a stored secret cannot be opened

Services raise these, never FastAPI's ``HTTPException``.
"""

from __future__ import annotations

from typing import Any, ClassVar


class HubsyncError(Exception):
    """Base of every expected failure; carries a user-safe message and a status."""

    status_code: ClassVar[int] = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    @classmethod
    def schema(cls) -> dict[int | str, dict[str, Any]]:
        """The OpenAPI ``responses=`` entry for this error."""
        return {cls.status_code: {"description": cls.__doc__ or cls.__name__}}


class NotFound(HubsyncError):
    """The object does not exist or belongs to another tenant."""

    status_code = 404


class Forbidden(HubsyncError):
    """The caller's role may not perform this action."""

    status_code = 403


class Unauthenticated(HubsyncError):
    """Credentials are missing, expired or revoked."""

    status_code = 401


class InvalidInput(HubsyncError):
    """The input breaks a business rule."""

    status_code = 422


class Conflict(HubsyncError):
    """The object already exists."""

    status_code = 409


class TooManyRequests(HubsyncError):
    """Too many attempts; retry after ``retry_after`` seconds."""

    status_code = 429

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after
