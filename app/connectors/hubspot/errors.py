"""Errors raised by the HubSpot client, classified by what the sync runner does next.

    HubSpotError               status, category, sub_category, correlation_id, context
    ├── AuthError              401: token invalid or revoked          fatal      config
    │   └── RefreshFailed      refresh refused; token set is dead     fatal      config
    ├── ScopeError             403: lacks ``missing_scopes``          fatal      config
    ├── NotFound               404: no such record                    skippable  data
    ├── Conflict               409: value or object exists            skippable  data
    ├── ValidationError        400 and other 4xx: invalid input       skippable  data
    ├── RateLimited            429, with ``policy``/``retry_after``   retriable  transient
    │   └── DailyLimitExceeded daily budget spent                     fatal      transient
    ├── Unavailable            423 locked / 477 migrating             retriable  transient
    ├── ServerError            5xx                                    retriable  transient
    ├── TransportError         no response: timeout, connection      retriable  transient
    │   └── OutcomeUnknown     non-idempotent write may have landed   skippable  transient
    └── MalformedResponse      HTML or non-JSON where JSON was due    retriable  system

``Action`` tells the runner to stop the run, back off and retry, or quarantine the
record and go on; ``FailureType`` tells the user whether to fix credentials or
data or just wait. The status→class table is data (``_BY_STATUS``). No message
ever contains a token: HubSpot's own text is scrubbed of bearer-like strings.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from typing import Any, ClassVar

import httpx
import orjson

BODY_EXCERPT_CHARS = 200
_TOKEN_LIKE = re.compile(
    r"(?i)(bearer\s+\S+|\b(?:pat|na1|eu1|[a-z]{2}\d)-[\w-]{8,}|\bCJ[\w-]{20,})"
)


class Action(enum.StrEnum):
    """What the sync runner does with a failure."""

    FATAL = "fatal"  # stop the run
    RETRIABLE = "retriable"  # back off and try again
    SKIPPABLE = "skippable"  # quarantine the record, continue


class FailureType(enum.StrEnum):
    """Who can fix a failure: the user's setup, their data, time, or us."""

    CONFIG = "config"
    TRANSIENT = "transient"
    DATA = "data"
    SYSTEM = "system"


def scrub(text: str) -> str:
    """``text`` with anything that looks like a bearer token replaced."""
    return _TOKEN_LIKE.sub("[redacted]", text)


class HubSpotError(Exception):
    """Base of every HubSpot client failure; carries HubSpot's error fields."""

    action: ClassVar[Action] = Action.FATAL
    failure_type: ClassVar[FailureType] = FailureType.SYSTEM

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        category: str | None = None,
        sub_category: str | None = None,
        correlation_id: str | None = None,
        context: Mapping[str, list[str]] | None = None,
    ) -> None:
        self.message = scrub(message)
        self.status = status
        self.category = category
        self.sub_category = sub_category
        self.correlation_id = correlation_id
        self.context: dict[str, list[str]] = dict(context or {})
        super().__init__(self._describe())

    def _describe(self) -> str:
        parts = [f"HTTP {self.status}" if self.status else "", self.category or "", self.message]
        text = ": ".join(p for p in parts if p)
        return f"{text} (correlationId {self.correlation_id})" if self.correlation_id else text


class AuthError(HubSpotError):
    """HubSpot refused the credentials (401) or they cannot be refreshed."""

    failure_type = FailureType.CONFIG


class RefreshFailed(AuthError):
    """The OAuth refresh was refused; the stored token set must be re-authorised."""


class ScopeError(HubSpotError):
    """The token lacks the scopes this call needs (403)."""

    failure_type = FailureType.CONFIG

    @property
    def missing_scopes(self) -> list[str]:
        """The scopes HubSpot said are missing (``context.missingScopes``)."""
        return self.context.get("missingScopes", [])

    def _describe(self) -> str:
        scopes = ", ".join(self.missing_scopes)
        base = super()._describe()
        return f"{base} [missing scopes: {scopes}]" if scopes else base


class NotFound(HubSpotError):
    """The record or property does not exist (404)."""

    action = Action.SKIPPABLE
    failure_type = FailureType.DATA


class Conflict(HubSpotError):
    """The object or unique value exists already (409)."""

    action = Action.SKIPPABLE
    failure_type = FailureType.DATA

    @property
    def existing_id(self) -> str | None:
        """The id of the existing record, which HubSpot only puts in the message text."""
        found = re.search(r"Existing ID:\s*(\d+)", self.message)
        return found.group(1) if found else None


class ValidationError(HubSpotError):
    """HubSpot rejected the request or record as invalid (400 and other 4xx)."""

    action = Action.SKIPPABLE
    failure_type = FailureType.DATA


