"""Verbindungen: each connection's settings and whether its credentials are set.

Credentials are write-only: the page says only whether each one is stored and
since when; a blank field keeps the stored value. Operators change settings;
operators and admins may run "Verbindung prüfen"; viewers only read.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from fastapi import Request
from pydantic import Field
from starlette.responses import Response

from app.api.deps import SecretBoxDep, SessionDep
from app.auth.actor import Permission
from app.connectors.base import CheckResult
from app.core.errors import InvalidInput
from app.core.secrets_box import SecretBox
from app.models import Connection
from app.sync import connections, tenants
from app.ui.admin_forms import (
    FormModel,
    FormProblem,
    ParsedForm,
    read_form,
    secret_inputs,
    see_other,
)
from app.ui.i18n import mark
from app.ui.page import Page, PageDep
from app.ui.router import router
from app.ui.templating import is_partial, render

CONFIG_MAX_CHARS = 100_000
SETTINGS_INVALID = mark("The settings were not saved.")


class SettingsForm(FormModel):
    """The settings as a JSON object (credentials come in their own fields)."""

    config: str = Field(min_length=2, max_length=CONFIG_MAX_CHARS)


def settings_text(config: dict[str, Any]) -> str:
    """Settings as indented JSON for reading and editing (never credentials)."""
    return json.dumps(config, indent=2, ensure_ascii=False, sort_keys=True)


def _view(connection: Connection, box: SecretBox) -> dict[str, Any]:
    return {
        "row": connection,
        "settings": settings_text(connection.config),
        "secrets": connections.secret_status(connection, box),
    }


@router.get("/connections")
async def connection_list(
    request: Request, page: PageDep, session: SessionDep, box: SecretBoxDep
) -> Response:
    """Verbindungen: kind, connector, settings and which credentials are set."""
    rows = await connections.list_connections(session, actor=page.actor)
    names = {t.id: t.name for t in await tenants.list_tenants(session, actor=page.actor)}
    context = page.context(
        "admin-connections", connections=[_view(c, box) for c in rows], tenant_names=names
    )
    return render(request, "admin_connections.html", context)


@router.get("/connections/{connection_id}")
async def connection_detail(
    request: Request,
    connection_id: uuid.UUID,
    page: PageDep,
    session: SessionDep,
    box: SecretBoxDep,
    saved: bool = False,
) -> Response:
    """One connection: settings, credential status, edit form (operators), check."""
    connection = await connections.get_connection(
        session, actor=page.actor, connection_id=connection_id
    )
    return await _detail_page(request, page, session, box, connection, saved=saved)


@router.post("/connections/{connection_id}")
async def connection_update(
    request: Request,
    connection_id: uuid.UUID,
    page: PageDep,
    session: SessionDep,
    box: SecretBoxDep,
) -> Response:
    """Save settings and any credentials typed in (operators); blank credentials are kept."""
    connection = await connections.get_connection(
        session, actor=page.actor, connection_id=connection_id
    )
    page.actor.require(Permission.manage_connections)
    form = await read_form(request, SettingsForm)
    try:
        config = _parse_settings(form)
        secrets = connections.secret_values(connection, await secret_inputs(request))
        await connections.update_connection(
            session,
            actor=page.actor,
            box=box,
            connection_id=connection.id,
            config=config,
            secrets=secrets,
        )
    except InvalidInput as exc:
        problem = FormProblem.of(exc, invalid=SETTINGS_INVALID)
        return await _detail_page(
            request, page, session, box, connection, form=form, problem=problem
        )
    return see_other(request, f"/ui/connections/{connection.id}?saved=true")


def _parse_settings(form: ParsedForm[SettingsForm]) -> dict[str, Any]:
    if form.model is None:
        raise InvalidInput("the settings must be a JSON object")
    try:
        config = json.loads(form.model.config)
    except ValueError:
        raise InvalidInput("the settings must be a JSON object") from None
    if not isinstance(config, dict):
        raise InvalidInput("the settings must be a JSON object")
    return config


@router.post("/connections/{connection_id}/check")
async def connection_check(
    request: Request,
    connection_id: uuid.UUID,
    page: PageDep,
    session: SessionDep,
    box: SecretBoxDep,
) -> Response:
    """Verbindung prüfen: reach the system with the stored settings and say how it went."""
    result = await connections.check_connection(
        session, actor=page.actor, box=box, connection_id=connection_id
    )
    connection = await connections.get_connection(
        session, actor=page.actor, connection_id=connection_id
    )
    return await _detail_page(request, page, session, box, connection, check=result)


async def _detail_page(
    request: Request,
    page: Page,
    session: SessionDep,
    box: SecretBox,
    connection: Connection,
    *,
    form: ParsedForm[SettingsForm] | None = None,
    problem: FormProblem | None = None,
    check: CheckResult | None = None,
    saved: bool = False,
) -> Response:
    problem = problem or FormProblem.none()
    tenant = await tenants.get_tenant(session, actor=page.actor, tenant_id=connection.tenant_id)
    view = _view(connection, box)
    context = page.context(
        "admin-connections",
        connection=view,
        tenant_name=tenant.name,
        config_text=form.values.get("config", view["settings"]) if form else view["settings"],
        can_edit=page.actor.can(Permission.manage_connections),
        can_check=page.actor.can(Permission.operate_interfaces),
        check=check,
        saved=saved,
        partial=is_partial(request),
        **problem.context(),
    )
    block = "check_result" if check is not None else "settings_form" if form else None
    return render(
        request, "admin_connection.html", context, block=block, status_code=problem.status
    )
