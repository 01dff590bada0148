"""User accounts: creation with validated passwords, lookup, deactivation."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from email_validator import EmailNotValidError, validate_email
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.actor import Actor, Permission
from app.auth.passwords import check_password_rules, hash_password
from app.auth.repository import ApiTokenRepository, SessionRepository, UserRepository
from app.core.audit import record_audit
from app.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from app.models import User
from app.models.base import utcnow
from app.models.enums import Role


def normalise_email(email: str) -> str:
    """The canonical, lower-case form of an email address; refuses invalid ones."""
    try:
        return validate_email(email, check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise InvalidInput(f"invalid email address: {exc}") from None


async def create_user(
    session: AsyncSession,
    *,
    actor: Actor,
    email: str,
    password: str,
    role: Role,
    tenant_id: uuid.UUID | None,
) -> User:
    """Create a user; operators have no tenant, admins and viewers need one."""
    actor.require(Permission.manage_users)
    if role == Role.operator and actor.role != Role.operator:
        raise Forbidden("only operators may create operators")
    if (role == Role.operator) != (tenant_id is None):
        raise InvalidInput("operators belong to no tenant; admins and viewers need one")
    if not actor.scope.allows(tenant_id):
        raise NotFound("tenant not found")
    email = normalise_email(email)
    check_password_rules(password, context=(email.split("@")[0],))
    users = UserRepository.from_session(session)
    if await users.get_by_email(email) is not None:
        raise Conflict("a user with this email exists already")
    user = await users.create(
        User(
            email=email, password_hash=await hash_password(password), role=role, tenant_id=tenant_id
        ),
        flush=True,
    )
    await record_audit(
        session,
        action="user.create",
        actor_label=actor.label,
        actor_id=actor.user_id,
        tenant_id=tenant_id,
        target_type="user",
        target_id=user.id,
        details={"role": role.value},
    )
    return user


async def get_user(session: AsyncSession, *, actor: Actor) -> User:
    """The actor's own account."""
    user = (
        await UserRepository.from_session(session).get_by_id(actor.user_id)
        if actor.user_id
        else None
    )
    if user is None:
        raise NotFound("user not found")
    return user


async def list_users(session: AsyncSession, *, actor: Actor) -> Sequence[User]:
    """The users the actor may see: all for operators, their tenant's for others."""
    return await UserRepository.from_session(session).list_for_tenant(actor.scope.tenant_id)


async def deactivate_user(session: AsyncSession, *, actor: Actor, user_id: uuid.UUID) -> User:
    """Disable a user and end their sessions and API tokens at once."""
    user = await UserRepository.from_session(session).get_by_id(user_id)
    if user is None or not actor.scope.allows(user.tenant_id):
        raise NotFound("user not found")
    actor.require(Permission.manage_users)
    if user.role == Role.operator and actor.role != Role.operator:
        raise Forbidden("only operators may deactivate operators")
    user.is_active = False
    await SessionRepository.from_session(session).delete_for_user(user.id)
    for token in await ApiTokenRepository.from_session(session).list_for_user(user.id):
        token.revoked_at = token.revoked_at or utcnow()
    await record_audit(
        session,
        action="user.deactivate",
        actor_label=actor.label,
        actor_id=actor.user_id,
        tenant_id=user.tenant_id,
        target_type="user",
        target_id=user.id,
    )
    return user
