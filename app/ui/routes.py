"""UI pages: sign-in, dashboard, interfaces, sync history, error log.

Every route here runs the CSRF check for unsafe methods (router dependency);
pages need a signed-in user, except the login page itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Form, Request
from starlette.responses import RedirectResponse, Response

from app.api.deps import OptionalUiUser, SessionDep, StateDep, UiActor, UiUser
from app.auth.actor import Actor
from app.auth.sessions import sign_in, sign_out
from app.core.errors import TooManyRequests
from app.models import User
from app.models.base import utcnow
from app.sync import interfaces, runs
from app.ui.csrf import csrf_token_for, presession, require_csrf, set_presession_cookie
from app.ui.i18n import mark
from app.ui.templating import render
from app.web import CSRF_COOKIE, cookie_name

router = APIRouter(prefix="/ui", include_in_schema=False, dependencies=[Depends(require_csrf)])


@dataclass(frozen=True, slots=True)
class Page:
    """What every signed-in page needs: who is looking and the CSRF token."""

    actor: Actor
    user: User
    csrf_token: str

    def context(self, active: str, **extra: Any) -> dict[str, Any]:
        """The template context shared by all pages, plus ``extra``."""
        return {
            "actor": self.actor,
            "user": self.user,
            "csrf_token": self.csrf_token,
            "active": active,
            **extra,
        }


async def get_page(request: Request, actor: UiActor, user: UiUser, state: StateDep) -> Page:
    """The context of a signed-in page; anonymous requests never get here."""
    return Page(actor=actor, user=user, csrf_token=csrf_token_for(request, state))


PageDep = Annotated[Page, Depends(get_page)]
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


@router.get("/")
async def dashboard(request: Request, page: PageDep, session: SessionDep) -> Response:
    """Übersicht: every interface the user may see and its health."""
    rows = await interfaces.list_interfaces(session, actor=page.actor)
    return render(request, "dashboard.html", page.context("dashboard", interfaces=rows))


@router.get("/interfaces")
async def interface_list(request: Request, page: PageDep, session: SessionDep) -> Response:
    """Schnittstellen: the interfaces with state, interval and schedule."""
    rows = await interfaces.list_interfaces(session, actor=page.actor)
    return render(request, "interfaces.html", page.context("interfaces", interfaces=rows))


@router.get("/runs")
async def run_list(request: Request, page: PageDep, session: SessionDep) -> Response:
    """Synchronisationsverlauf: the newest runs."""
    rows = await runs.list_runs(session, actor=page.actor)
    names = {i.id: i.name for i in await interfaces.list_interfaces(session, actor=page.actor)}
    return render(request, "runs.html", page.context("runs", runs=rows, names=names))


@router.get("/errors")
async def error_log(request: Request, page: PageDep, session: SessionDep) -> Response:
    """Fehlerprotokoll: open failed tasks, newest first."""
    rows = await runs.list_open_failures(session, actor=page.actor)
    names = {i.id: i.name for i in await interfaces.list_interfaces(session, actor=page.actor)}
    return render(request, "errors.html", page.context("errors", items=rows, names=names))
