"""What every API request passes first: faults, bearer-token check, rate limits, counters."""

from __future__ import annotations

import asyncio
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.connectors.hubspot.sandbox.errors import HubSpotError
from app.connectors.hubspot.sandbox.faults import DroppedConnection
from app.connectors.hubspot.sandbox.ratelimit import Verdict, too_many_requests
from app.connectors.hubspot.sandbox.state import SandboxState

API_PREFIXES = ("/crm/",)
_AUTH_MESSAGE = (
    "Authentication credentials not found. This API supports OAuth 2.0 authentication and you"
    " can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview"
)


def bearer(scope: Scope) -> str:
    """The bearer token of a request, or ''."""
    for name, value in scope["headers"]:
        if name == b"authorization":
            kind, _, token = value.decode("latin-1").partition(" ")
            return token.strip() if kind.lower() == "bearer" else ""
    return ""


class Gate:
    """Pure ASGI middleware in front of the CRM routes."""

    def __init__(self, app: ASGIApp, state: SandboxState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Let the request through, or answer for the route (401, 429, 5xx, dropped)."""
        if scope["type"] != "http" or not scope["path"].startswith(API_PREFIXES):
            await self.app(scope, receive, send)
            return
        state = self.state
        state.stats.requests += 1
        latency = state.faults.latency_s()
        if latency > 0:
            await asyncio.sleep(latency)
        if state.faults.drop():
            state.stats.dropped += 1
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [(b"content-length", b"64")],
                }
            )
            raise DroppedConnection("connection dropped by sandbox fault injection")
        early, headers = self._screen(scope)
        respond = _counting(send, state, headers)
        if early is not None:
            await early(scope, receive, respond)
            return
        await self.app(scope, receive, respond)

    def _screen(self, scope: Scope) -> tuple[Any, dict[str, str]]:
        """An early answer (or None) and the rate-limit headers for the real one."""
        state = self.state
        status = state.faults.error_status()
        if status is not None:
            state.stats.injected_errors += 1
            error = HubSpotError(status, "INTERNAL_ERROR", "Service unavailable (injected fault)")
            return error.response(), {}
        info = state.tokens.authenticate(bearer(scope))
        if info is None:
            return HubSpotError(401, "INVALID_AUTHENTICATION", _AUTH_MESSAGE).response(), {}
        scope.setdefault("state", {})["token"] = info
        search = scope["path"].endswith("/search")
        if state.faults.forced_429():
            return too_many_requests("SECONDLY" if search else "TEN_SECONDLY_ROLLING", {}), {}
        verdict = Verdict(None)
        if state.config.rate_limits:
            verdict = state.limiter.check(search=search, private_app=info.kind == "private_app")
        if verdict.policy is not None:
            return too_many_requests(verdict.policy, verdict.headers), {}
        return None, verdict.headers


def _counting(send: Send, state: SandboxState, headers: dict[str, str]) -> Send:
    extra = [(k.encode(), v.encode()) for k, v in headers.items()]

    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start":
            state.stats.answered(message["status"])
            if extra:
                message["headers"] = [*message.get("headers", []), *extra]
        await send(message)

    return wrapped
