"""HTTP middleware: request ids and access logs, security headers, cross-site refusal.

Pure ASGI, so streaming responses and the event loop are not wrapped in
extra tasks.
"""

from __future__ import annotations

import time
import uuid
from urllib.parse import urlsplit

import structlog
from starlette.datastructures import Headers, MutableHeaders
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.logging import get_logger

log = get_logger("hubsync.http")

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'; object-src 'none'"
)
DOCS_CSP = (  # Swagger UI's page bootstraps itself with one inline script
    "default-src 'none'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'"
)
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
}


class RequestContextMiddleware:
    """Give every request an id (echoed as ``X-Request-ID``) and log one line per request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = uuid.uuid4().hex
        structlog.contextvars.bind_contextvars(request_id=request_id)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message)["X-Request-ID"] = request_id
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            log.info(
                "request",
                method=scope["method"],
                path=scope["path"],
                status=status,
                duration_ms=round((time.perf_counter() - started) * 1000, 1),
            )
            structlog.contextvars.unbind_contextvars("request_id")


class SecurityHeadersMiddleware:
    """Add CSP, HSTS (over https) and the other protective headers to every response."""

    def __init__(self, app: ASGIApp, *, https: bool) -> None:
        self.app = app
        self.https = https

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        is_docs = scope["path"] in ("/docs", "/redoc")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
                headers.setdefault("Content-Security-Policy", DOCS_CSP if is_docs else CSP)
                if self.https:
                    headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
            await send(message)

        await self.app(scope, receive, send_with_headers)


class CrossSiteGuardMiddleware:
    """Refuse state-changing browser requests that come from another site.

    The second CSRF layer: ``Sec-Fetch-Site`` other than same-origin, or, where
    a browser sends no such header, an ``Origin`` that is not ours, is refused
    before any handler runs. Non-browser clients send neither and rely on the
    token (API) or the synchronizer token (UI).
    """

    def __init__(self, app: ASGIApp, *, public_url: str, exempt_prefixes: tuple[str, ...]) -> None:
        self.app = app
        parts = urlsplit(public_url)
        self.origin = f"{parts.scheme}://{parts.netloc}"
        self.exempt_prefixes = exempt_prefixes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self._refused(scope):
            response = PlainTextResponse("cross-site request refused", status_code=403)
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)

    def _refused(self, scope: Scope) -> bool:
        if scope["method"] in SAFE_METHODS or scope["path"].startswith(self.exempt_prefixes):
            return False
        headers = Headers(scope=scope)
        fetch_site = headers.get("sec-fetch-site")
        if fetch_site is not None:
            return fetch_site != "same-origin"
        origin = headers.get("origin")
        return origin is not None and origin != self.origin


class BodySizeLimitMiddleware:
    """Refuse request bodies over ``max_bytes`` with 413, before the app reads them.

    A declared ``Content-Length`` over the cap is refused at once. A body without
    one (chunked) is read up to the cap first and then replayed to the app, so
    at most ``max_bytes`` are ever held.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_bytes: int,
        upload_suffixes: tuple[str, ...] = (),
        max_upload_bytes: int = 5 * 1024 * 1024,
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.upload_suffixes = upload_suffixes  # file uploads (XLSX import) get the larger cap
        self.max_upload_bytes = max_upload_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in SAFE_METHODS:
            await self.app(scope, receive, send)
            return
        cap = self._cap(scope["path"])
        declared = Headers(scope=scope).get("content-length")
        if declared is not None:
            if declared.isdigit() and int(declared) > cap:
                await self._refuse(scope, receive, send, cap)
                return
            await self.app(scope, receive, send)
            return
        buffered = await _read_capped(receive, cap)
        if buffered is None:
            await self._refuse(scope, receive, send, cap)
            return
        await self.app(scope, _replay(buffered, receive), send)

    def _cap(self, path: str) -> int:
        return self.max_upload_bytes if path.endswith(self.upload_suffixes) else self.max_bytes

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, cap: int) -> None:
        limit = f"{cap // 1024} KiB"
        response = PlainTextResponse(f"request body too large (limit {limit})", status_code=413)
        await response(scope, receive, send)


async def _read_capped(receive: Receive, cap: int) -> list[Message] | None:
    """The request's messages, or None as soon as their bodies pass ``cap`` bytes."""
    messages: list[Message] = []
    total = 0
    while True:
        message = await receive()
        messages.append(message)
        total += len(message.get("body", b""))
        if total > cap:
            return None
        if message["type"] != "http.request" or not message.get("more_body", False):
            return messages


def _replay(messages: list[Message], receive: Receive) -> Receive:
    """A ``receive`` that hands out buffered messages first, then the real channel."""
    pending = list(messages)

    async def replay() -> Message:
        return pending.pop(0) if pending else await receive()

    return replay
