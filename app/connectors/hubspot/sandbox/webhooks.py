"""HubSpot's webhook subscription API and a signed, batching, retrying delivery dispatcher.

``WebhookSettings`` holds one app's target URL, throttling and subscriptions; the
router (``/webhooks/v3/{appId}/…``) edits it and ``WebhookDispatcher`` reads it.
The dispatcher is the sandbox's ``EventSink``: every change is matched against
the active subscriptions when it happens, queued, sent in batches of up to 100
events signed v1 and v3 with the app's client secret, and retried with growing,
randomised delays (same ``eventId``, rising ``attemptNumber``) until it gives up.

Auth of the subscription API: HubSpot wants the developer API key in
``?hapikey=``. If ``WebhookSettings.developer_api_key`` is set, requests must
carry it; if it is None the API is open (a local sandbox).
"""

from __future__ import annotations

import asyncio
import hmac
import itertools
import json
import random
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar
from urllib.parse import urlsplit

import httpx
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute
from pydantic import BaseModel, Field, ValidationError

from app.connectors.hubspot.sandbox.errors import HubSpotError
from app.connectors.hubspot.sandbox.events import ChangeEvent, LinkChange
from app.connectors.hubspot.signatures import sign_v1, sign_v3
from app.core.logging import get_logger

log = get_logger("hubsync.sandbox.webhooks")

OBJECT_TYPE_IDS = {
    "contact": "0-1", "company": "0-2", "deal": "0-3",
    "ticket": "0-5", "product": "0-7", "line_item": "0-8",
}  # fmt: skip
_ACTIONS = {
    "contact": ("associationChange", "creation", "deletion", "merge", "privacyDeletion",
                "propertyChange", "restore"),
    "company": ("associationChange", "creation", "deletion", "merge", "propertyChange", "restore"),
    "deal": ("associationChange", "creation", "deletion", "merge", "propertyChange", "restore"),
    "ticket": ("associationChange", "creation", "deletion", "merge", "propertyChange", "restore"),
    "line_item": ("associationChange", "creation", "deletion", "merge", "propertyChange",
                  "restore"),
    "product": ("creation", "deletion", "merge", "propertyChange", "restore"),
    "object": ("associationChange", "creation", "deletion", "merge", "propertyChange", "restore"),
    "conversation": ("creation", "deletion", "newMessage", "privacyDeletion", "propertyChange"),
    "event": ("completed",),
}  # fmt: skip
EVENT_TYPES = frozenset(
    f"{kind}.{action}" for kind, actions in _ACTIONS.items() for action in actions
)
_CHANGE_FLAGS = {"creation": "NEW", "deletion": "DELETED"}
_USER_AGENT = "HubSpot Connect 2.0 (http://dev.hubspot.com/) - hubsync sandbox"
_Model = TypeVar("_Model", bound=BaseModel)


def _iso(epoch_seconds: float) -> str:
    stamp = datetime.fromtimestamp(epoch_seconds, UTC).isoformat(timespec="milliseconds")
    return stamp.replace("+00:00", "Z")


def _link_fields(
    from_type_id: str, from_id: int, link: LinkChange, generic: bool
) -> dict[str, object]:
    """The fields of an ``associationChange`` event: HubSpot's (``associationType``,
    ``fromObjectId``, …), and on ``object.*`` subscriptions the generic ones too
    (``fromObjectTypeId``, ``associationTypeId``, …)."""
    fields: dict[str, object] = {
        "associationType": link.name, "fromObjectId": from_id, "toObjectId": link.to_object_id,
        "associationRemoved": link.removed, "isPrimaryAssociation": link.primary,
    }  # fmt: skip
    if generic:
        fields |= {
            "fromObjectTypeId": from_type_id, "toObjectTypeId": link.to_type_id,
            "associationTypeId": link.type_id, "associationCategory": link.category,
        }  # fmt: skip
    return fields


# -- configuration ----------------------------------------------------------------------


@dataclass(slots=True)
class TargetSettings:
    """Where an app's events go and how many requests may be in flight at once."""

    target_url: str
    max_concurrent_requests: int
    created_at: float
    updated_at: float

    def to_json(self) -> dict[str, object]:
        """HubSpot's ``SettingsResponse``."""
        return {
            "targetUrl": self.target_url,
            "throttling": {
                "maxConcurrentRequests": self.max_concurrent_requests,
                "period": "SECONDLY",
            },
            "createdAt": _iso(self.created_at),
            "updatedAt": _iso(self.updated_at),
        }


