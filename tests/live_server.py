"""Serve an ASGI app over real HTTP on loopback, in a background thread, for one test scope.

The thread runs its own event loop, so the app's engines and clients live
there, apart from pytest's loop; browsers and sync SDKs can reach it.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import uvicorn
from starlette.types import ASGIApp

START_TIMEOUT_SECONDS = 15.0


def listening_socket() -> socket.socket:
    """A TCP socket bound to a free port on 127.0.0.1, ready to hand to uvicorn."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


def base_url_of(sock: socket.socket) -> str:
    """The http URL a bound socket answers at."""
    host, port = sock.getsockname()
    return f"http://{host}:{port}"


@asynccontextmanager
async def serving(app: ASGIApp, sock: socket.socket) -> AsyncIterator[str]:
    """Run ``app`` on ``sock`` until the block ends; yields the base URL."""
    config = uvicorn.Config(
        app,
        log_config=None,
        access_log=False,
        ws="none",
        lifespan="on",
        timeout_graceful_shutdown=5,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="live-server", daemon=True
    )
    thread.start()
    try:
        for _ in range(int(START_TIMEOUT_SECONDS / 0.05)):
            if server.started or not thread.is_alive():
                break
            await asyncio.sleep(0.05)
        assert server.started, "the test server did not start"
        yield base_url_of(sock)
    finally:
        server.should_exit = True
        await asyncio.to_thread(thread.join, 10)
        sock.close()
    assert not thread.is_alive(), "the test server did not stop"
