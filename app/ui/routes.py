"""UI pages: sign-in, dashboard, interfaces, sync history, error log.

Every route here runs the CSRF check for unsafe methods (router dependency);
pages need a signed-in user, except the login page itself.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Form, Request
from starlette.responses import RedirectResponse, Response

from app.api.deps import OptionalUiUser, SessionDep, StateDep
from app.auth.sessions import sign_in, sign_out
from app.core.errors import TooManyRequests
from app.models.base import utcnow
from app.ui import (  # noqa: F401 - imported so that their pages register
    admin_accounts,
    admin_audit,
    admin_connections,
    admin_tokens,
    dashboard,
    deletion_pages,
    error_log,
    history,
    interface_pages,
    oauth_pages,
    webhook_failures,
)
from app.ui.csrf import csrf_token_for, presession, set_presession_cookie
from app.ui.i18n import mark
from app.ui.router import router
from app.ui.templating import render
from app.web import CSRF_COOKIE, cookie_name

__all__ = ["router"]  # with every page module's routes registered
WRONG_CREDENTIALS = mark("Email or password is incorrect.")
TOO_MANY_ATTEMPTS = mark("Too many failed sign-in attempts. Please wait a few minutes.")


def _safe_next(target: str | None) -> str:
    """Only local UI paths are followed after sign-in (no open redirect)."""
    if not target:
        return "/ui/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path.startswith("/ui"):
        return "/ui/"
    return target


@router.get("/login")
async def login_form(
    request: Request, state: StateDep, user: OptionalUiUser, next: str | None = None
) -> Response:
    """The sign-in form."""
    if user is not None:
        return RedirectResponse(_safe_next(next), status_code=303)
    token, new_cookie = presession(request, state)
    response = render(
        request, "login.html", {"next": _safe_next(next), "error": None, "csrf_token": token}
    )
    if new_cookie:
        set_presession_cookie(response, new_cookie, state)
    return response


@router.post("/login")
async def login(
    request: Request,
    session: SessionDep,
    state: StateDep,
    email: Annotated[str, Form(max_length=254)],
    password: Annotated[str, Form(max_length=1024)],
    next: Annotated[str | None, Form(max_length=500)] = None,
) -> Response:
    """Check the credentials and start a session; one generic message for any failure."""
    client = request.client.host if request.client else "unknown"
    try:
        signed_in = await sign_in(
            session,
            keys=state.keys,
            policy=state.session_policy,
            email=email,
            password=password,
            client_address=client,
            now=utcnow(),
            previous_cookie=request.cookies.get(cookie_name(state.settings)),
        )
    except TooManyRequests as exc:
        return _login_failed(
            request,
            state,
            email,
            next,
            TOO_MANY_ATTEMPTS,
            429,
            {"Retry-After": str(exc.retry_after)},
        )
    if signed_in is None:
        return _login_failed(request, state, email, next, WRONG_CREDENTIALS, 401, {})
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(
        cookie_name(state.settings),
        signed_in.cookie_value,
        httponly=True,
        samesite="lax",
        secure=state.settings.secure_cookies,
        path="/",
        max_age=int(state.session_policy.absolute.total_seconds()),
    )
    response.delete_cookie(CSRF_COOKIE, path="/")
    return response


def _login_failed(
    request: Request,
    state: StateDep,
    email: str,
    next: str | None,
    error: str,
    status_code: int,
    headers: dict[str, str],
) -> Response:
    context = {
        "next": _safe_next(next),
        "error": error,
        "email": email,
        "csrf_token": csrf_token_for(request, state),
    }
    return render(request, "login.html", context, status_code=status_code, headers=headers)


@router.post("/logout")
async def logout(request: Request, session: SessionDep, state: StateDep) -> Response:
    """End the session and clear what the browser kept."""
    cookie = request.cookies.get(cookie_name(state.settings))
    if cookie:
        await sign_out(session, keys=state.keys, cookie_value=cookie)
    response = RedirectResponse("/ui/login", status_code=303)
    response.delete_cookie(cookie_name(state.settings), path="/")
    response.headers["Clear-Site-Data"] = '"cache", "cookies", "storage"'
    return response
