"""One HTTP client per rest connector: signing, rate limit, retries, and safe error text.

Proxy variables are ignored (``trust_env=False``), redirects are not followed,
TLS is verified, bodies are capped in size. Errors carry a short status line
(method, path, status), never a body, a query string or a credential.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import httpx

from app.connectors.clock import Clock
from app.connectors.errors import (
    ConnectorAuthError,
    ConnectorConfigError,
    ConnectorError,
    ConnectorUnavailable,
)
from app.connectors.rest.config import RestConfig
from app.connectors.rest.records import json_default
from app.connectors.rest.retry import TRANSPORT_ERRORS, RetryPolicy, retry_after

Params = Mapping[str, str | int]


@dataclass(frozen=True, slots=True)
class Reply:
    """A response read in full: status, headers and body bytes."""

    method: str
    url: httpx.URL
    status: int
    headers: httpx.Headers
    content: bytes

    @property
    def path(self) -> str:
        """The request path, without query (which may hold a cursor or a filter)."""
        return self.url.path

    @property
    def what(self) -> str:
        """A short status line for messages: ``GET /customers: HTTP 503``."""
        return f"{self.method} {self.path}: HTTP {self.status}"

    def json(self) -> Any:
        """The body as JSON; an error naming the request when it is not JSON."""
        try:
            return json.loads(self.content)
        except ValueError:
            raise ConnectorError(f"{self.what} answered with a body that is not JSON") from None


class Signer(Protocol):
    """Adds credentials to requests; ``invalidate`` drops a cached token."""

    async def headers(self, http: HttpClient) -> dict[str, str]:
        """The headers that sign a request."""
        ...

    def invalidate(self) -> bool:
        """Forget a cached token; True when a fresh one may be fetched."""
        ...


class RateLimiter:
    """Spaces request starts at least ``1 / per_second`` apart (none when unset)."""

    def __init__(self, per_second: float | None, clock: Clock) -> None:
        self._interval = 1.0 / per_second if per_second else 0.0
        self._clock = clock
        self._next = 0.0
        self._lock = asyncio.Lock()

    async def wait(self) -> None:
        """Wait for the next free slot, in arrival order."""
        if not self._interval:
            return
        async with self._lock:
            now = self._clock.monotonic()
            wait = self._next - now
            self._next = max(now, self._next) + self._interval
            if wait > 0:
                await self._clock.sleep(wait)


def raise_for_status(reply: Reply) -> Reply:
    """Raise for credentials refused, an unavailable system or a redirect; else return."""
    if reply.status in (401, 403):
        raise ConnectorAuthError(f"{reply.what}: the API refused the credentials")
    if reply.status == 429 or reply.status >= 500:
        raise ConnectorUnavailable(f"{reply.what}: the API is unavailable or rate-limited")
    if 300 <= reply.status < 400:
        raise ConnectorConfigError("base_url", f"{reply.what}: redirects are not followed")
    return reply


class HttpClient:
    """Sends requests with credentials, spacing and retries; returns ``Reply`` objects."""

    def __init__(
        self,
        config: RestConfig,
        signer: Signer,
        clock: Clock,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._config = config
        self._signer = signer
        self._clock = clock
        self._limiter = RateLimiter(config.rate_limit_per_second, clock)
        self._policy = RetryPolicy(max_retries=config.max_retries, budget_s=config.timeout_s)
        self._http = httpx.AsyncClient(
            base_url=config.base_url,
            timeout=httpx.Timeout(config.timeout_s),
            trust_env=False,
            follow_redirects=False,
            verify=True,
            transport=transport,
        )

    async def request(
        self,
        method: str,
        url: str,
        *,
        params: Params | None = None,
        body: Any = None,
        form: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        sign: bool = True,
    ) -> Reply:
        """Send with retries; raise ``raise_for_status`` errors, return any other reply."""
        request = self._build(method, url, params, body, form)
        request.headers.update(headers or {})
        started, attempt, resigned = self._clock.monotonic(), 0, False
        while True:
            attempt += 1
            reply = await self._attempt(request, sign, started, attempt)
            if reply is None:
                continue
            if reply.status == 401 and sign and not resigned and self._signer.invalidate():
                resigned = True
                continue
            wait = self._policy.after_status(
                method, reply.status, attempt, retry_after(reply.headers, self._clock.time())
            )
            if wait is None:
                return raise_for_status(reply)
            await self._clock.sleep(wait)

    def _build(
        self,
        method: str,
        url: str,
        params: Params | None,
        body: Any,
        form: Mapping[str, str] | None,
    ) -> httpx.Request:
        content = None if body is None else json.dumps(body, default=json_default).encode()
        headers = {"Accept": "application/json"}
        if content is not None:
            headers["Content-Type"] = "application/json"
        return self._http.build_request(
            method, url, params=params, content=content, data=form, headers=headers
        )

    async def _attempt(
        self, request: httpx.Request, sign: bool, started: float, attempt: int
    ) -> Reply | None:
        """One try: the reply, or None after a transport failure worth retrying."""
        if sign:
            request.headers.update(await self._signer.headers(self))
        await self._limiter.wait()
        try:
            async with asyncio.timeout(self._config.timeout_s):
                return await self._send(request)
        except TRANSPORT_ERRORS as exc:
            elapsed = self._clock.monotonic() - started
            wait = self._policy.after_error(request.method, exc, attempt, elapsed)
            if wait is None:
                what = f"{request.method} {request.url.path}"
                raise ConnectorUnavailable(
                    f"{what}: no answer within {self._config.timeout_s:g} s ({type(exc).__name__})"
                ) from None
            await self._clock.sleep(wait)
            return None

    async def _send(self, request: httpx.Request) -> Reply:
        response = await self._http.send(request, stream=True)
        try:
            content = await self._read_capped(response)
        finally:
            await response.aclose()
        return Reply(request.method, request.url, response.status_code, response.headers, content)

    async def _read_capped(self, response: httpx.Response) -> bytes:
        chunks, size = [], 0
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > self._config.max_response_bytes:
                raise ConnectorError(
                    f"{response.request.method} {response.request.url.path}: the response is "
                    f"larger than max_response_bytes ({self._config.max_response_bytes})"
                )
            chunks.append(chunk)
        return b"".join(chunks)

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()
