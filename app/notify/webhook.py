"""Sending one notification to a webhook: a JSON POST that Slack and Teams display.

Slack and Microsoft Teams incoming webhooks show the ``text`` field; other
receivers read the structured ``hubsync`` object.
"""

from __future__ import annotations

from typing import Any

import httpx

from app.notify.errors import WebhookError
from app.notify.messages import Notice

WEBHOOK_TIMEOUT = httpx.Timeout(10.0)
RESPONSE_EXCERPT_CHARS = 200


def webhook_payload(notice: Notice) -> dict[str, Any]:
    """The JSON body for ``notice``."""
    return {
        "text": f"{notice.subject}\n{notice.body}",
        "hubsync": {
            "interface_id": str(notice.interface_id) if notice.interface_id else None,
            "interface": notice.interface,
            "change": notice.change,
            "health": notice.health,
            "reason": notice.reason,
            "run_url": notice.run_url,
        },
    }


async def post_webhook(http: httpx.AsyncClient, url: str, notice: Notice) -> None:
    """POST ``notice`` to ``url`` without following redirects; ``WebhookError`` unless 2xx."""
    try:
        response = await http.post(
            url, json=webhook_payload(notice), timeout=WEBHOOK_TIMEOUT, follow_redirects=False
        )
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        raise WebhookError(f"{type(exc).__name__}: {exc}".replace(url, "[webhook]")) from None
    if not response.is_success:
        status = f"HTTP {response.status_code}"
        excerpt = " ".join(response.text[:RESPONSE_EXCERPT_CHARS].split())
        raise WebhookError(f"{status}: {excerpt}" if excerpt else status)
