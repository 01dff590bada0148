"""``create_app``: the FastAPI application with its routers, middleware and lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse
from starlette.staticfiles import StaticFiles

from app.api.errors import register_error_handlers
from app.api.health import router as health_router
from app.api.metrics import router as metrics_router
from app.api.v1 import router as api_router
from app.api.webhooks import router as webhooks_router
from app.auth.passwords import set_hash_concurrency
from app.core.heap import freeze_startup_heap
from app.core.logging import configure_logging
from app.core.settings import Settings, load_settings
from app.middleware import (
    BodySizeLimitMiddleware,
    CrossSiteGuardMiddleware,
    RequestContextMiddleware,
    SecurityHeadersMiddleware,
)
from app.sync.mapping.xlsx_import import MAX_FILE_BYTES as MAX_XLSX_BYTES
from app.ui import STATIC_DIR
from app.ui.routes import router as ui_router
from app.web import WebState, build_scheduler

CSRF_EXEMPT_PREFIXES = ("/api/",)
UPLOAD_PATH_SUFFIXES = ("/mapping-versions/import",)  # XLSX uploads: the import's own cap


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the hubsync web application for ``settings`` (read from the env by default)."""
    settings = settings or load_settings()
    configure_logging(level=settings.log_level, json=settings.json_logs)
    set_hash_concurrency(settings.password_hash_concurrency)
    state = WebState.build(settings)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        scheduler = build_scheduler(state) if settings.scheduler_enabled else None
        if scheduler is not None:
            scheduler.start()
        try:
            yield
        finally:
            grace = settings.lease_ttl_seconds / 2  # checkpoint well before the lease would lapse
            if scheduler is not None:
                await scheduler.stop(grace)
            else:
                await state.executor.shutdown(grace)
            await state.engine.dispose()

    app = FastAPI(
        title="hubsync",
        version="0.1.0",
        summary="Integration hub between business systems and HubSpot",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json" if settings.docs_enabled else None,
    )
    app.state.web = state
    register_error_handlers(app)
    app.include_router(health_router)
    app.include_router(metrics_router)
    app.include_router(api_router)
    app.include_router(webhooks_router)
    app.include_router(ui_router)
    app.mount("/ui/static", StaticFiles(directory=STATIC_DIR), name="static")
    if settings.docs_enabled:
        _add_docs(app)

    @app.get("/", include_in_schema=False)
    async def root() -> RedirectResponse:
        return RedirectResponse("/ui/", status_code=307)

    @app.get("/favicon.ico", include_in_schema=False)
    async def favicon() -> FileResponse:
        return FileResponse(STATIC_DIR / "favicon.svg", media_type="image/svg+xml")

    app.add_middleware(
        CrossSiteGuardMiddleware,
        public_url=settings.public_url,
        exempt_prefixes=CSRF_EXEMPT_PREFIXES,
    )
    app.add_middleware(
        BodySizeLimitMiddleware,
        max_bytes=settings.max_body_bytes,
        upload_suffixes=UPLOAD_PATH_SUFFIXES,
        max_upload_bytes=MAX_XLSX_BYTES,
    )
    app.add_middleware(SecurityHeadersMiddleware, https=settings.secure_cookies)
    app.add_middleware(RequestContextMiddleware)
    freeze_startup_heap()  # everything built so far lives as long as the process
    return app


def _add_docs(app: FastAPI) -> None:
    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title="hubsync API",
            swagger_js_url="/ui/static/vendor/swagger-ui-bundle.js",
            swagger_css_url="/ui/static/vendor/swagger-ui.css",
            swagger_favicon_url="/ui/static/favicon.svg",
        )