@dataclass(slots=True)
class Subscription:
    """One webhook subscription of the app (``active`` ones fire)."""

    id: int
    event_type: str
    active: bool
    created_at: float
    updated_at: float
    property_name: str | None = None
    object_type_id: str | None = None
    event_type_name: str | None = None

    @property
    def action(self) -> str:
        """The part after the dot: ``creation``, ``propertyChange``, …"""
        return self.event_type.split(".", 1)[1]

    def matches(self, event: ChangeEvent) -> bool:
        """Whether this subscription fires for ``event``."""
        kind = self.event_type.split(".", 1)[0]
        type_id = self.object_type_id if kind == "object" else OBJECT_TYPE_IDS.get(kind)
        return (
            self.active
            and type_id == event.object_type_id
            and self.action == event.subscription_type.rsplit(".", 1)[-1]
            and (self.action != "propertyChange" or self.property_name == event.property_name)
        )

    def to_json(self) -> dict[str, object]:
        """HubSpot's ``SubscriptionResponse``."""
        body: dict[str, object] = {
            "id": str(self.id),
            "eventType": self.event_type,
            "active": self.active,
            "createdAt": _iso(self.created_at),
            "updatedAt": _iso(self.updated_at),
        }
        optional = {
            "propertyName": self.property_name,
            "objectTypeId": self.object_type_id,
            "eventTypeName": self.event_type_name,
        }
        body.update({key: value for key, value in optional.items() if value is not None})
        return body


@dataclass(slots=True)
class WebhookSettings:
    """One app's webhook configuration, shared by the subscription API and the dispatcher."""

    app_id: int
    client_secret: str  # signs deliveries (the app's OAuth client secret)
    developer_api_key: str | None = None  # required as ?hapikey= when set
    clock: Callable[[], float] = field(default=time.time, repr=False)
    target: TargetSettings | None = None
    subscriptions: dict[int, Subscription] = field(default_factory=dict)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1), repr=False)

    def configure(self, target_url: str, max_concurrent_requests: int) -> TargetSettings:
        """Set the target URL and throttling (keeps ``createdAt`` of earlier settings)."""
        now = self.clock()
        created = now if self.target is None else self.target.created_at
        self.target = TargetSettings(target_url, max_concurrent_requests, created, now)
        return self.target

    def clear(self) -> None:
        """Remove the target settings: subscriptions stay but nothing is delivered."""
        self.target = None

    def subscribe(
        self,
        event_type: str,
        *,
        property_name: str | None = None,
        object_type_id: str | None = None,
        active: bool = False,
        event_type_name: str | None = None,
    ) -> Subscription:
        """Add a subscription (inactive unless ``active``)."""
        now = self.clock()
        subscription = Subscription(
            next(self._ids), event_type, active, now, now,
            property_name, object_type_id, event_type_name,
        )  # fmt: skip
        self.subscriptions[subscription.id] = subscription
        return subscription

    def set_active(self, subscription_id: int, active: bool) -> Subscription | None:
        """Activate or pause a subscription; None if there is no such id."""
        subscription = self.subscriptions.get(subscription_id)
        if subscription is not None:
            subscription.active = active
            subscription.updated_at = self.clock()
        return subscription

    def matching(self, event: ChangeEvent) -> list[Subscription]:
        """The active subscriptions that fire for ``event``."""
        return [sub for sub in self.subscriptions.values() if sub.matches(event)]


# -- subscription API -------------------------------------------------------------------


class _Throttling(BaseModel):
    maxConcurrentRequests: int = Field(ge=1)


class _SettingsChange(BaseModel):
    targetUrl: str
    throttling: _Throttling


class _SubscriptionCreate(BaseModel):
    eventType: str
    propertyName: str | None = None
    objectTypeId: str | None = None
    active: bool = False
    eventTypeName: str | None = None


class _SubscriptionPatch(BaseModel):
    active: bool


class _BatchItem(BaseModel):
    id: int
    active: bool


class _BatchUpdate(BaseModel):
    inputs: list[_BatchItem]


def _error(status_code: int, category: str, message: str) -> Response:
    return HubSpotError(status_code, category, message).response()


async def _read(request: Request, model: type[_Model]) -> _Model | Response:
    try:
        return model.model_validate_json(await request.body())
    except ValidationError as exc:
        details = "; ".join(
            f"{'.'.join(str(part) for part in err['loc']) or 'body'}: {err['msg']}"
            for err in exc.errors()
        )
        return _error(400, "VALIDATION_ERROR", f"Invalid input JSON: {details}")


