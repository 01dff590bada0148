"""The sandbox portal's ASGI app: HubSpot's CRM paths, answered from a local SQLite portal."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from app.connectors.hubspot.sandbox import (
    admin,
    routes_associations,
    routes_batch,
    routes_objects,
    routes_properties,
    routes_schemas,
)
from app.connectors.hubspot.sandbox.config import RateProfile, SandboxConfig
from app.connectors.hubspot.sandbox.errors import HubSpotError
from app.connectors.hubspot.sandbox.events import EventSink
from app.connectors.hubspot.sandbox.gate import Gate
from app.connectors.hubspot.sandbox.oauth import oauth_router
from app.connectors.hubspot.sandbox.state import SandboxState
from app.connectors.hubspot.sandbox.tokens import TokenRegistry
from app.connectors.hubspot.sandbox.ui import ui_router
from app.connectors.hubspot.sandbox.webhooks import (
    WebhookDispatcher,
    WebhookSettings,
    webhooks_router,
)

_CATEGORIES = {404: "OBJECT_NOT_FOUND", 405: "VALIDATION_ERROR"}


def _registry(config: SandboxConfig, clock: Callable[[], float]) -> TokenRegistry:
    tokens = TokenRegistry(
        config.portal_id,
        config.oauth_client_id,
        config.oauth_client_secret,
        config.access_token_ttl_seconds,
        clock=clock,
    )
    for token in config.private_tokens:
        tokens.add_private_token(token)
    return tokens


async def _hubspot_error(request: Request, exc: Exception) -> Response:
    """Answer a raised ``HubSpotError`` with its HubSpot body."""
    if not isinstance(exc, HubSpotError):
        raise exc
    return exc.response()


async def _http_error(request: Request, exc: Exception) -> Response:
    """Unknown paths and methods, HubSpot-shaped."""
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    category = _CATEGORIES.get(status, "VALIDATION_ERROR")
    return HubSpotError(status, category, f"{request.method} {request.url.path}: {exc}").response()


def create_sandbox(
    config: SandboxConfig | None = None,
    *,
    tokens: TokenRegistry | None = None,
    sink: EventSink | None = None,
    clock: Callable[[], float] = time.time,
    rate_profile: RateProfile | None = None,
) -> FastAPI:
    """A sandbox portal app; its run-time state is ``app.state.sandbox`` (a ``SandboxState``)."""
    config = config or SandboxConfig()
    registry = tokens or _registry(config, clock)
    hooks = WebhookSettings(app_id=config.app_id, client_secret=config.oauth_client_secret)
    dispatcher = WebhookDispatcher(hooks, portal_id=config.portal_id)
    state = SandboxState(config, registry, sink or dispatcher, clock)
    if rate_profile is not None:
        state.limiter.profile = rate_profile

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        dispatcher.start()
        try:
            yield
        finally:
            await dispatcher.aclose()

    app = FastAPI(
        title="HubSpot sandbox portal",
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.sandbox = state
    app.state.webhooks = dispatcher
    app.add_exception_handler(HubSpotError, _hubspot_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_middleware(Gate, state=state)
    for prefix in ("/crm/v3/objects", "/crm/objects/2026-03"):
        app.include_router(routes_batch.router, prefix=prefix)
        app.include_router(routes_objects.router, prefix=prefix)
    app.include_router(routes_properties.router)
    app.include_router(routes_schemas.router)
    app.include_router(routes_associations.router)
    app.include_router(admin.router)
    app.include_router(
        oauth_router(
            registry, portal_name=f"Sandbox portal {config.portal_id}", app_id=config.app_id
        )
    )
    app.include_router(webhooks_router(hooks))
    app.include_router(ui_router())
    return app
