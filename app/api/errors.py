"""The one place that turns ``HubsyncError`` into a response, JSON or HTML by route."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.core.errors import HubsyncError, TooManyRequests
from app.core.logging import get_logger
from app.ui.errors import render_ui_error

log = get_logger("hubsync.errors")


def register_error_handlers(app: FastAPI) -> None:
    """Install the handlers for expected failures and for unexpected ones."""
    app.add_exception_handler(HubsyncError, _handle_hubsync_error)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, _handle_http_error)  # type: ignore[arg-type]
    app.add_exception_handler(Exception, _handle_unexpected)


async def _handle_hubsync_error(request: Request, exc: HubsyncError) -> Response:
    headers = {"Cache-Control": "no-store"}
    if isinstance(exc, TooManyRequests):
        headers["Retry-After"] = str(exc.retry_after)
    if exc.status_code == 401 and request.url.path.startswith("/api/"):
        headers["WWW-Authenticate"] = "Bearer"
    if request.url.path.startswith("/ui"):
        return await render_ui_error(request, exc.status_code, exc.message, headers)
    return JSONResponse({"detail": exc.message}, status_code=exc.status_code, headers=headers)


async def _handle_http_error(request: Request, exc: StarletteHTTPException) -> Response:
    """Routing errors (unknown path, wrong method): an HTML page in the UI, JSON elsewhere."""
    if request.url.path.startswith("/ui"):
        return await render_ui_error(request, exc.status_code, exc.detail, dict(exc.headers or {}))
    return await http_exception_handler(request, exc)


async def _handle_unexpected(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error", error_type=type(exc).__name__)
    message = "internal error; the request id in X-Request-ID helps the operator find it"
    if request.url.path.startswith("/ui"):
        return await render_ui_error(request, 500, message, {})
    return JSONResponse({"detail": message}, status_code=500)
