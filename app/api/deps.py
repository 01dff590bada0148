"""Request dependencies as ``Annotated`` aliases: handlers declare only these.

Two ways in: API requests carry a bearer token and never a cookie; UI requests
carry the session cookie and, when they change state, a CSRF token.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.actor import Actor
from app.auth.sessions import resolve_session
from app.auth.tokens import resolve_token
from app.core.db import session_scope
from app.core.errors import Unauthenticated
from app.core.secrets_box import SecretBox
from app.core.settings import Settings
from app.core.tenancy import bind_scope
from app.models import User
from app.models.base import utcnow
from app.web import WebState, cookie_name


def get_state(request: Request) -> WebState:
    """The process-wide web state built by ``create_app``."""
    state: WebState = request.app.state.web
    return state


StateDep = Annotated[WebState, Depends(get_state)]


def get_settings(state: StateDep) -> Settings:
    """The settings of this process."""
    return state.settings


def get_secret_box(state: StateDep) -> SecretBox:
    """The encryption helper for connection secrets."""
    return state.secret_box


async def get_session(state: StateDep) -> AsyncIterator[AsyncSession]:
    """One transaction per request, committed before the response is sent."""
    async with session_scope(state.session_factory) as session:
        yield session


SettingsDep = Annotated[Settings, Depends(get_settings)]
SecretBoxDep = Annotated[SecretBox, Depends(get_secret_box)]
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]


def actor_for(user: User) -> Actor:
    """The actor a signed-in user or token owner acts as."""
    return Actor(role=user.role, tenant_id=user.tenant_id, user_id=user.id, label=f"user:{user.id}")


def _bound(session: AsyncSession, user: User) -> Actor:
    actor = actor_for(user)
    bind_scope(session, actor.scope)
    return actor


async def get_api_actor(request: Request, session: SessionDep) -> Actor:
    """The token owner of an API request; cookies are not accepted here."""
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise Unauthenticated("a bearer token is required")
    user = await resolve_token(session, value=value.strip(), now=utcnow())
    if user is None:
        raise Unauthenticated("the token is unknown, expired or revoked")
    return _bound(session, user)


async def get_optional_ui_user(
    request: Request, session: SessionDep, state: StateDep
) -> User | None:
    """The user signed in through the session cookie, if any."""
    cookie = request.cookies.get(cookie_name(state.settings))
    if not cookie:
        return None
    return await resolve_session(
        session, keys=state.keys, policy=state.session_policy, cookie_value=cookie, now=utcnow()
    )


OptionalUiUser = Annotated[User | None, Depends(get_optional_ui_user)]


def get_ui_user(user: OptionalUiUser) -> User:
    """The signed-in user of a UI request (``Unauthenticated`` sends them to the login)."""
    if user is None:
        raise Unauthenticated("please sign in")
    return user


UiUser = Annotated[User, Depends(get_ui_user)]


async def get_ui_actor(user: UiUser, session: SessionDep) -> Actor:
    """The actor behind a UI request, with the session limited to their tenants."""
    return _bound(session, user)


ApiActor = Annotated[Actor, Depends(get_api_actor)]
UiActor = Annotated[Actor, Depends(get_ui_actor)]
