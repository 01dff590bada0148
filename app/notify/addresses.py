"""Checking and showing notification addresses: e-mail addresses and webhook URLs.

Webhook URLs must be absolute https. Plain http is accepted only outside
production and only to a loopback host, so tests and local setups can use a
receiver on 127.0.0.1. Slack and Teams webhook URLs carry their credential in
the path, so responses show only the scheme and host.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from email_validator import EmailNotValidError, validate_email

from app.core.errors import InvalidInput
from app.core.settings import Settings
from app.models.enums import NotificationKind

MAX_ADDRESS_CHARS = 500  # NotificationTarget.address


def check_address(kind: NotificationKind, address: str, *, settings: Settings) -> str:
    """The address in its normal form, or ``InvalidInput`` saying what is wrong with it."""
    if len(address) > MAX_ADDRESS_CHARS:
        raise InvalidInput(f"the address is longer than {MAX_ADDRESS_CHARS} characters")
    if kind is NotificationKind.email:
        return check_email(address)
    return check_webhook_url(address, settings=settings)


def check_email(address: str) -> str:
    """A syntactically valid e-mail address, normalised (no DNS lookup)."""
    try:
        return validate_email(address, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise InvalidInput(f"not a valid e-mail address: {exc}") from None


def check_webhook_url(url: str, *, settings: Settings) -> str:
    """An absolute https URL (http only to loopback outside production)."""
    parts = urlsplit(url)
    if not parts.hostname or parts.scheme not in ("https", "http"):
        raise InvalidInput("a webhook address must be an absolute https URL")
    if parts.scheme == "http" and (settings.is_production() or not _is_loopback(parts.hostname)):
        raise InvalidInput("a webhook address must use https")
    return url


def shown_address(kind: NotificationKind, address: str) -> str:
    """The address as responses show it: webhook URLs without their secret path."""
    if kind is NotificationKind.email:
        return address
    parts = urlsplit(address)
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}/…"


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