def _subscription_problem(body: _SubscriptionCreate) -> str | None:
    if body.eventType not in EVENT_TYPES:
        return f"Unknown eventType {body.eventType!r}."
    action = body.eventType.split(".", 1)[1]
    if (action == "propertyChange") != bool(body.propertyName):
        return "propertyName is required on propertyChange subscriptions and only there."
    if body.eventType.startswith("object.") and not body.objectTypeId:
        return "objectTypeId is required on object.* subscriptions."
    return None


def _target_problem(url: str) -> str | None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or not url.isascii():
        return f"targetUrl {url!r} is not an absolute http(s) URL."
    return None


def _guarded_route(settings: WebhookSettings) -> type[APIRoute]:
    """A route class that checks ``appId`` and the developer key before any handler runs."""

    class GuardedRoute(APIRoute):
        def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
            handler = super().get_route_handler()

            async def guarded(request: Request) -> Response:
                key = settings.developer_api_key
                given = request.query_params.get("hapikey", "")
                if key is not None and not hmac.compare_digest(given.encode(), key.encode()):
                    return _error(401, "INVALID_AUTHENTICATION", "The hapikey is missing or wrong.")
                if request.path_params.get("appId") != str(settings.app_id):
                    return _error(404, "OBJECT_NOT_FOUND", "No such app in this sandbox.")
                return await handler(request)

            return guarded

    return GuardedRoute


def webhooks_router(settings_store: WebhookSettings) -> APIRouter:
    """HubSpot's ``/webhooks/v3/{appId}`` settings and subscription routes on ``settings_store``."""
    settings = settings_store
    router = APIRouter(
        prefix="/webhooks/v3/{appId}",
        tags=["sandbox-webhooks"],
        route_class=_guarded_route(settings),
    )

    def missing(subscription_id: str) -> Response:
        return _error(404, "OBJECT_NOT_FOUND", f"No subscription with id {subscription_id}.")

    def lookup(subscription_id: str) -> Subscription | None:
        return (
            settings.subscriptions.get(int(subscription_id)) if subscription_id.isdigit() else None
        )

    @router.get("/settings")
    async def get_settings() -> Response:
        if settings.target is None:
            return _error(404, "OBJECT_NOT_FOUND", "This app has no webhook settings.")
        return JSONResponse(settings.target.to_json())

    @router.put("/settings")
    async def put_settings(request: Request) -> Response:
        body = await _read(request, _SettingsChange)
        if isinstance(body, Response):
            return body
        problem = _target_problem(body.targetUrl)
        if problem is not None:
            return _error(400, "VALIDATION_ERROR", problem)
        target = settings.configure(body.targetUrl, body.throttling.maxConcurrentRequests)
        return JSONResponse(target.to_json())

    @router.delete("/settings", response_model=None)
    async def delete_settings() -> Response:
        settings.clear()
        return Response(status_code=204)

    @router.get("/subscriptions")
    async def list_subscriptions() -> Response:
        return JSONResponse({"results": [sub.to_json() for sub in settings.subscriptions.values()]})

    @router.post("/subscriptions")
    async def create_subscription(request: Request) -> Response:
        body = await _read(request, _SubscriptionCreate)
        if isinstance(body, Response):
            return body
        problem = _subscription_problem(body)
        if problem is not None:
            return _error(400, "VALIDATION_ERROR", problem)
        subscription = settings.subscribe(
            body.eventType,
            property_name=body.propertyName,
            object_type_id=body.objectTypeId if body.eventType.startswith("object.") else None,
            active=body.active,
            event_type_name=body.eventTypeName,
        )
        return JSONResponse(subscription.to_json(), status_code=201)

    @router.post("/subscriptions/batch/update")
    async def batch_update(request: Request) -> Response:
        started = settings.clock()
        body = await _read(request, _BatchUpdate)
        if isinstance(body, Response):
            return body
        updated = [settings.set_active(item.id, item.active) for item in body.inputs]
        results = [sub.to_json() for sub in updated if sub is not None]
        missing_ids = [
            str(item.id) for item, sub in zip(body.inputs, updated, strict=True) if not sub
        ]
        answer: dict[str, object] = {
            "status": "COMPLETE",
            "results": results,
            "startedAt": _iso(started),
            "completedAt": _iso(settings.clock()),
        }
        if not missing_ids:
            return JSONResponse(answer)
        answer["numErrors"] = 1
        answer["errors"] = [_ids_not_found(missing_ids)]
        return JSONResponse(answer, status_code=207)

    @router.get("/subscriptions/{subscriptionId}")
    async def get_subscription(subscriptionId: str) -> Response:
        subscription = lookup(subscriptionId)
        if subscription is None:
            return missing(subscriptionId)
        return JSONResponse(subscription.to_json())

    @router.patch("/subscriptions/{subscriptionId}")
    async def patch_subscription(subscriptionId: str, request: Request) -> Response:
        body = await _read(request, _SubscriptionPatch)
        if isinstance(body, Response):
            return body
        subscription = lookup(subscriptionId)
        if subscription is None:
            return missing(subscriptionId)
        settings.set_active(subscription.id, body.active)
        return JSONResponse(subscription.to_json())

    @router.delete("/subscriptions/{subscriptionId}", response_model=None)
    async def delete_subscription(subscriptionId: str) -> Response:
        subscription = lookup(subscriptionId)
        if subscription is None:
            return missing(subscriptionId)
        del settings.subscriptions[subscription.id]
        return Response(status_code=204)

    return router


