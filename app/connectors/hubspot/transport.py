"""One HubSpot call end to end: limits, bearer token, 401 refresh, error mapping, retries."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx
import orjson

from app.connectors.clock import Clock
from app.connectors.hubspot.auth import TokenProvider
from app.connectors.hubspot.errors import (
    DailyLimitExceeded,
    HubSpotError,
    OutcomeUnknown,
    RateLimited,
    TransportError,
    error_from_response,
    json_body,
)
from app.connectors.hubspot.limiter import Bucket, PortalLimiter
from app.connectors.hubspot.retry import RetryPolicy, is_retriable, safe_for_non_idempotent

log = logging.getLogger(__name__)
# Failures raised before the request reached HubSpot: safe to retry any write.
_NEVER_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
NO_RESPONSE = 0  # the status ``on_response`` receives when a request got no answer


@dataclass(frozen=True, slots=True)
class Call:
    """A request to HubSpot, described as data."""

    method: str
    path: str
    params: Mapping[str, str] | None = None
    json: Any = None
    bucket: Bucket = Bucket.STANDARD
    idempotent: bool = True


class Transport:
    """Sends ``Call``s for one portal through its limiter, with auth and retries.

    ``on_response``, if given, sees the status of every HTTP attempt (``NO_RESPONSE``
    when none came back), e.g. for metrics; it must not raise.
    """

    def __init__(
        self,
        *,
        auth: TokenProvider,
        http: httpx.AsyncClient,
        limiter: PortalLimiter,
        retry: RetryPolicy,
        clock: Clock,
        base_url: str,
        on_response: Callable[[int], None] | None = None,
    ) -> None:
        self._auth = auth
        self._http = http
        self._limiter = limiter
        self._retry = retry
        self._clock = clock
        self._base_url = base_url.rstrip("/")
        self._on_response = on_response

    async def call(self, call: Call) -> Any:
        """The decoded JSON body (``None`` for 204), retrying what the policy allows."""
        started = self._clock.monotonic()
        attempt = 0
        while True:
            attempt += 1
            try:
                return await self._attempt(call)
            except HubSpotError as error:
                wait = self._retry_wait(call, error, attempt, started)
                if wait is None:
                    raise
                log.info(
                    "hubspot retry",
                    extra={"attempt": attempt, "wait_s": wait, "error": type(error).__name__,
                           "correlation_id": error.correlation_id},
                )  # fmt: skip
                await self._clock.sleep(wait)

    def _retry_wait(
        self, call: Call, error: HubSpotError, attempt: int, started: float
    ) -> float | None:
        if not call.idempotent and is_retriable(error) and not safe_for_non_idempotent(error):
            raise OutcomeUnknown(
                f"{call.method} write may have been applied; not retried: {error.message}",
                maybe_applied=True,
                status=error.status,
                correlation_id=error.correlation_id,
            ) from error
        return self._retry.delay(error, attempt, self._clock.monotonic() - started)

    async def _attempt(self, call: Call) -> Any:
        async with self._limiter.slot(call.bucket):
            response = await self._send_authorized(call)
        self._limiter.observe(response.headers, call.bucket)
        if response.status_code >= 400:
            raise self._failure(response, call.bucket)
        if response.status_code == 204 or not response.content:
            return None
        return json_body(response)

    def _failure(self, response: httpx.Response, bucket: Bucket) -> HubSpotError:
        error = error_from_response(response)
        if isinstance(error, DailyLimitExceeded):
            self._limiter.daily.exhaust()
        elif isinstance(error, RateLimited):
            self._limiter.throttled(bucket)
        return error

    async def _send_authorized(self, call: Call) -> httpx.Response:
        token = await self._auth.token()
        response = await self._send(call, token)
        if response.status_code == 401 and await self._auth.on_unauthorized(token):
            response = await self._send(call, await self._auth.token())
        return response

    async def _send(self, call: Call, token: str) -> httpx.Response:
        try:
            headers = {"Authorization": f"Bearer {token}"}
            body = None
            if call.json is not None:  # orjson: batch bodies are the client's hottest encoding
                body = orjson.dumps(call.json)
                headers["Content-Type"] = "application/json"
            response = await self._http.request(
                call.method, self._base_url + call.path, params=call.params,
                content=body, headers=headers,
            )  # fmt: skip
        except httpx.TransportError as exc:
            self._observe(NO_RESPONSE)
            raise TransportError(
                f"no response from HubSpot ({type(exc).__name__})",
                maybe_applied=not isinstance(exc, _NEVER_SENT),
            ) from None
        self._observe(response.status_code)
        return response

    def _observe(self, status: int) -> None:
        if self._on_response is not None:
            self._on_response(status)
