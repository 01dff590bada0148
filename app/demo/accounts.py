"""The demo tenant with an operator and a customer admin, and the operator as an actor.

Passwords are new on every start and printed by ``hubsync demo``, so the
demo never ships a default credential.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.actor import Actor
from app.auth.passwords import generate_password, hash_password
from app.auth.repository import UserRepository
from app.auth.users import create_user
from app.core.errors import NotFound
from app.models.enums import Role
from app.sync.repositories import TenantsRepository
from app.sync.tenants import create_tenant

DEMO_TENANT = ("demo", "Muster Handels AG")
OPERATOR_EMAIL = "operator@hubsync-demo.example.com"
DEMO_USERS = (
    (OPERATOR_EMAIL, Role.operator),
    ("admin@muster-handels.example.com", Role.admin),
)


@dataclass(frozen=True, slots=True)
class DemoLogin:
    """A login to print: role, email and its fresh password."""

    role: str
    email: str
    password: str


async def seed_accounts(session: AsyncSession) -> list[DemoLogin]:
    """Create (or refresh) the demo tenant and users; returns their new logins."""
    actor = Actor.system("demo")
    slug, name = DEMO_TENANT
    tenant = await TenantsRepository.from_session(session).get_by_slug(slug)
    if tenant is None:
        tenant = await create_tenant(session, actor=actor, slug=slug, name=name)
    logins = []
    users = UserRepository.from_session(session)
    for email, role in DEMO_USERS:
        password = generate_password()
        existing = await users.get_by_email(email)
        if existing is None:
            await create_user(
                session,
                actor=actor,
                email=email,
                password=password,
                role=role,
                tenant_id=None if role == Role.operator else tenant.id,
            )
        else:
            existing.password_hash = await hash_password(password)
            existing.is_active = True
        logins.append(DemoLogin(role=role.value, email=email, password=password))
    return logins


async def demo_operator(session: AsyncSession) -> Actor:
    """The demo operator as the actor of the demo's set-up (approvals carry their name)."""
    user = await UserRepository.from_session(session).get_by_email(OPERATOR_EMAIL)
    if user is None:
        raise NotFound("the demo operator does not exist: run `hubsync demo`")
    return Actor(role=user.role, tenant_id=user.tenant_id, user_id=user.id, label=f"user:{user.id}")
