"""``create_demo_app``: hubsync with the sandbox portal on the same port, set up and kept busy.

The sandbox portal (``app.connectors.hubspot.sandbox``) answers under
``/hubspot-sandbox``, so the demo's HubSpot connection calls
``http://127.0.0.1:<port>/hubspot-sandbox``. It keeps its records in a SQLite
file in ``var/``, so after a restart hubsync's record links still name records
that exist, and it enforces the rate limits of a Professional portal.

A small dispatcher in front of hubsync's middleware hands the sandbox its
requests with the prefix moved from ``path`` to ``root_path`` (its API gate and
routes expect paths such as ``/crm/v3/…``; its HTML pages link through
``root_path``). The sandbox thus answers with its own headers, and hubsync's
access log does not list the sandbox's paths, which may carry e-mail addresses.

The app's lifespan runs hubsync's own, the sandbox's (its webhook sender) and a
background task: once the server answers, it creates the HubSpot properties and
activates the interfaces (``provision.activate_interfaces``), then lets
``activity`` change both systems every few minutes. Shutdown cancels the task.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
from fastapi import FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send

from app.connectors.hubspot.sandbox.app import create_sandbox
from app.connectors.hubspot.sandbox.config import SandboxConfig
from app.connectors.hubspot.sandbox.state import SandboxState
from app.core.db import session_scope
from app.core.logging import get_logger
from app.core.settings import Settings
from app.demo.accounts import demo_operator
from app.demo.activity import ActivityGenerator, run_activity
from app.demo.config import SANDBOX_PREFIX, DemoConfig
from app.demo.erp import Erp
from app.demo.provision import activate_interfaces
from app.main import create_app
from app.web import WebState

log = get_logger("hubsync.demo")
RATE_PROFILE = "professional"
SERVER_WAIT_SECONDS = 30.0
Lifespan = Callable[[FastAPI], AbstractAsyncContextManager[Any]]


@dataclass(frozen=True, slots=True)
class DemoRuntime:
    """The running demo's parts (``app.state.demo``): its settings, portal and activity."""

    config: DemoConfig
    portal: SandboxState
    activity: ActivityGenerator


class SandboxDispatch:
    """ASGI middleware: requests under ``prefix`` go to the sandbox, the rest to hubsync."""

    def __init__(self, app: ASGIApp, *, prefix: str, sandbox: ASGIApp) -> None:
        self.app = app
        self.prefix = prefix
        self.sandbox = sandbox

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Route one connection by its path."""
        path = scope.get("path", "")
        if scope["type"] != "http" or not (path + "/").startswith(self.prefix + "/"):
            await self.app(scope, receive, send)
            return
        inner = dict(scope)
        inner["path"] = path[len(self.prefix) :] or "/"
        raw_path: bytes = scope.get("raw_path") or path.encode()
        inner["raw_path"] = raw_path.removeprefix(self.prefix.encode()) or b"/"
        inner["root_path"] = scope.get("root_path", "") + self.prefix
        await self.sandbox(inner, receive, send)


def sandbox_config(config: DemoConfig) -> SandboxConfig:
    """The demo's portal: kept in ``var/``, this start's token, a Professional portal's limits."""
    return SandboxConfig(
        db_path=str(config.sandbox_path),
        profile=RATE_PROFILE,
        private_tokens=[config.token],
        public_base_url=config.sandbox_url,
    )


def create_demo_app(settings: Settings, config: DemoConfig) -> FastAPI:
    """hubsync's app with the sandbox portal mounted and the demo's background task.

    ``config`` is the one ``seed_demo`` stored: its token is the one the portal accepts.
    """
    config.var_dir.mkdir(parents=True, exist_ok=True)
    app = create_app(settings)
    sandbox = create_sandbox(sandbox_config(config))
    portal: SandboxState = sandbox.state.sandbox
    activity = ActivityGenerator(
        Erp(config.erp_path), portal, seed=config.activity_seed, failure_every=config.failure_every
    )
    runtime = DemoRuntime(config, portal, activity)
    app.state.demo = runtime
    app.add_middleware(SandboxDispatch, prefix=SANDBOX_PREFIX, sandbox=sandbox)
    app.router.lifespan_context = _with_demo(app.router.lifespan_context, sandbox, runtime)
    return app


def _with_demo(hubsync: Lifespan, sandbox: FastAPI, runtime: DemoRuntime) -> Lifespan:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with hubsync(app), sandbox.router.lifespan_context(sandbox):
            task = asyncio.create_task(run_demo(app.state.web, runtime), name="hubsync-demo")
            try:
                yield
            finally:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
                runtime.activity.close()

    return lifespan


async def run_demo(web: WebState, runtime: DemoRuntime) -> None:
    """Once the server answers: activate the interfaces, then keep both systems busy."""
    if not await _served(runtime.config.base_url):
        log.error("demo server did not answer; interfaces stay as they are")
        return
    try:
        async with session_scope(web.session_factory) as session:
            actor = await demo_operator(session)
            created = await activate_interfaces(session, actor=actor, box=web.secret_box)
    except Exception:  # the demo goes on; its UI shows the interfaces' state
        log.error("demo interfaces could not be activated", exc_info=True)
    else:
        log.info("demo interfaces active", properties_created=len(created))
    await run_activity(runtime.activity, runtime.config.activity_seconds)


async def _served(base_url: str) -> bool:
    """Wait until hubsync answers ``/healthz`` (the server binds after the lifespan started)."""
    async with httpx.AsyncClient(base_url=base_url, timeout=2.0) as client:
        for _ in range(int(SERVER_WAIT_SECONDS / 0.1)):
            with contextlib.suppress(httpx.TransportError):
                if (await client.get("/healthz")).status_code == 200:
                    return True
            await asyncio.sleep(0.1)
    return False
