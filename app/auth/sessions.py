"""Sign-in, browser sessions and sign-out.

A session is a server-side row; the cookie carries only its signed random id,
so logout, deactivation and expiry take effect at once. Every sign-in creates
a new id (no fixation). Operators time out sooner when idle than tenant users.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.credentials import CredentialKeys
from app.auth.passwords import hash_password, needs_rehash, verify_password
from app.auth.repository import SessionRepository, UserRepository
from app.auth.throttle import ThrottlePolicy, check_throttle, clear_failures, record_failure
from app.core.audit import record_audit
from app.models import User, UserSession
from app.models.enums import Role

OPERATOR_IDLE = timedelta(minutes=30)
TOUCH_EVERY = timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class SessionPolicy:
    """How long sessions live and how sign-in failures are throttled."""

    idle: timedelta
    absolute: timedelta
    throttle: ThrottlePolicy

    def idle_for(self, role: Role) -> timedelta:
        """The idle timeout for a role: operators at most 30 minutes."""
        return min(self.idle, OPERATOR_IDLE) if role == Role.operator else self.idle


@dataclass(frozen=True, slots=True)
class SignedIn:
    """A successful sign-in: the user and the cookie value to set."""

    user: User
    cookie_value: str


async def sign_in(
    session: AsyncSession,
    *,
    keys: CredentialKeys,
    policy: SessionPolicy,
    email: str,
    password: str,
    client_address: str,
    now: datetime,
    previous_cookie: str | None = None,
) -> SignedIn | None:
    """Check credentials (throttled) and open a new session; None for any wrong input.

    Failures are recorded in ``session``, so the caller commits in both cases.
    """
    email = email.strip().lower()
    account_key = keys.throttle_key("account", email)
    throttle_keys = [account_key, keys.throttle_key("address", client_address)]
    await check_throttle(session, throttle_keys, policy.throttle, now)
    user = await UserRepository.from_session(session).get_by_email(email)
    password_hash = user.password_hash if user is not None and user.is_active else None
    verified = await verify_password(password_hash, password)
    if user is None or not verified:
        await record_failure(session, throttle_keys, policy.throttle, now)
        await record_audit(
            session,
            action="login.failed",
            actor_label="anonymous",
            tenant_id=user.tenant_id if user else None,
            target_type="user" if user else None,
            target_id=user.id if user else None,
        )
        return None
    if needs_rehash(user.password_hash):
        user.password_hash = await hash_password(password)
    await clear_failures(session, account_key)
    await _end_previous(session, keys, previous_cookie)
    cookie_value, token_hash = keys.new_session_cookie()
    await SessionRepository.from_session(session).create(
        UserSession(
            user_id=user.id,
            token_hash=token_hash,
            created_at=now,
            last_seen_at=now,
            expires_at=now + policy.absolute,
        ),
        flush=True,
    )
    user.last_login_at = now
    await record_audit(
        session,
        action="login.succeeded",
        actor_label=f"user:{user.id}",
        actor_id=user.id,
        tenant_id=user.tenant_id,
        target_type="user",
        target_id=user.id,
    )
    return SignedIn(user=user, cookie_value=cookie_value)


async def _end_previous(session: AsyncSession, keys: CredentialKeys, cookie: str | None) -> None:
    token_hash = keys.session_hash(cookie) if cookie else None
    if token_hash:
        await SessionRepository.from_session(session).delete_by_hash(token_hash)


async def resolve_session(
    session: AsyncSession,
    *,
    keys: CredentialKeys,
    policy: SessionPolicy,
    cookie_value: str,
    now: datetime,
) -> User | None:
    """The signed-in user for a session cookie, or None if it is forged, ended or expired."""
    token_hash = keys.session_hash(cookie_value)
    if token_hash is None:
        return None
    sessions = SessionRepository.from_session(session)
    row = await sessions.get_by_hash(token_hash)
    if row is None:
        return None
    user = await UserRepository.from_session(session).get_by_id(row.user_id)
    if user is None or not user.is_active:
        return None
    if now >= row.expires_at or now - row.last_seen_at > policy.idle_for(user.role):
        await sessions.delete_by_hash(token_hash)
        return None
    if now - row.last_seen_at > TOUCH_EVERY:
        row.last_seen_at = now
    return user


async def sign_out(session: AsyncSession, *, keys: CredentialKeys, cookie_value: str) -> None:
    """End the session behind ``cookie_value`` (a no-op for an unknown one)."""
    token_hash = keys.session_hash(cookie_value)
    if token_hash is None:
        return
    sessions = SessionRepository.from_session(session)
    row = await sessions.get_by_hash(token_hash)
    if row is None:
        return
    await sessions.delete_by_hash(token_hash)
    await record_audit(
        session,
        action="logout",
        actor_label=f"user:{row.user_id}",
        actor_id=row.user_id,
        target_type="user",
        target_id=row.user_id,
    )