def _ids_not_found(ids: list[str]) -> dict[str, object]:
    # subCategory is left out: the spec types it as an object, HubSpot sends a string.
    return {
        "status": "error",
        "category": "SUBSCRIPTION_ID_NOT_FOUND",
        "message": f"Failed to find subscriptions by id `{', '.join(ids)}`.",
        "context": {"subscriptionIds": ids},
        "errors": [],
        "links": {},
    }


# -- delivery ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DeliveryFailure:
    """A batch given up on: its events, how often it was tried, and the last error."""

    event_ids: tuple[int, ...]
    attempts: int
    reason: str


@dataclass(slots=True)
class DeliveryStats:
    """What the dispatcher has done so far (events delivered or given up, requests made)."""

    delivered: int = 0  # events acknowledged with a 2xx
    failed: int = 0  # events given up on after the last retry
    attempts: int = 0  # POST requests made, first tries and retries
    failures: deque[DeliveryFailure] = field(default_factory=lambda: deque(maxlen=100))


@dataclass(frozen=True, slots=True)
class _Pending:
    event_id: int
    body: dict[str, object]  # the event JSON without attemptNumber


class WebhookDispatcher:
    """The sandbox's ``EventSink``: delivers matching events to the app's target URL."""

    def __init__(
        self,
        settings: WebhookSettings,
        *,
        portal_id: int,
        transport: httpx.AsyncBaseTransport | None = None,
        max_retries: int = 10,
        base_delay: float = 60.0,
        timeout: float = 5.0,
        batch_size: int = 100,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        clock: Callable[[], float] = time.time,
        rng: random.Random | None = None,
    ) -> None:
        self.settings = settings
        self.portal_id = portal_id
        self.stats = DeliveryStats()
        self._transport = transport
        self._max_retries = max_retries
        self._base_delay = base_delay
        self._timeout = timeout
        self._batch_size = batch_size
        self._sleep = sleep
        self._clock = clock
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not a secret
        self._event_ids = itertools.count(int(clock() * 1000) * 1000 + 1)
        self._queue: deque[_Pending] = deque()
        self._wakeup = asyncio.Event()
        self._slot_free = asyncio.Condition()
        self._in_flight = 0
        self._tasks: set[asyncio.Task[None]] = set()
        self._pump: asyncio.Task[None] | None = None
        self._client: httpx.AsyncClient | None = None

    @property
    def pending(self) -> int:
        """Events queued and not yet handed to a delivery."""
        return len(self._queue)

    def publish(self, event: ChangeEvent) -> None:
        """Queue one event per matching active subscription (call on the loop's thread)."""
        try:
            if self.settings.target is None:
                return
            for subscription in self.settings.matching(event):
                event_id = next(self._event_ids)
                self._queue.append(
                    _Pending(event_id, self._event_json(event_id, subscription, event))
                )
            if self._queue:
                self._wakeup.set()
        except Exception:
            log.exception("webhook event dropped", subscription_type=event.subscription_type)

    def start(self) -> None:
        """Start delivering in the background (call from within the running event loop)."""
        if self._pump is None:
            self._client = httpx.AsyncClient(transport=self._transport, timeout=self._timeout)
            self._pump = asyncio.get_running_loop().create_task(self._run_pump())

    async def drain(self) -> None:
        """Wait until every queued event is delivered or given up on."""
        if self._pump is None:
            raise RuntimeError("start() the dispatcher before draining it")
        while self._queue or self._tasks:
            if self._tasks:
                await asyncio.wait(set(self._tasks))
            else:
                await asyncio.sleep(0)

    async def aclose(self, *, drain: bool = False) -> None:
        """Stop: optionally deliver what is queued first, then cancel retries and close."""
        if drain and self._pump is not None:
            await self.drain()
        running = [task for task in (self._pump, *self._tasks) if task is not None]
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)
        self._pump = None
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    def _event_json(
        self, event_id: int, subscription: Subscription, event: ChangeEvent
    ) -> dict[str, object]:
        body: dict[str, object] = {
            "eventId": event_id,
            "subscriptionId": subscription.id,
            "portalId": self.portal_id,
            "appId": self.settings.app_id,
            "occurredAt": event.occurred_at_ms,
            "subscriptionType": subscription.event_type,
            "objectId": event.object_id,
            "changeSource": event.change_source,
        }
        if subscription.object_type_id is not None:
            body["objectTypeId"] = subscription.object_type_id
        if event.link is not None:  # names both ends instead of one object
            del body["objectId"]
            generic = subscription.object_type_id is not None
            body.update(_link_fields(event.object_type_id, event.object_id, event.link, generic))
        if subscription.action == "propertyChange":
            body["propertyName"] = event.property_name
            body["propertyValue"] = event.property_value
        if subscription.action in _CHANGE_FLAGS:
            body["changeFlag"] = _CHANGE_FLAGS[subscription.action]
        return body

    async def _run_pump(self) -> None:
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            while self._queue:
                size = min(len(self._queue), self._batch_size)
                batch = [self._queue.popleft() for _ in range(size)]
                task = asyncio.get_running_loop().create_task(self._deliver(batch))
                self._tasks.add(task)
                task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("webhook delivery crashed", error=repr(task.exception()))

    async def _deliver(self, batch: list[_Pending]) -> None:
        reason = ""
        for attempt in range(self._max_retries + 1):
            if attempt:
                await self._sleep(self._delay(attempt))
            reason = await self._attempt(batch, attempt)
            if not reason:
                self.stats.delivered += len(batch)
                return
        self.stats.failed += len(batch)
        ids = tuple(pending.event_id for pending in batch)
        self.stats.failures.append(DeliveryFailure(ids, self._max_retries + 1, reason))
        log.warning("webhook delivery given up", events=len(batch), reason=reason)

    def _delay(self, retry: int) -> float:
        """Growing and randomised: retry n waits between base·2ⁿ⁻¹ and base·2ⁿ."""
        return float(self._base_delay * 2 ** (retry - 1) * (1 + self._rng.random()))

    async def _attempt(self, batch: list[_Pending], attempt: int) -> str:
        """POST one batch; the empty string on a 2xx, else why it failed."""
        target = self.settings.target
        if target is None or self._client is None:
            return "no target URL configured"
        events = [{**pending.body, "attemptNumber": attempt} for pending in batch]
        content = json.dumps(events, separators=(",", ":")).encode()
        async with self._slot(target.max_concurrent_requests):
            self.stats.attempts += 1
            try:
                async with asyncio.timeout(self._timeout):
                    response = await self._client.post(
                        target.target_url, content=content, headers=self._headers(target, content)
                    )
            except (httpx.HTTPError, TimeoutError) as exc:
                return f"{type(exc).__name__}: {exc}"
        return "" if response.is_success else f"HTTP {response.status_code}"

    def _headers(self, target: TargetSettings, content: bytes) -> dict[str, str]:
        secret = self.settings.client_secret
        timestamp = int(self._clock() * 1000)
        return {
            "Content-Type": "application/json",
            "User-Agent": _USER_AGENT,
            "X-HubSpot-Signature": sign_v1(secret, content),
            "X-HubSpot-Signature-Version": "v1",
            "X-HubSpot-Signature-v3": sign_v3(
                secret, "POST", target.target_url, content, timestamp
            ),
            "X-HubSpot-Request-Timestamp": str(timestamp),
        }

    @asynccontextmanager
    async def _slot(self, limit: int) -> AsyncIterator[None]:
        """Hold one of the app's ``maxConcurrentRequests`` request slots."""
        async with self._slot_free:
            await self._slot_free.wait_for(lambda: self._in_flight < limit)
            self._in_flight += 1
        try:
            yield
        finally:
            async with self._slot_free:
                self._in_flight -= 1
                self._slot_free.notify_all()
