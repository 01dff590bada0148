"""Real receivers on loopback for notification tests: an SMTP server and a webhook endpoint."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from tests.live_server import listening_socket, serving

WEBHOOK_PATH = "/services/T000/B000/not-a-real-secret"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on (bound once, then released)."""
    with listening_socket() as sock:
        port: int = sock.getsockname()[1]
    return port


@dataclass
class SmtpSink:
    """An aiosmtpd handler that keeps every message it accepts."""

    messages: list[EmailMessage] = field(default_factory=list)
    recipients: list[list[str]] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        """Accept the message (aiosmtpd's hook name)."""
        content = envelope.content.replace(b"\r\n", b"\n")  # SMTP lines end in CRLF
        parsed = message_from_bytes(content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append(parsed)
        self.recipients.append(list(envelope.rcpt_tos))
        return "250 OK"


@asynccontextmanager
async def smtp_server() -> AsyncIterator[tuple[SmtpSink, int]]:
    """A real SMTP server on 127.0.0.1; yields its sink and port."""
    sink = SmtpSink()
    controller = Controller(sink, hostname="127.0.0.1", port=free_port())
    await asyncio.to_thread(controller.start)
    try:
        yield sink, controller.port
    finally:
        await asyncio.to_thread(controller.stop)


@dataclass
class WebhookReceiver:
    """A webhook endpoint that records each POST and fails the first ``failures`` of them."""

    url: str = ""
    bodies: list[Any] = field(default_factory=list)
    failures: int = 0

    async def receive(self, request: Request) -> PlainTextResponse:
        """Record the JSON body; answer 500 while failures are left, else 200."""
        self.bodies.append(await request.json())
        if self.failures:
            self.failures -= 1
            return PlainTextResponse("receiver is down", status_code=500)
        return PlainTextResponse("ok")


@asynccontextmanager
async def webhook_receiver() -> AsyncIterator[WebhookReceiver]:
    """A webhook receiver served over real HTTP on 127.0.0.1."""
    receiver = WebhookReceiver()
    app = Starlette(routes=[Route(WEBHOOK_PATH, receiver.receive, methods=["POST"])])
    async with serving(app, listening_socket()) as base_url:
        receiver.url = base_url + WEBHOOK_PATH
        yield receiver
