"""SQL for accounts: users, sessions, API tokens, login throttles."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, select

from app.core.repository import RepositoryBase
from app.models import ApiToken, LoginThrottle, User, UserSession


class UserRepository(RepositoryBase[User]):
    """Users, looked up by id or email."""

    model = User

    async def get_by_email(self, email: str) -> User | None:
        """The user with ``email`` (stored lower-case), or None."""
        return await self.get_one_or_none(select(User).where(User.email == email.lower()))

    async def get_by_id(self, user_id: uuid.UUID) -> User | None:
        """The user with ``user_id``, or None."""
        return await self.session.get(User, user_id)

    async def list_for_tenant(self, tenant_id: uuid.UUID | None) -> Sequence[User]:
        """Users of one tenant, or every user when ``tenant_id`` is None."""
        statement = select(User).order_by(User.email)
        if tenant_id is not None:
            statement = statement.where(User.tenant_id == tenant_id)
        return await self.get_all(statement)


class SessionRepository(RepositoryBase[UserSession]):
    """Browser sessions, found by the hash of the cookie's id."""

    model = UserSession

    async def get_by_hash(self, token_hash: str) -> UserSession | None:
        """The session whose cookie id hashes to ``token_hash``."""
        return await self.get_one_or_none(
            select(UserSession).where(UserSession.token_hash == token_hash)
        )

    async def delete_by_hash(self, token_hash: str) -> None:
        """End the session with ``token_hash``."""
        await self.session.execute(delete(UserSession).where(UserSession.token_hash == token_hash))

    async def delete_for_user(self, user_id: uuid.UUID) -> None:
        """End every session of ``user_id``."""
        await self.session.execute(delete(UserSession).where(UserSession.user_id == user_id))


class ApiTokenRepository(RepositoryBase[ApiToken]):
    """API tokens, found by hash or listed per owner."""

    model = ApiToken

    async def get_by_hash(self, token_hash: str) -> ApiToken | None:
        """The token whose value hashes to ``token_hash``."""
        return await self.get_one_or_none(select(ApiToken).where(ApiToken.token_hash == token_hash))

    async def get_for_user(self, user_id: uuid.UUID, token_id: uuid.UUID) -> ApiToken | None:
        """``token_id`` if it belongs to ``user_id``."""
        return await self.get_one_or_none(
            select(ApiToken).where(ApiToken.id == token_id, ApiToken.user_id == user_id)
        )

    async def list_for_user(self, user_id: uuid.UUID) -> Sequence[ApiToken]:
        """The tokens of ``user_id``, newest first."""
        return await self.get_all(
            select(ApiToken).where(ApiToken.user_id == user_id).order_by(ApiToken.created_at.desc())
        )


class ThrottleRepository(RepositoryBase[LoginThrottle]):
    """Failed-login counters, keyed by a keyed hash of account or address."""

    model = LoginThrottle

    async def get(self, key_hash: str) -> LoginThrottle | None:
        """The counter for ``key_hash``, if any failure is recorded."""
        return await self.get_one_or_none(
            select(LoginThrottle).where(LoginThrottle.key_hash == key_hash)
        )

    async def reset(self, key_hash: str) -> None:
        """Forget the failures recorded for ``key_hash``."""
        await self.session.execute(delete(LoginThrottle).where(LoginThrottle.key_hash == key_hash))

    async def purge_before(self, cutoff: datetime) -> None:
        """Drop counters whose last failure is older than ``cutoff``."""
        await self.session.execute(
            delete(LoginThrottle).where(LoginThrottle.last_failure_at < cutoff)
        )
