"""HubSpot access of a connection: connect, reconnect and disconnect a portal through OAuth.

    GET  /ui/connections/{id}/hubspot             portal, scopes granted and needed, expiry
    POST /ui/connections/{id}/hubspot/connect     to HubSpot's consent page (also reconnect)
    POST /ui/connections/{id}/hubspot/disconnect  revoke and delete the tokens
    GET  /ui/hubspot/oauth/callback               where HubSpot sends the user back

Operators and admins connect; viewers read. The callback must come from the
session that pressed "Connect"; a refused one shows why and stores nothing.
"""

from __future__ import annotations

import uuid
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Query, Request
from starlette.responses import RedirectResponse, Response

from app.api.deps import SecretBoxDep, SessionDep, SettingsDep
from app.auth.actor import Permission
from app.core.settings import Settings
from app.middleware import CSP
from app.sync import hubspot_oauth
from app.sync.hubspot_oauth import CALLBACK_PATH, CallbackProblem, OAuthConfig
from app.ui.i18n import mark
from app.ui.page import PageDep
from app.ui.router import router
from app.ui.templating import render
from app.web import cookie_name

ACTIVE = "admin-connections"
NOTICES = {
    "connected": mark("HubSpot is connected."),
    "disconnected": mark("HubSpot is disconnected and hubsync deleted its tokens."),
    "unconfirmed": mark(
        "hubsync deleted its tokens, but HubSpot did not confirm the revocation. "
        "To be sure, uninstall the app in HubSpot."
    ),
}
NOT_A_CALLBACK = mark(
    "HubSpot sends you to this address after you approve access. "
    "To connect HubSpot, start on the connection's HubSpot page."
)
PROBLEMS: dict[CallbackProblem, tuple[int, str]] = {
    CallbackProblem.unknown_state: (400, mark(
        "This answer from HubSpot does not belong to a connection you started, or it was "
        "used already. Start again on the connection's HubSpot page."
    )),
    CallbackProblem.expired: (400, mark(
        "More than 10 minutes passed since you started connecting. Please start again."
    )),
    CallbackProblem.wrong_user: (400, mark(
        "Connecting was started by another user or in another browser session. "
        "Please start it again yourself."
    )),
    CallbackProblem.denied: (400, mark("Access was not granted in HubSpot. Nothing was changed.")),
    CallbackProblem.refused: (502, mark(
        "HubSpot did not accept the authorization. Nothing was stored; please try again."
    )),
    CallbackProblem.portal_taken: (409, mark(
        "This HubSpot portal is connected to another customer already. "
        "Only an operator can connect it here."
    )),
    CallbackProblem.not_configured: (503, mark(
        "HubSpot OAuth is not set up on this hubsync. Please ask your operator."
    )),
}  # fmt: skip


def page_path(connection_id: uuid.UUID) -> str:
    """The HubSpot access page of a connection (where "reconnect" leads)."""
    return f"/ui/connections/{connection_id}/hubspot"


@router.get("/connections/{connection_id}/hubspot")
async def hubspot_access_page(
    request: Request,
    connection_id: uuid.UUID,
    page: PageDep,
    session: SessionDep,
    box: SecretBoxDep,
    settings: SettingsDep,
    notice: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    """HubSpot access: portal, scopes, token expiry, and connect / reconnect / disconnect."""
    status = await hubspot_oauth.access_status(
        session, actor=page.actor, box=box, connection_id=connection_id
    )
    context = page.context(
        ACTIVE,
        status=status,
        notice=NOTICES.get(notice or ""),
        can_connect=page.actor.can(Permission.operate_interfaces),
        configured=OAuthConfig.from_settings(settings) is not None,
    )
    return render(request, "oauth_connection.html", context, headers=_csp(settings))


@router.post("/connections/{connection_id}/hubspot/connect")
async def hubspot_connect(
    request: Request,
    connection_id: uuid.UUID,
    page: PageDep,
    session: SessionDep,
    box: SecretBoxDep,
    settings: SettingsDep,
) -> Response:
    """Send the user to HubSpot's consent page with the scopes the mappings need."""
    url = await hubspot_oauth.start_authorization(
        session,
        actor=page.actor,
        box=box,
        config=OAuthConfig.from_settings(settings),
        connection_id=connection_id,
        session_key=_session_key(request, settings),
    )
    return _navigate(request, url)


@router.post("/connections/{connection_id}/hubspot/disconnect")
async def hubspot_disconnect(
    request: Request,
    connection_id: uuid.UUID,
    page: PageDep,
    session: SessionDep,
    box: SecretBoxDep,
) -> Response:
    """Revoke the refresh token at HubSpot where possible and delete the tokens."""
    revoked = await hubspot_oauth.disconnect(
        session, actor=page.actor, box=box, connection_id=connection_id
    )
    notice = "disconnected" if revoked else "unconfirmed"
    return _navigate(request, f"{page_path(connection_id)}?notice={notice}")


@router.get(CALLBACK_PATH.removeprefix(router.prefix))
async def hubspot_callback(
    request: Request,
    page: PageDep,
    session: SessionDep,
    box: SecretBoxDep,
    settings: SettingsDep,
    state: Annotated[str | None, Query(max_length=200)] = None,
    code: Annotated[str | None, Query(max_length=2000)] = None,
    error: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    """HubSpot's redirect after the consent page: store the tokens, or say why not."""
    if state is None and code is None and error is None:  # visited, not sent by HubSpot
        context = page.context(ACTIVE, message=NOT_A_CALLBACK, back=None)
        return render(request, "oauth_error.html", context)
    try:
        connection = await hubspot_oauth.complete_authorization(
            session, actor=page.actor, box=box, config=OAuthConfig.from_settings(settings),
            state=state, code=code, error=error, session_key=_session_key(request, settings),
        )  # fmt: skip
    except hubspot_oauth.OAuthCallbackError as exc:  # rendered, so the used-up state is committed
        status_code, message = PROBLEMS[exc.problem]
        back = page_path(exc.connection_id) if exc.connection_id else None
        context = page.context(ACTIVE, message=message, back=back)
        return render(request, "oauth_error.html", context, status_code=status_code)
    return RedirectResponse(f"{page_path(connection.id)}?notice=connected", status_code=303)


def _session_key(request: Request, settings: Settings) -> str | None:
    """The sign-in session the state is bound to (its cookie; hashed before it is stored)."""
    return request.cookies.get(cookie_name(settings))


def _navigate(request: Request, url: str) -> Response:
    """A full navigation after a POST: 303 without JS; htmx gets ``HX-Redirect`` (UI.md 4.2)."""
    if request.headers.get("HX-Request") != "true":
        return RedirectResponse(url, status_code=303)
    return Response(status_code=204, headers={"HX-Redirect": url})


def _csp(settings: Settings) -> dict[str, str]:
    """The page's CSP: the usual one, but the connect form may lead on to HubSpot's consent page.

    Without JS the form's POST is redirected there, and ``form-action`` also
    governs where a form submission may be redirected.
    """
    parts = urlsplit(settings.hubspot_authorize_url)
    allowed = f"form-action 'self' {parts.scheme}://{parts.netloc}"
    return {"Content-Security-Policy": CSP.replace("form-action 'self'", allowed)}
