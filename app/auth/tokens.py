"""API tokens: created for scripts, shown once, stored as SHA-256, revocable."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.actor import Actor
from app.auth.credentials import new_api_token, sha256_hex
from app.auth.repository import ApiTokenRepository, UserRepository
from app.core.audit import record_audit
from app.core.errors import InvalidInput, NotFound
from app.models import ApiToken, User
from app.models.base import utcnow

LAST_USED_PRECISION_SECONDS = 60


@dataclass(frozen=True, slots=True)
class IssuedToken:
    """A new token: the stored row and the value, which is never shown again."""

    token: ApiToken
    value: str


async def create_token(
    session: AsyncSession, *, actor: Actor, name: str, expires_at: datetime | None = None
) -> IssuedToken:
    """Issue a token acting as ``actor``'s user, in that user's tenant."""
    if actor.user_id is None:
        raise InvalidInput("API tokens belong to a user")
    if expires_at is not None and expires_at <= utcnow():
        raise InvalidInput("expiry must lie in the future")
    value = new_api_token()
    token = await ApiTokenRepository.from_session(session).create(
        ApiToken(
            user_id=actor.user_id,
            tenant_id=actor.tenant_id,
            name=name.strip(),
            prefix=value[:10],
            token_hash=sha256_hex(value),
            expires_at=expires_at,
        ),
        flush=True,
    )
    await record_audit(
        session,
        action="token.create",
        actor_label=actor.label,
        actor_id=actor.user_id,
        tenant_id=actor.tenant_id,
        target_type="api_token",
        target_id=token.id,
    )
    return IssuedToken(token=token, value=value)


async def list_tokens(session: AsyncSession, *, actor: Actor) -> Sequence[ApiToken]:
    """The actor's own tokens (values are never listed)."""
    if actor.user_id is None:
        return []
    return await ApiTokenRepository.from_session(session).list_for_user(actor.user_id)


async def revoke_token(session: AsyncSession, *, actor: Actor, token_id: uuid.UUID) -> ApiToken:
    """Revoke one of the actor's tokens; later requests with it get 401."""
    token = None
    if actor.user_id is not None:
        token = await ApiTokenRepository.from_session(session).get_for_user(actor.user_id, token_id)
    if token is None:
        raise NotFound("token not found")
    token.revoked_at = token.revoked_at or utcnow()
    await record_audit(
        session,
        action="token.revoke",
        actor_label=actor.label,
        actor_id=actor.user_id,
        tenant_id=actor.tenant_id,
        target_type="api_token",
        target_id=token.id,
    )
    return token


async def resolve_token(session: AsyncSession, *, value: str, now: datetime) -> User | None:
    """The active user a bearer token acts for, or None if unknown, expired or revoked."""
    token = await ApiTokenRepository.from_session(session).get_by_hash(sha256_hex(value))
    if token is None or token.revoked_at is not None:
        return None
    if token.expires_at is not None and token.expires_at <= now:
        return None
    user = await UserRepository.from_session(session).get_by_id(token.user_id)
    if user is None or not user.is_active:
        return None
    if (
        token.last_used_at is None
        or (now - token.last_used_at).total_seconds() > LAST_USED_PRECISION_SECONDS
    ):
        token.last_used_at = now
    return user
