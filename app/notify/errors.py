"""Why a notification could not be delivered.

    NotifyError          base: a message safe to store as the delivery's ``last_error``
    ├── NotConfigured    permanent: the transport is not set up (no SMTP host); not retried
    ├── EmailError       the SMTP server could not be reached or refused the message
    └── WebhookError     the receiver could not be reached or answered other than 2xx

Messages never contain a webhook URL: Slack and Teams URLs are credentials.
"""

from __future__ import annotations

from typing import ClassVar


class NotifyError(Exception):
    """A message could not be delivered; ``permanent`` ones are not retried."""

    permanent: ClassVar[bool] = False

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotConfigured(NotifyError):
    """The transport is not configured, so retrying cannot help."""

    permanent = True


class EmailError(NotifyError):
    """The SMTP server could not be reached or refused the message."""


class WebhookError(NotifyError):
    """The webhook receiver could not be reached or did not answer with 2xx."""
