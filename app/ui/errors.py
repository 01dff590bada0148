"""How the UI shows errors: a login redirect, an htmx toast, or an error page."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import Request
from starlette.responses import RedirectResponse, Response

from app.ui.templating import is_partial, render


def render_ui_error(
    request: Request, status_code: int, message: str, headers: dict[str, str]
) -> Response:
    """Answer a failed UI request the way its caller (browser or htmx) can use."""
    if status_code == 401:
        login = "/ui/login?next=" + quote(request.url.path, safe="/")
        if request.headers.get("HX-Request") == "true":
            return Response(status_code=401, headers={**headers, "HX-Redirect": login})
        return RedirectResponse(login, status_code=303, headers=headers)
    if request.headers.get("HX-Request") == "true" and is_partial(request):
        headers = {**headers, "HX-Retarget": "#toasts", "HX-Reswap": "innerHTML"}
        return render(
            request,
            "partials/alert.html",
            {"message": message},
            status_code=status_code,
            headers=headers,
        )
    return render(
        request,
        "error.html",
        {"message": message, "status": status_code},
        status_code=status_code,
        headers=headers,
    )
