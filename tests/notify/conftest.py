"""Fixtures for notification tests: a real SMTP server and a real webhook receiver."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from app.core.settings import Settings
from tests.notify.receivers import SmtpSink, WebhookReceiver, smtp_server, webhook_receiver


@pytest.fixture
async def smtp() -> AsyncIterator[tuple[SmtpSink, int]]:
    """A real SMTP server on loopback: its sink and port."""
    async with smtp_server() as server:
        yield server


@pytest.fixture
async def webhook() -> AsyncIterator[WebhookReceiver]:
    """A real webhook receiver on loopback."""
    async with webhook_receiver() as receiver:
        yield receiver


@pytest.fixture
def mail_settings(settings: Settings, smtp: tuple[SmtpSink, int]) -> Settings:
    """The test settings with e-mail sent to the local SMTP server."""
    return settings.model_copy(
        update={"smtp_host": "127.0.0.1", "smtp_port": smtp[1], "smtp_security": "none"}
    )
