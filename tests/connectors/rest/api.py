"""A small JSON API of customers, served over loopback to test the rest connector for real.

One ``CustomersApi`` instance is one API style: its pagination (page, offset,
cursor, Link header or none), the format of its inclusive ``updated_since``
filter, and its auth (none, bearer, basic, API key, OAuth2 client credentials).
Lists are ordered by (updated_at, id) and include soft-deleted records with
``deleted: true``. Tests reach the store directly and queue faults (a status
with ``Retry-After``, or a delay) for the next requests.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import secrets
import threading
import time
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, Literal

from fastapi import Depends, FastAPI, HTTPException, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from starlette.datastructures import QueryParams

from tests.live_server import listening_socket, serving

Pagination = Literal["page", "offset", "cursor", "link_header", "none"]
SinceFormat = Literal["iso", "epoch_ms", "epoch_s"]
Auth = Literal["none", "bearer", "basic", "api_key", "oauth2_client_credentials"]

TOKEN = "bearer-token-s3cret"
USERNAME, PASSWORD = "api-user", "basic-pass-s3cret"
API_KEY_HEADER, API_KEY = "X-Api-Key", "api-key-s3cret"
CLIENT_ID, CLIENT_SECRET = "client-1", "client-secret-s3cret"
SECRETS = (TOKEN, PASSWORD, API_KEY, CLIENT_SECRET)
RECORDS_PATH: dict[str, str] = {
    "page": "data.items",
    "offset": "items",
    "cursor": "data",
    "link_header": "",
    "none": "",
}
TICK = dt.timedelta(milliseconds=1)


class CustomerIn(BaseModel):
    """A customer as clients send it; ``updated_at`` and ``deleted`` belong to the API."""

    model_config = ConfigDict(extra="ignore")

    id: str | None = None
    name: str
    amount: float


class CustomerPatch(BaseModel):
    """A partial update."""

    model_config = ConfigDict(extra="ignore")

    name: str | None = None
    amount: float | None = None


class Store:
    """Customers by id, soft-deleted with a flag; shared by the server thread and the tests."""

    def __init__(self) -> None:
        self.rows: dict[str, dict[str, Any]] = {}
        self.lock = threading.Lock()

    def _stamp(self) -> dt.datetime:
        """After every stamp so far (the API's own clock never goes back)."""
        latest = max((r["updated_at"] for r in self.rows.values()), default=None)
        return latest + TICK if latest else dt.datetime.now(dt.UTC)

    def put(self, key: str, values: dict[str, Any], at: dt.datetime | None = None) -> bool:
        """Create or replace a customer (reviving a deleted one); True when it was new."""
        with self.lock:
            new = key not in self.live()
            stamp = (at or self._stamp()).astimezone(dt.UTC)
            self.rows[key] = {**values, "id": key, "updated_at": stamp, "deleted": False}
            return new

    def patch(self, key: str, values: dict[str, Any], at: dt.datetime | None = None) -> None:
        """Change some fields of a live customer and stamp it."""
        with self.lock:
            stamp = (at or self._stamp()).astimezone(dt.UTC)
            self.rows[key] = {**self.rows[key], **values, "updated_at": stamp}

    def remove(self, key: str) -> bool:
        """Soft-delete a live customer and stamp it; False when there was none."""
        with self.lock:
            if key not in self.live():
                return False
            self.rows[key] = {**self.rows[key], "deleted": True, "updated_at": self._stamp()}
            return True

    def live(self) -> dict[str, dict[str, Any]]:
        """The customers not deleted."""
        return {k: r for k, r in self.rows.items() if not r["deleted"]}

    def since(self, moment: dt.datetime | None) -> list[dict[str, Any]]:
        """All customers (deleted ones too) changed at or after ``moment``, oldest first."""
        with self.lock:
            rows = [r for r in self.rows.values() if moment is None or r["updated_at"] >= moment]
        return sorted(rows, key=lambda r: (r["updated_at"], r["id"]))


@dataclass(frozen=True)
class Seen:
    """One request the API received (after the token endpoint, which is not logged)."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]


@dataclass
class Fault:
    """What the next guarded request gets instead of its answer: a status, or a delay first."""

    status: int | None = None
    retry_after: str | None = None
    delay_s: float = 0.0


@dataclass
class CustomersApi:
    """One style of the customers API, with its store, faults and a log of requests."""

    pagination: Pagination = "page"
    since_format: SinceFormat = "iso"
    auth: Auth = "none"
    token_ttl_s: int = 3600
    store: Store = field(default_factory=Store)
    faults: deque[Fault] = field(default_factory=deque)
    seen: list[Seen] = field(default_factory=list)
    tokens: dict[str, float] = field(default_factory=dict)  # access token → expiry (monotonic)
    token_requests: int = 0

    @property
    def records_path(self) -> str:
        """Where this style puts the records in a list response."""
        return RECORDS_PATH[self.pagination]

    def fail(self, status: int, times: int = 1, retry_after: str | None = None) -> None:
        """Answer the next ``times`` guarded requests with ``status``."""
        self.faults.extend(Fault(status, retry_after) for _ in range(times))

    def delay(self, seconds: float, times: int = 1) -> None:
        """Make the next ``times`` guarded requests wait ``seconds`` before answering."""
        self.faults.extend(Fault(delay_s=seconds) for _ in range(times))

    def parse_since(self, raw: str) -> dt.datetime:
        """The ``updated_since`` value in this style's format."""
        if self.since_format == "iso":
            return dt.datetime.fromisoformat(raw).astimezone(dt.UTC)
        scale = 1000 if self.since_format == "epoch_ms" else 1
        return dt.datetime.fromtimestamp(int(raw) / scale, dt.UTC)

    def authorised(self, request: Request) -> bool:
        """Whether the request carries this style's credentials."""
        header = request.headers.get("authorization", "")
        match self.auth:
            case "bearer":
                return header == f"Bearer {TOKEN}"
            case "basic":
                return header == basic(USERNAME, PASSWORD)
            case "api_key":
                return request.headers.get(API_KEY_HEADER) == API_KEY
            case "oauth2_client_credentials":
                token = header.removeprefix("Bearer ")
                return self.tokens.get(token, 0.0) > time.monotonic()
        return True

    async def guard(self, request: Request) -> None:
        """Log the request, play a queued fault, and check the credentials."""
        query = dict(request.query_params)
        self.seen.append(Seen(request.method, request.url.path, query, dict(request.headers)))
        fault = self.faults.popleft() if self.faults else None
        if fault and fault.delay_s:
            await asyncio.sleep(fault.delay_s)
        if fault and fault.status:
            headers = {"Retry-After": fault.retry_after} if fault.retry_after else None
            raise HTTPException(fault.status, "injected fault", headers=headers)
        if not self.authorised(request):
            raise HTTPException(401, "unauthorised")

    def issue_token(self, client_id: str, client_secret: str) -> dict[str, Any]:
        """A new access token for the right client credentials."""
        self.token_requests += 1
        if (client_id, client_secret) != (CLIENT_ID, CLIENT_SECRET):
            raise HTTPException(401, "invalid_client")
        token = secrets.token_urlsafe(16)
        self.tokens[token] = time.monotonic() + self.token_ttl_s
        return {"access_token": token, "token_type": "bearer", "expires_in": self.token_ttl_s}


def basic(username: str, password: str) -> str:
    """An ``Authorization: Basic`` header value."""
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


def as_json(row: dict[str, Any]) -> dict[str, Any]:
    """A stored customer as the API shows it."""
    return {**row, "updated_at": row["updated_at"].isoformat()}


def first_index(pagination: Pagination, q: QueryParams, size: int) -> int:
    """The index of the first record the query asks for."""
    if pagination in ("page", "link_header"):
        return (int(q.get("page", 1)) - 1) * size
    if pagination == "offset":
        return int(q.get("offset", 0))
    if pagination == "cursor":
        return int(base64.urlsafe_b64decode(q.get("cursor") or "MA=="))
    return 0


def page_of(api: CustomersApi, request: Request, rows: list[dict[str, Any]]) -> Response:
    """One page of ``rows`` in the body and headers of the API's pagination style."""
    q = request.query_params
    size = int(q.get("per_page") or q.get("limit") or 100)
    start = first_index(api.pagination, q, size)
    chunk = rows if api.pagination == "none" else rows[start : start + size]
    more = api.pagination != "none" and start + size < len(rows)
    items = [as_json(r) for r in chunk]
    if api.pagination == "page":
        return JSONResponse({"data": {"items": items}, "page": q.get("page", 1)})
    if api.pagination == "offset":
        return JSONResponse({"items": items, "total": len(rows)})
    if api.pagination == "cursor":
        token = base64.urlsafe_b64encode(str(start + size).encode()).decode() if more else None
        return JSONResponse({"data": items, "meta": {"next_cursor": token}})
    headers = {}
    if more:
        following = request.url.include_query_params(page=int(q.get("page", 1)) + 1)
        headers["Link"] = f'<{following}>; rel="next", <{request.url}>; rel="self"'
    return JSONResponse(items, headers=headers)


@asynccontextmanager
async def served(api: CustomersApi) -> AsyncIterator[str]:
    """Serve ``api`` over loopback for the block; yields its base URL."""
    async with serving(build_app(api), listening_socket()) as base_url:
        yield base_url


def build_app(api: CustomersApi) -> FastAPI:
    """The FastAPI app serving ``api``."""
    app = FastAPI()
    guarded = [Depends(api.guard)]

    @app.post("/oauth/token")
    async def token(request: Request) -> dict[str, Any]:
        form = await request.form()
        if form.get("grant_type") != "client_credentials":
            raise HTTPException(400, "unsupported_grant_type")
        user, _, password = (
            base64.b64decode(request.headers.get("authorization", "Basic ").removeprefix("Basic "))
            .decode()
            .partition(":")
        )
        return api.issue_token(user, password)

    @app.get("/health", dependencies=guarded)
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/customers", dependencies=guarded)
    async def list_customers(request: Request) -> Response:
        raw = request.query_params.get("updated_since")
        rows = api.store.since(api.parse_since(raw) if raw else None)
        return page_of(api, request, rows)

    @app.get("/customers/{key}", dependencies=guarded)
    async def get_customer(key: str) -> dict[str, Any]:
        row = api.store.live().get(key)
        if row is None:
            raise HTTPException(404, "not found")
        return as_json(row)

    @app.post("/customers", dependencies=guarded, status_code=201)
    async def create_customer(body: CustomerIn) -> dict[str, Any]:
        key = body.id or secrets.token_hex(4)
        if key in api.store.live():
            raise HTTPException(409, "exists")
        api.store.put(key, body.model_dump(exclude={"id"}))
        return as_json(api.store.rows[key])

    @app.put("/customers/{key}", dependencies=guarded)
    async def put_customer(key: str, body: CustomerIn, response: Response) -> dict[str, Any]:
        if api.store.put(key, body.model_dump(exclude={"id"})):
            response.status_code = 201
        return as_json(api.store.rows[key])

    @app.patch("/customers/{key}", dependencies=guarded)
    async def patch_customer(key: str, body: CustomerPatch) -> dict[str, Any]:
        if key not in api.store.live():
            raise HTTPException(404, "not found")
        api.store.patch(key, body.model_dump(exclude_none=True))
        return as_json(api.store.rows[key])

    @app.delete("/customers/{key}", dependencies=guarded, status_code=204)
    async def delete_customer(key: str) -> Response:
        if not api.store.remove(key):
            raise HTTPException(404, "not found")
        return Response(status_code=204)

    return app


PAGINATION_SETTINGS: dict[str, dict[str, Any]] = {
    "page": {"type": "page", "page_param": "page", "size_param": "per_page"},
    "offset": {"type": "offset", "offset_param": "offset", "size_param": "limit"},
    "cursor": {"type": "cursor", "next_cursor_path": "meta.next_cursor", "size_param": "limit"},
    "link_header": {"type": "link_header", "size_param": "per_page"},
    "none": {"type": "none"},
}


def auth_settings(api: CustomersApi, base_url: str) -> dict[str, Any]:
    """The ``auth`` settings matching the API's auth style."""
    return {
        "none": {"type": "none"},
        "bearer": {"type": "bearer", "token": TOKEN},
        "basic": {"type": "basic", "username": USERNAME, "password": PASSWORD},
        "api_key": {"type": "api_key", "header": API_KEY_HEADER, "value": API_KEY},
        "oauth2_client_credentials": {
            "type": "oauth2_client_credentials",
            "token_url": f"{base_url}/oauth/token",
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "scope": "customers",
        },
    }[api.auth]


def client_settings(api: CustomersApi, base_url: str, page_size: int = 50) -> dict[str, Any]:
    """Valid rest connector settings for ``api`` served at ``base_url``."""
    customers = {
        "path": "/customers",
        "key": "id",
        "cursor": "updated_at",
        "records_path": api.records_path,
        "fields": {"id": "string", "name": "string", "amount": "number", "updated_at": "datetime"},
        "pagination": {**PAGINATION_SETTINGS[api.pagination], "page_size": page_size},
        "updated_since": {"param": "updated_since", "format": api.since_format},
        "deleted_flag": "deleted",
        "write": {"method": "PUT", "item_path": "/customers/{id}"},
        "delete": {"method": "DELETE"},
    }
    return {
        "base_url": base_url,
        "auth": auth_settings(api, base_url),
        "objects": {"customers": customers},
        "health_path": "/health",
        "timeout_s": 5.0,
        "max_retries": 3,
    }
