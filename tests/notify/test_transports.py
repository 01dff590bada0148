"""The two transports on their own: SMTP security modes and webhook failures."""

from __future__ import annotations

import httpx
import pytest

from app.core.settings import Settings
from app.notify.email import send_email
from app.notify.errors import EmailError, WebhookError
from app.notify.messages import Notice
from app.notify.webhook import post_webhook
from tests.notify.receivers import SmtpSink, free_port

NOTICE = Notice(subject="[hubsync] Test", body="Zeile 1\nZeile 2", change="test")
SECRET_URL = "https://hooks.example.com/services/T0/B0/secret-part"


async def test_starttls_is_required_when_configured(
    mail_settings: Settings, smtp: tuple[SmtpSink, int]
) -> None:
    strict = mail_settings.model_copy(update={"smtp_security": "starttls"})
    with pytest.raises(EmailError, match="STARTTLS"):
        await send_email(strict, to="ops@example.com", notice=NOTICE)
    assert smtp[0].messages == []


async def test_plain_smtp_delivers_utf8(
    mail_settings: Settings, smtp: tuple[SmtpSink, int]
) -> None:
    await send_email(mail_settings, to="ops@example.com", notice=NOTICE)
    [message] = smtp[0].messages
    assert message.get_content() == "Zeile 1\nZeile 2\n"
    assert message["From"] == mail_settings.smtp_from


async def test_redirects_are_not_followed() -> None:
    def redirect(request: httpx.Request) -> httpx.Response:
        return httpx.Response(302, headers={"Location": "http://169.254.169.254/"})

    async with httpx.AsyncClient(transport=httpx.MockTransport(redirect)) as http:
        with pytest.raises(WebhookError, match=r"^HTTP 302$"):
            await post_webhook(http, SECRET_URL, NOTICE)


async def test_unreachable_receiver_error_hides_the_url() -> None:
    url = f"http://127.0.0.1:{free_port()}/services/secret-part"
    async with httpx.AsyncClient() as http:
        with pytest.raises(WebhookError) as raised:
            await post_webhook(http, url, NOTICE)
    assert raised.value.message.startswith("ConnectError")
    assert "secret-part" not in raised.value.message
