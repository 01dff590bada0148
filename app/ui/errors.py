"""How the UI shows errors: a login redirect, an htmx toast, or an error page.

Error pages are rendered in the page layout (navigation, language switch) in
the user's language: a title and an explanation per status, the service's
message in place of the explanation if it was written for people (it is in the
catalog), else beside it as the system's English message (``lang="en"``), the
time (and request id, if known) of unexpected errors, and a way back. htmx requests get the same
words as a toast.
"""

from __future__ import annotations

from dataclasses import dataclass
from http import HTTPStatus
from typing import Any
from urllib.parse import quote, urlsplit

import structlog
from fastapi import Request
from sqlalchemy.exc import SQLAlchemyError
from starlette.responses import RedirectResponse, Response

from app.api.deps import get_optional_ui_user
from app.core.logging import get_logger
from app.models import User
from app.models.base import utcnow
from app.ui.csrf import csrf_token_for
from app.ui.i18n import DEFAULT_LANGUAGE, mark, translations
from app.ui.templating import is_partial, render, request_language
from app.web import WebState

log = get_logger("hubsync.ui.errors")

STATUS_TEXTS = {
    400: (mark("The request was not understood"), mark("Please check the input and try again.")),
    403: (
        mark("Not allowed"),
        mark("Your role may not do this. Ask an administrator of your tenant if you need it."),
    ),
    404: (
        mark("Page not found"),
        mark("This page does not exist (any more), or it is not part of your tenant."),
    ),
    405: (
        mark("Not possible here"),
        mark("This address does not accept this kind of request; use the links on the pages."),
    ),
    409: (mark("Not possible right now"), mark("The object's state does not allow this now.")),
    422: (mark("This cannot be done"), mark("It breaks a rule; the message below says which.")),
    429: (mark("Too many attempts"), mark("Please wait a few minutes and try again.")),
    500: (
        mark("Something went wrong"),
        mark("An unexpected error occurred. If it happens again, tell your integrator when "
             "it happened (below) and on which page."),
    ),
}  # fmt: skip


def status_text(status_code: int) -> tuple[str, str]:
    """The (title, explanation) msgids for a status: its own, else its class's (4xx, 5xx)."""
    fallback = 500 if status_code >= 500 else 400
    return STATUS_TEXTS.get(status_code, STATUS_TEXTS[fallback])


def people_message(language: str, message: str) -> str | None:
    """``message`` in ``language`` if it was written for people (it is in the catalog)."""
    german = translations(DEFAULT_LANGUAGE).gettext(message)
    if german == message:  # not in the catalog: a message for API clients, in English
        return None
    return translations(language).gettext(message)


def technical_message(status_code: int, message: str) -> str | None:
    """A service's English message worth showing beside the German text (``lang="en"``):
    not an unexpected error's (it says nothing to the user) nor HTTP's own phrase."""
    if status_code >= 500 or message == HTTPStatus(status_code).phrase:
        return None
    return message


@dataclass(frozen=True, slots=True)
class ErrorWords:
    """What an error page or toast says: title and explanation (msgids), the message
    written for people (translated) or else the system's own (English)."""

    title: str
    explanation: str
    detail: str | None
    technical: str | None

    @classmethod
    def of(cls, language: str, status_code: int, message: str) -> ErrorWords:
        """The words for a failure with this status and service message."""
        title, explanation = status_text(status_code)
        detail = people_message(language, message)
        technical = None if detail else technical_message(status_code, message)
        return cls(title, explanation, detail, technical)


async def render_ui_error(
    request: Request, status_code: int, message: str, headers: dict[str, str]
) -> Response:
    """Answer a failed UI request the way its caller (browser or htmx) can use."""
    if status_code == 401:
        login = "/ui/login?next=" + quote(request.url.path, safe="/")
        if request.headers.get("HX-Request") == "true":
            return Response(status_code=401, headers={**headers, "HX-Redirect": login})
        return RedirectResponse(login, status_code=303, headers=headers)
    language = request_language(request)
    words = ErrorWords.of(language, status_code, message)
    if request.headers.get("HX-Request") == "true" and is_partial(request):
        headers = {**headers, "HX-Retarget": "#toasts", "HX-Reswap": "innerHTML"}
        text = words.detail or translations(language).gettext(words.explanation)
        toast = {"message": text, "technical": words.technical}
        return render(request, "partials/alert.html", toast, status_code=status_code,
                      headers=headers)  # fmt: skip
    context: dict[str, Any] = {
        "status": status_code, "words": words, "back_url": _back_url(request),
        "happened_at": utcnow() if status_code >= 500 else None,
        "request_id": structlog.contextvars.get_contextvars().get("request_id"),
        **await _layout(request),
    }  # fmt: skip
    return render(request, "error.html", context, status_code=status_code, headers=headers)


async def _layout(request: Request) -> dict[str, User | str | None]:
    """Who is signed in, for the navigation; none if that cannot be found out now."""
    state: WebState = request.app.state.web
    try:
        async with state.session_factory() as session:
            user = await get_optional_ui_user(request, session, state)
    except (SQLAlchemyError, OSError) as exc:  # the database may be why the request failed
        log.warning("error page without navigation", error_type=type(exc).__name__)
        return {"user": None, "csrf_token": None}
    return {"user": user, "csrf_token": csrf_token_for(request, state) if user else None}


def _back_url(request: Request) -> str | None:
    """The page the user came from, if it is one of ours (never another site's)."""
    referer = urlsplit(request.headers.get("referer", ""))
    here = urlsplit(str(request.url))
    if referer.netloc != here.netloc or not referer.path.startswith("/ui"):
        return None
    if referer.path == request.url.path:
        return None
    return referer.path + (f"?{referer.query}" if referer.query else "")
