"""Check HTTP exchanges with the sandbox against HubSpot's official OpenAPI specs.

Every request a client sends and every response the sandbox gives on an
endpoint the specs describe is validated with openapi-core. Exchanges are
recorded by wrapping the client's transport, so a whole scenario can be
checked at once.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
from openapi_core import OpenAPI
from openapi_core.datatypes import RequestParameters
from openapi_core.templating.paths.exceptions import (
    OperationNotFound,
    PathNotFound,
    ServerNotFound,
)
from werkzeug.datastructures import Headers, ImmutableMultiDict

from tests.databases import unavailable

SPEC_DIR = Path(
    os.environ.get(
        "HUBSYNC_HUBSPOT_SPECS",
        Path(__file__).resolve().parents[2] / "shared" / "hubspot-openapi",
    )
)
HUBSPOT_HOST = "https://api.hubapi.com"
# Most specific first: the typed object specs before the generic objects spec.
UNMATCHED = (PathNotFound, OperationNotFound, ServerNotFound)
SPEC_FILES = (
    "contacts-v3.json",
    "companies-v3.json",
    "deals-v3.json",
    "objects-v3.json",
    "properties-v3.json",
    "associations-v4.json",
    "oauth-v1.json",
    "webhooks-v3.json",
)


class SpecRequest:
    """An httpx request seen through openapi-core's request protocol."""

    def __init__(self, request: httpx.Request) -> None:
        self._request = request
        query = parse_qs(urlsplit(str(request.url)).query, keep_blank_values=True)
        self.parameters = RequestParameters(
            query=ImmutableMultiDict(query),
            header=Headers(dict(request.headers)),
            cookie=ImmutableMultiDict({}),
        )

    @property
    def host_url(self) -> str:
        return HUBSPOT_HOST

    @property
    def path(self) -> str:
        return self._request.url.path

    @property
    def method(self) -> str:
        return self._request.method.lower()

    @property
    def body(self) -> bytes | None:
        return self._request.content or None

    @property
    def content_type(self) -> str:
        return str(self._request.headers.get("content-type", ""))


class SpecResponse:
    """An httpx response seen through openapi-core's response protocol."""

    def __init__(self, response: httpx.Response) -> None:
        self._response = response

    @property
    def data(self) -> bytes:
        return self._response.content

    @property
    def status_code(self) -> int:
        return self._response.status_code

    @property
    def content_type(self) -> str:
        return str(self._response.headers.get("content-type", ""))

    @property
    def headers(self) -> Headers:
        return Headers(dict(self._response.headers))


@cache
def _spec(name: str) -> OpenAPI:
    path = SPEC_DIR / name
    if not path.exists():
        unavailable(f"HubSpot's OpenAPI spec {path} is missing (set HUBSYNC_HUBSPOT_SPECS)")
    return OpenAPI.from_dict(json.loads(path.read_text(encoding="utf-8")))


def spec_for(request: httpx.Request) -> OpenAPI | None:
    """The first spec that describes the request's path and method, if any."""
    wrapped = SpecRequest(request)
    for name in SPEC_FILES:
        openapi = _spec(name)
        errors = openapi.unmarshal_request(wrapped).errors
        if not any(isinstance(e, UNMATCHED) for e in errors):
            return openapi
    return None


# Where HubSpot's specs and HubSpot's behaviour part ways (hubspot-api.md §1.5): the spec
# types search ``sorts`` as strings, the API takes {propertyName, direction} objects.
KNOWN_SPEC_DEVIATIONS = (
    "'direction': 'ASCENDING'} is not of type 'string'",
    "'direction': 'DESCENDING'} is not of type 'string'",
)


def describe(errors: Iterable[Exception]) -> str:
    """openapi-core's errors with the schema errors behind them."""
    parts = []
    for error in errors:
        cause = error.__cause__ or error
        details = getattr(cause, "schema_errors", None) or [cause]
        messages = [str(d).splitlines()[0] for d in details]
        messages = [m for m in messages if not m.endswith(KNOWN_SPEC_DEVIATIONS)]
        if messages:
            parts.append("; ".join(messages))
    return " | ".join(parts)


def problems(request: httpx.Request, response: httpx.Response) -> list[str]:
    """What is wrong with an exchange by the specs (empty when it conforms or is unspecified)."""
    openapi = spec_for(request)
    if openapi is None:
        return []
    found = []
    wrapped = SpecRequest(request)
    request_result = openapi.unmarshal_request(wrapped)
    if request_result.errors and (issues := describe(request_result.errors)):
        found.append(f"request {request.method} {request.url.path}: {issues}")
    if response.status_code == 204 and not response.content:
        return found  # the specs declare 204 with an empty content map openapi-core can't match
    response_result = openapi.unmarshal_response(wrapped, SpecResponse(response))
    if response_result.errors and (issues := describe(response_result.errors)):
        found.append(
            f"response {response.status_code} to {request.method} {request.url.path}: "
            f"{issues} {response.text[:300]}"
        )
    return found


@dataclass
class RecordingTransport(httpx.AsyncBaseTransport):
    """Passes requests on and keeps every exchange for spec checks afterwards."""

    inner: httpx.AsyncBaseTransport
    exchanges: list[tuple[httpx.Request, httpx.Response]] = field(default_factory=list)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        await response.aread()
        self.exchanges.append((request, response))
        return response

    def problems(self) -> list[str]:
        """Spec violations over every recorded exchange."""
        return [p for request, response in self.exchanges for p in problems(request, response)]

    def covered(self) -> set[str]:
        """The ``METHOD path`` of every exchange that a spec describes."""
        return {f"{r.method} {r.url.path}" for r, _ in self.exchanges if spec_for(r) is not None}