class RateLimited(HubSpotError):
    """HubSpot throttled the call (429); ``policy`` names the exhausted bucket."""

    action = Action.RETRIABLE
    failure_type = FailureType.TRANSIENT

    def __init__(
        self, message: str, *, policy: str | None, retry_after: float | None, **fields: Any
    ) -> None:
        self.policy = policy
        self.retry_after = retry_after
        super().__init__(message, **fields)


class DailyLimitExceeded(RateLimited):
    """The portal's daily request budget is spent; retry after its midnight."""

    action = Action.FATAL


class Unavailable(HubSpotError):
    """The record is locked (423) or the portal is migrating (477)."""

    action = Action.RETRIABLE
    failure_type = FailureType.TRANSIENT

    def __init__(self, message: str, *, retry_after: float | None, **fields: Any) -> None:
        self.retry_after = retry_after
        super().__init__(message, **fields)


class ServerError(HubSpotError):
    """HubSpot failed (5xx)."""

    action = Action.RETRIABLE
    failure_type = FailureType.TRANSIENT


class TransportError(HubSpotError):
    """No response arrived: timeout, connection refused or reset."""

    action = Action.RETRIABLE
    failure_type = FailureType.TRANSIENT

    def __init__(self, message: str, *, maybe_applied: bool, **fields: Any) -> None:
        self.maybe_applied = maybe_applied  # False only if the request never left
        super().__init__(message, **fields)


class OutcomeUnknown(TransportError):
    """A non-idempotent write failed mid-flight and may have been applied; not retried."""

    action = Action.SKIPPABLE


class MalformedResponse(HubSpotError):
    """The body was not the JSON HubSpot promises (often an HTML error page)."""

    action = Action.RETRIABLE


_BY_STATUS: dict[int, type[HubSpotError]] = {
    401: AuthError,
    403: ScopeError,
    404: NotFound,
    409: Conflict,
    423: Unavailable,
    429: RateLimited,
    477: Unavailable,
}
_DEFAULT_RETRY_AFTER: dict[int, float] = {423: 2.0}


def excerpt(text: str) -> str:
    """The first ``BODY_EXCERPT_CHARS`` characters of a body, scrubbed, for error text."""
    return scrub(text[:BODY_EXCERPT_CHARS])


def json_body(response: httpx.Response) -> Any:
    """The decoded JSON body, or ``MalformedResponse`` quoting the start of the body."""
    try:
        return orjson.loads(response.content)
    except orjson.JSONDecodeError:
        raise MalformedResponse(
            f"expected JSON, got {response.headers.get('content-type', 'no content type')}: "
            f"{excerpt(response.text)!r}",
            status=response.status_code,
        ) from None


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    try:
        return float(value) if value is not None else _DEFAULT_RETRY_AFTER.get(response.status_code)
    except ValueError:
        return _DEFAULT_RETRY_AFTER.get(response.status_code)


def _error_class(status: int, body: Mapping[str, Any]) -> type[HubSpotError]:
    if status == 429 and str(body.get("policyName", "")).upper() == "DAILY":
        return DailyLimitExceeded
    if status >= 500:
        return ServerError
    return _BY_STATUS.get(status, ValidationError)


def _context(raw: object) -> dict[str, list[str]]:
    if not isinstance(raw, Mapping):
        return {}
    return {
        str(k): [str(v) for v in vs] if isinstance(vs, list) else [str(vs)] for k, vs in raw.items()
    }


def error_fields(body: Mapping[str, Any], status: int | None) -> dict[str, Any]:
    """Constructor keywords for a ``HubSpotError`` from a HubSpot error body."""
    sub = body.get("subCategory")
    return {
        "status": status,
        "category": body.get("category") or body.get("errorType"),
        "sub_category": sub if isinstance(sub, str) else None,
        "correlation_id": body.get("correlationId"),
        "context": _context(body.get("context")),
    }


def error_from_response(response: httpx.Response) -> HubSpotError:
    """The typed error for a failed HubSpot response (any status ≥ 400)."""
    status = response.status_code
    try:
        body = json_body(response) if response.content else {}
    except MalformedResponse as exc:
        body = {"message": exc.message}
    if not isinstance(body, Mapping):
        body = {"message": excerpt(response.text)}
    cls = _error_class(status, body)
    message = str(body.get("message") or response.reason_phrase or "HubSpot error")
    fields = error_fields(body, status)
    if issubclass(cls, RateLimited):
        return cls(
            message, policy=body.get("policyName"), retry_after=_retry_after(response), **fields
        )
    if issubclass(cls, Unavailable):
        return cls(message, retry_after=_retry_after(response), **fields)
    return cls(message, **fields)
