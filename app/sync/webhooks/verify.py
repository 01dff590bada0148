"""Is a webhook request really from HubSpot? The check the receiver runs before anything else.

HubSpot signs every request to an OAuth app with ``X-HubSpot-Signature-v3``:
HMAC-SHA256 with the app's client secret over method + URI + raw body +
``X-HubSpot-Request-Timestamp``. When that header is present it alone decides,
and a request older (or newer) than five minutes is refused, so a captured
request cannot be replayed later.

For backward compatibility HubSpot also sends the older ``X-HubSpot-Signature``
(``v1`` on CRM webhook subscriptions, ``v2`` on workflow and CRM-card calls).
Those are checked only on requests that carry no v3 signature at all: they hold
no timestamp, so the (portal, event id) deduplication is their only defence
against replay. The URI is the public one HubSpot called, rebuilt from
``HUBSYNC_PUBLIC_URL`` and never from the ``Host`` header a proxy may rewrite.

While the app's client secret is rotated, deliveries signed with the previous
secret (queued or redelivered by HubSpot) still arrive: the previous secret is
accepted too until it is removed from the settings (``accepted_secrets``).
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from app.connectors.hubspot.signatures import MAX_TIMESTAMP_SKEW_MS, sign_v1, sign_v2, verify_v3
from app.core.errors import HubsyncError, Unauthenticated

V3_HEADER = "x-hubspot-signature-v3"
TIMESTAMP_HEADER = "x-hubspot-request-timestamp"
LEGACY_HEADER = "x-hubspot-signature"
LEGACY_VERSION_HEADER = "x-hubspot-signature-version"


class BadSignature(Unauthenticated):
    """The request is not signed by HubSpot with our client secret, or it is too old."""


class WebhooksNotConfigured(HubsyncError):
    """No client secret is set, so no webhook can be verified."""

    status_code = 503


@dataclass(frozen=True, slots=True)
class SignedRequest:
    """What a signature covers: the method, the public URI, the raw body, and the headers."""

    method: str
    uri: str
    body: bytes
    headers: Mapping[str, str]  # case-insensitive lookups: pass Starlette's ``Headers``


def public_uri(public_url: str, path: str, query: str) -> str:
    """The URI HubSpot called: the public base URL, the path, and the query as received."""
    return f"{public_url}{path}?{query}" if query else f"{public_url}{path}"


def accepted_secrets(current: str | None, previous: str | None) -> list[str]:
    """The client secrets a signature may use, the current one first; a previous secret
    alone (no current one) is accepted by nobody, so that webhooks stay unconfigured."""
    if not current:
        return []
    return [current, previous] if previous and previous != current else [current]


def verify(request: SignedRequest, *, secrets: Sequence[str], now_ms: int) -> str:
    """The signature version that vouches for ``request`` (``v3``, ``v2`` or ``v1``).

    ``secrets`` are the client secrets to accept, the current one first (more than
    one while a secret is being rotated). Raises ``BadSignature`` otherwise.
    """
    if not secrets:
        raise WebhooksNotConfigured("webhooks are not configured (no HubSpot client secret)")
    signature = request.headers.get(V3_HEADER)
    if signature is not None:
        _check_v3(request, signature, secrets, now_ms)
        return "v3"
    return _check_legacy(request, secrets)


def _check_v3(request: SignedRequest, signature: str, secrets: Sequence[str], now_ms: int) -> None:
    timestamp = request.headers.get(TIMESTAMP_HEADER, "")
    if not timestamp.isdigit():
        raise BadSignature("the v3 signature comes without a valid request timestamp")
    if abs(now_ms - int(timestamp)) > MAX_TIMESTAMP_SKEW_MS:
        raise BadSignature("the request timestamp is more than five minutes off")
    valid = verify_v3(
        list(secrets), request.method, request.uri, request.body, timestamp, signature, now_ms
    )
    if not valid:
        raise BadSignature("the v3 signature does not match")


def _check_legacy(request: SignedRequest, secrets: Sequence[str]) -> str:
    signature = request.headers.get(LEGACY_HEADER)
    version = request.headers.get(LEGACY_VERSION_HEADER, "").lower()
    if signature is None or version not in ("v1", "v2"):
        raise BadSignature("the request carries no HubSpot signature")
    for secret in secrets:
        if version == "v1":
            expected = sign_v1(secret, request.body)
        else:
            expected = sign_v2(secret, request.method, request.uri, request.body)
        if hmac.compare_digest(expected.encode(), signature.lower().encode()):
            return version
    raise BadSignature(f"the {version} signature does not match")
