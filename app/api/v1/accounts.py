"""API routes for the caller, tenants, users and API tokens."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, status

from app.api.deps import ApiActor, SessionDep
from app.api.v1.schemas import (
    IssuedTokenOut,
    TenantIn,
    TenantOut,
    TokenIn,
    TokenOut,
    UserIn,
    UserOut,
)
from app.auth import tokens, users
from app.core.errors import Forbidden, NotFound, Unauthenticated
from app.models.enums import Role
from app.sync import tenants

router = APIRouter(responses={**Unauthenticated.schema()})


@router.get("/me", response_model=UserOut, tags=["accounts"])
async def me(actor: ApiActor, session: SessionDep) -> UserOut:
    """The user the token acts for."""
    user = await users.get_user(session, actor=actor)
    return UserOut.model_validate(user)


@router.get("/tenants", response_model=list[TenantOut], tags=["tenants"])
async def list_tenants(actor: ApiActor, session: SessionDep) -> list[TenantOut]:
    """Tenants the caller may see."""
    return [TenantOut.model_validate(t) for t in await tenants.list_tenants(session, actor=actor)]


@router.post(
    "/tenants",
    response_model=TenantOut,
    status_code=status.HTTP_201_CREATED,
    tags=["tenants"],
    responses={**Forbidden.schema()},
)
async def create_tenant(body: TenantIn, actor: ApiActor, session: SessionDep) -> TenantOut:
    """Create a tenant (operators)."""
    tenant = await tenants.create_tenant(session, actor=actor, slug=body.slug, name=body.name)
    return TenantOut.model_validate(tenant)


@router.get(
    "/tenants/{tenant_id}",
    response_model=TenantOut,
    tags=["tenants"],
    responses={**NotFound.schema()},
)
async def get_tenant(tenant_id: uuid.UUID, actor: ApiActor, session: SessionDep) -> TenantOut:
    """One tenant."""
    return TenantOut.model_validate(
        await tenants.get_tenant(session, actor=actor, tenant_id=tenant_id)
    )


@router.get("/users", response_model=list[UserOut], tags=["accounts"])
async def list_users(actor: ApiActor, session: SessionDep) -> list[UserOut]:
    """Users the caller may see."""
    return [UserOut.model_validate(u) for u in await users.list_users(session, actor=actor)]


@router.post(
    "/users",
    response_model=UserOut,
    status_code=status.HTTP_201_CREATED,
    tags=["accounts"],
    responses={**Forbidden.schema()},
)
async def create_user(body: UserIn, actor: ApiActor, session: SessionDep) -> UserOut:
    """Create a user; tenant users are created in the caller's tenant unless an operator asks."""
    tenant_id = body.tenant_id if actor.role == Role.operator else actor.tenant_id
    user = await users.create_user(
        session,
        actor=actor,
        email=body.email,
        password=body.password,
        role=body.role,
        tenant_id=tenant_id,
    )
    return UserOut.model_validate(user)


@router.post(
    "/users/{user_id}/deactivate",
    response_model=UserOut,
    tags=["accounts"],
    responses={**NotFound.schema()},
)
async def deactivate_user(user_id: uuid.UUID, actor: ApiActor, session: SessionDep) -> UserOut:
    """Disable a user; their sessions and tokens stop working at once."""
    return UserOut.model_validate(
        await users.deactivate_user(session, actor=actor, user_id=user_id)
    )


@router.get("/tokens", response_model=list[TokenOut], tags=["accounts"])
async def list_tokens(actor: ApiActor, session: SessionDep) -> list[TokenOut]:
    """The caller's API tokens, without their values."""
    return [TokenOut.model_validate(t) for t in await tokens.list_tokens(session, actor=actor)]


@router.post(
    "/tokens",
    response_model=IssuedTokenOut,
    status_code=status.HTTP_201_CREATED,
    tags=["accounts"],
)
async def create_token(body: TokenIn, actor: ApiActor, session: SessionDep) -> IssuedTokenOut:
    """Issue a token for the caller; its value is in this response only."""
    issued = await tokens.create_token(
        session, actor=actor, name=body.name, expires_at=body.expires_at
    )
    out = TokenOut.model_validate(issued.token)
    return IssuedTokenOut(**out.model_dump(), token=issued.value)


@router.delete(
    "/tokens/{token_id}",
    response_model=TokenOut,
    tags=["accounts"],
    responses={**NotFound.schema()},
)
async def revoke_token(token_id: uuid.UUID, actor: ApiActor, session: SessionDep) -> TokenOut:
    """Revoke one of the caller's tokens."""
    return TokenOut.model_validate(
        await tokens.revoke_token(session, actor=actor, token_id=token_id)
    )
