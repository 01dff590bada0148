"""HubSpot request signatures (v1, v2, v3): computed by the sandbox, checked by the receiver.

v3 is HMAC-SHA256 over method + URI + raw body + timestamp (epoch ms), keyed
with the app's client secret and base64-encoded; requests older or newer than
five minutes are refused. v1 and v2 are plain SHA-256 hex digests kept for
apps that still send them (they carry no timestamp, so they do not stop replays).
"""

from __future__ import annotations

import base64
import hashlib
import hmac

MAX_TIMESTAMP_SKEW_MS = 5 * 60 * 1000
_V3_DECODE = {
    "%3A": ":", "%2F": "/", "%3F": "?", "%40": "@", "%21": "!", "%24": "$",
    "%27": "'", "%28": "(", "%29": ")", "%2A": "*", "%2C": ",", "%3B": ";",
}  # fmt: skip


def _decode_v3_uri(uri: str) -> str:
    for encoded, decoded in _V3_DECODE.items():
        uri = uri.replace(encoded, decoded).replace(encoded.lower(), decoded)
    return uri


def sign_v3(secret: str, method: str, uri: str, body: bytes, timestamp_ms: int) -> str:
    """The ``X-HubSpot-Signature-v3`` value for a request."""
    message = method.upper().encode() + _decode_v3_uri(uri).encode() + body
    message += str(timestamp_ms).encode()
    digest = hmac.new(secret.encode(), message, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def verify_v3(
    secrets: list[str],
    method: str,
    uri: str,
    body: bytes,
    timestamp_ms: str,
    signature: str,
    now_ms: int,
) -> bool:
    """Whether a v3 signature is valid for any of ``secrets`` (rotation) and fresh."""
    try:
        timestamp = int(timestamp_ms)
    except ValueError:
        return False
    if abs(now_ms - timestamp) > MAX_TIMESTAMP_SKEW_MS:
        return False
    for secret in secrets:
        for candidate in {_decode_v3_uri(uri), uri}:
            message = method.upper().encode() + candidate.encode() + body + timestamp_ms.encode()
            digest = hmac.new(secret.encode(), message, hashlib.sha256).digest()
            if hmac.compare_digest(base64.b64encode(digest).decode(), signature):
                return True
    return False


def sign_v1(secret: str, body: bytes) -> str:
    """The legacy v1 ``X-HubSpot-Signature``: SHA-256 of secret + body, hex."""
    return hashlib.sha256(secret.encode() + body).hexdigest()


def sign_v2(secret: str, method: str, uri: str, body: bytes) -> str:
    """The legacy v2 ``X-HubSpot-Signature``: SHA-256 of secret + method + URI + body, hex."""
    return hashlib.sha256(
        secret.encode() + method.upper().encode() + uri.encode() + body
    ).hexdigest()
