"""CSRF protection for the UI: a synchronizer token bound to the session.

Every state-changing UI request must carry the token, in the ``X-CSRF-Token``
header (htmx, set by ``static/csrf.js``) or the ``csrf_token`` form field
(plain forms). Before sign-in the token is bound to a random pre-session
cookie instead, so the login form is protected too.
"""

from __future__ import annotations

import secrets

from fastapi import Request, Response

from app.core.errors import Forbidden
from app.middleware import SAFE_METHODS
from app.ui.i18n import mark
from app.web import CSRF_COOKIE, WebState, cookie_name

HEADER = "X-CSRF-Token"
REFUSED = mark("The form has expired or did not come from this site; please reload the page.")
FIELD = "csrf_token"


def csrf_binding(request: Request, state: WebState) -> str | None:
    """The value the request's CSRF token is bound to: session, else pre-session cookie."""
    session_cookie = request.cookies.get(cookie_name(state.settings))
    if session_cookie:
        return f"session:{session_cookie}"
    anonymous = request.cookies.get(CSRF_COOKIE)
    return f"anonymous:{anonymous}" if anonymous else None


def csrf_token_for(request: Request, state: WebState) -> str:
    """The token to embed in the page for this request ('' before a pre-session exists)."""
    binding = csrf_binding(request, state)
    return state.keys.csrf_token(binding) if binding else ""


def presession(request: Request, state: WebState) -> tuple[str, str | None]:
    """The CSRF token for a form, and a new pre-session cookie value if one is needed."""
    if request.cookies.get(cookie_name(state.settings)) or request.cookies.get(CSRF_COOKIE):
        return csrf_token_for(request, state), None
    value = secrets.token_urlsafe(32)
    return state.keys.csrf_token(f"anonymous:{value}"), value


def set_presession_cookie(response: Response, value: str, state: WebState) -> None:
    """Store the pre-session cookie that binds the login form's CSRF token."""
    response.set_cookie(
        CSRF_COOKIE,
        value,
        httponly=True,
        samesite="lax",
        secure=state.settings.secure_cookies,
        path="/",
    )


async def require_csrf(request: Request) -> None:
    """Refuse an unsafe UI request without the token bound to its session (403)."""
    if request.method in SAFE_METHODS:
        return
    state: WebState = request.app.state.web
    binding = csrf_binding(request, state)
    token = request.headers.get(HEADER)
    if token is None and "form" in request.headers.get("content-type", ""):
        token = str((await request.form()).get(FIELD, "")) or None
    if binding is None or not state.keys.csrf_valid(binding, token):
        raise Forbidden(REFUSED)
