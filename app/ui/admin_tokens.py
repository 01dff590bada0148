"""API-Tokens: each user's own tokens for scripts; a new token's value is shown exactly once.

The list shows name, prefix, created, last use and expiry. The value exists only
in the response to the POST that created it (``Cache-Control: no-store``).
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Literal

from fastapi import Request
from pydantic import Field, field_validator
from starlette.responses import Response

from app.api.deps import SessionDep
from app.auth import tokens
from app.core.errors import InvalidInput
from app.models.base import utcnow
from app.ui.admin_forms import FormModel, FormProblem, ParsedForm, read_form, see_other
from app.ui.i18n import mark
from app.ui.page import Page, PageDep
from app.ui.router import router
from app.ui.templating import render

EXPIRY_DAYS = (30, 90, 365)
TOKEN_INVALID = mark("The token could not be created.")


class TokenForm(FormModel):
    """A new token: a name, and an expiry in days (blank: never)."""

    name: str = Field(min_length=1, max_length=100)
    expires_in_days: Literal[30, 90, 365] | None = None

    @field_validator("expires_in_days", mode="before")
    @classmethod
    def _days(cls, value: object) -> object:
        if isinstance(value, str):
            return int(value) if value.isdigit() else value or None
        return value


@router.get("/tokens")
async def token_list(request: Request, page: PageDep, session: SessionDep) -> Response:
    """API-Tokens: the signed-in user's tokens, without their values."""
    return await _tokens_page(request, page, session, ParsedForm(None, {}))


@router.post("/tokens")
async def token_create(request: Request, page: PageDep, session: SessionDep) -> Response:
    """Issue a token for the signed-in user; its value is in this response only."""
    form = await read_form(request, TokenForm)
    if form.model is None:
        return await _tokens_page(request, page, session, form, problem=FormProblem.invalid())
    days = form.model.expires_in_days
    try:
        issued = await tokens.create_token(
            session,
            actor=page.actor,
            name=form.model.name,
            expires_at=utcnow() + timedelta(days=days) if days else None,
        )
    except InvalidInput as exc:
        problem = FormProblem.of(exc, invalid=TOKEN_INVALID)
        return await _tokens_page(request, page, session, form, problem=problem)
    shown_once = {"name": issued.token.name, "value": issued.value}
    return await _tokens_page(request, page, session, ParsedForm(None, {}), issued=shown_once)


@router.post("/tokens/{token_id}/revoke")
async def token_revoke(
    request: Request, token_id: uuid.UUID, page: PageDep, session: SessionDep
) -> Response:
    """Revoke one of the signed-in user's tokens; it stops working at once."""
    await tokens.revoke_token(session, actor=page.actor, token_id=token_id)
    return see_other(request, "/ui/tokens")


async def _tokens_page(
    request: Request,
    page: Page,
    session: SessionDep,
    form: ParsedForm[TokenForm],
    *,
    problem: FormProblem | None = None,
    issued: dict[str, str] | None = None,
) -> Response:
    problem = problem or FormProblem.none()
    context = page.context(
        "admin-tokens",
        tokens=await tokens.list_tokens(session, actor=page.actor),
        now=utcnow(),
        expiry_days=EXPIRY_DAYS,
        form=form,
        issued=issued,
        **problem.context(),
    )
    return render(
        request, "admin_tokens.html", context, block="tokens_panel", status_code=problem.status
    )
