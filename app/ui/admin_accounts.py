"""Mandanten und Benutzer: operators create tenants; admins manage their tenant's users.

Viewers see the lists read-only. A new user gets the password typed in, or a
generated one that is shown once, in the response to the POST (never stored
in the clear, never shown again).
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import Query, Request
from pydantic import Field, field_validator
from starlette.responses import Response

from app.api.deps import SessionDep
from app.auth import users
from app.auth.actor import Permission
from app.auth.passwords import generate_password
from app.core.errors import Conflict, InvalidInput
from app.models.enums import Role
from app.sync import tenants
from app.sync.tenants import SLUG_PATTERN
from app.ui.admin_forms import FormModel, FormProblem, ParsedForm, read_form, see_other
from app.ui.i18n import mark
from app.ui.page import Page, PageDep
from app.ui.router import router
from app.ui.templating import render

TENANT_EXISTS = mark("A tenant with this slug exists already.")
TENANT_INVALID = mark("The tenant could not be created.")
USER_EXISTS = mark("A user with this email exists already.")
USER_INVALID = mark("The user could not be created.")


class TenantForm(FormModel):
    """A new tenant: display name and URL-safe slug."""

    name: str = Field(min_length=1, max_length=200)
    slug: str = Field(min_length=2, max_length=63, pattern=SLUG_PATTERN.pattern)


class UserForm(FormModel):
    """A new user: email, role, tenant (operators choose), optional initial password."""

    email: str = Field(min_length=3, max_length=254)
    role: Role
    tenant_id: uuid.UUID | None = None
    password: str = Field(default="", max_length=1024)

    @field_validator("tenant_id", mode="before")
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        return value or None


@router.get("/tenants")
async def tenant_list(request: Request, page: PageDep, session: SessionDep) -> Response:
    """Mandanten: every tenant for operators (with the create form), one's own for others."""
    return await _tenants_page(request, page, session, ParsedForm(None, {}))


@router.post("/tenants")
async def tenant_create(request: Request, page: PageDep, session: SessionDep) -> Response:
    """Create a tenant (operators); a bad form comes back with its errors (422)."""
    page.actor.require(Permission.manage_tenants)
    form = await read_form(request, TenantForm)
    if form.model is None:
        return await _tenants_page(request, page, session, form, problem=FormProblem.invalid())
    try:
        await tenants.create_tenant(
            session, actor=page.actor, slug=form.model.slug, name=form.model.name
        )
    except (InvalidInput, Conflict) as exc:
        problem = FormProblem.of(exc, conflict=TENANT_EXISTS, invalid=TENANT_INVALID)
        return await _tenants_page(request, page, session, form, problem=problem)
    return see_other(request, "/ui/tenants")


async def _tenants_page(
    request: Request,
    page: Page,
    session: SessionDep,
    form: ParsedForm[TenantForm],
    *,
    problem: FormProblem | None = None,
) -> Response:
    problem = problem or FormProblem.none()
    context = page.context(
        "admin-tenants",
        tenants=await tenants.list_tenants(session, actor=page.actor),
        can_create=page.actor.can(Permission.manage_tenants),
        form=form,
        **problem.context(),
    )
    return render(
        request, "admin_tenants.html", context, block="tenants_panel", status_code=problem.status
    )


@router.get("/users")
async def user_list(
    request: Request,
    page: PageDep,
    session: SessionDep,
    tenant: Annotated[str | None, Query(max_length=36)] = None,
) -> Response:
    """Benutzer: operators see everyone (filter by tenant), others their tenant's users."""
    return await _users_page(request, page, session, ParsedForm(None, {}), tenant_filter=tenant)


@router.post("/users")
async def user_create(request: Request, page: PageDep, session: SessionDep) -> Response:
    """Create a user with a role; a generated initial password is shown in this response only."""
    page.actor.require(Permission.manage_users)
    form = await read_form(request, UserForm)
    if form.model is None:
        return await _users_page(request, page, session, form, problem=FormProblem.invalid())
    wanted = form.model
    password = wanted.password or generate_password()
    tenant_id = wanted.tenant_id if page.actor.role == Role.operator else page.actor.tenant_id
    if wanted.role == Role.operator:
        tenant_id = None
    try:
        user = await users.create_user(
            session,
            actor=page.actor,
            email=wanted.email,
            password=password,
            role=wanted.role,
            tenant_id=tenant_id,
        )
    except (InvalidInput, Conflict) as exc:
        problem = FormProblem.of(exc, conflict=USER_EXISTS, invalid=USER_INVALID)
        return await _users_page(request, page, session, form, problem=problem)
    created = {"email": user.email, "password": None if wanted.password else password}
    return await _users_page(request, page, session, ParsedForm(None, {}), created=created)


@router.post("/users/{user_id}/deactivate")
async def user_deactivate(
    request: Request, user_id: uuid.UUID, page: PageDep, session: SessionDep
) -> Response:
    """Deactivate a user: their sessions and API tokens end at once."""
    await users.deactivate_user(session, actor=page.actor, user_id=user_id)
    return see_other(request, "/ui/users")


async def _users_page(
    request: Request,
    page: Page,
    session: SessionDep,
    form: ParsedForm[UserForm],
    *,
    tenant_filter: str | None = None,
    problem: FormProblem | None = None,
    created: dict[str, Any] | None = None,
) -> Response:
    problem = problem or FormProblem.none()
    visible_tenants = await tenants.list_tenants(session, actor=page.actor)
    rows = await users.list_users(session, actor=page.actor)
    if tenant_filter:
        rows = [u for u in rows if str(u.tenant_id) == tenant_filter]
    roles = [r for r in Role if r != Role.operator or page.actor.role == Role.operator]
    context = page.context(
        "admin-users",
        users=rows,
        tenant_names={t.id: t.name for t in visible_tenants},
        tenants=visible_tenants,
        tenant_filter=tenant_filter or "",
        roles=roles,
        can_manage=page.actor.can(Permission.manage_users),
        form=form,
        created=created,
        **problem.context(),
    )
    return render(
        request, "admin_users.html", context, block="users_panel", status_code=problem.status
    )
