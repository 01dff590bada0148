"""Sending one notification by e-mail over SMTP (``HUBSYNC_SMTP_*``)."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Literal
from urllib.parse import urlsplit

import aiosmtplib

from app.core.settings import Settings
from app.notify.errors import EmailError, NotConfigured
from app.notify.messages import Notice

SMTP_TIMEOUT_SECONDS = 30.0
SMTP_NOT_CONFIGURED = "SMTP ist nicht konfiguriert (HUBSYNC_SMTP_HOST)"
# smtp_security → (use_tls: TLS from the first byte, start_tls: upgrade after EHLO)
_TLS_MODES: dict[Literal["starttls", "tls", "none"], tuple[bool, bool]] = {
    "starttls": (False, True),
    "tls": (True, False),
    "none": (False, False),
}


def email_message(settings: Settings, *, to: str, notice: Notice) -> EmailMessage:
    """The e-mail for ``notice``: plain text, marked as sent automatically."""
    message = EmailMessage()
    message["From"] = settings.smtp_from
    message["To"] = to
    message["Subject"] = notice.subject
    message["Date"] = formatdate(localtime=False, usegmt=True)
    message["Message-ID"] = make_msgid(domain=urlsplit(settings.public_url).hostname)
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no out-of-office replies
    message.set_content(notice.body)
    return message


async def send_email(settings: Settings, *, to: str, notice: Notice) -> None:
    """Send ``notice`` to ``to``; ``NotConfigured`` without an SMTP host, else ``EmailError``."""
    if settings.smtp_host is None:
        raise NotConfigured(SMTP_NOT_CONFIGURED)
    use_tls, start_tls = _TLS_MODES[settings.smtp_security]
    password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
    try:
        await aiosmtplib.send(
            email_message(settings, to=to, notice=notice),
            hostname=settings.smtp_host, port=settings.smtp_port,
            username=settings.smtp_username, password=password,
            use_tls=use_tls, start_tls=start_tls, timeout=SMTP_TIMEOUT_SECONDS,
        )  # fmt: skip
    except (aiosmtplib.SMTPException, OSError) as exc:  # TimeoutError is an OSError
        where = f"{settings.smtp_host}:{settings.smtp_port}"
        raise EmailError(f"SMTP {where}: {type(exc).__name__}: {exc}") from None
