"""POST /api/v1/webhooks/hubspot in-process: signatures on the raw body, storage, refusals."""

from __future__ import annotations

import io
import time

import httpx
import pytest
from fastapi import FastAPI

from app.core.settings import Settings
from app.main import create_app
from app.models.enums import WebhookState
from app.web import WebState
from tests.conftest import BASE_URL, make_settings
from tests.webhooks.kit import (
    PATH,
    PORTAL,
    SECRET,
    batch,
    count_events,
    event,
    legacy_headers,
    stored,
    v3_headers,
)

pytestmark = pytest.mark.database
URI = BASE_URL + PATH
FIVE_MINUTES_MS = 5 * 60 * 1000
CANARY = "vreni.canary@example.ch"


async def post(
    client: httpx.AsyncClient, body: bytes, headers: dict[str, str], path: str = PATH
) -> httpx.Response:
    """POST ``body`` to the webhook with ``headers``."""
    return await client.post(path, content=body, headers=headers)


async def test_a_signed_batch_is_stored_and_acknowledged(
    hook_client: httpx.AsyncClient, web: WebState
) -> None:
    body = batch(
        event(1, 101, propertyName="email", propertyValue=CANARY),
        event(2, 102, kind="contact.creation", changeFlag="NEW"),
    )
    response = await post(hook_client, body, v3_headers(body, URI))
    assert response.status_code == 200, response.text
    assert response.json() == {"received": 2, "stored": 2}
    first, second = await stored(web.session_factory)
    assert (first.portal_id, first.event_id, first.object_id) == (PORTAL, "1", "101")
    assert first.subscription_type == "company.propertyChange"
    assert first.state == WebhookState.received
    assert first.occurred_at is not None
    assert first.payload["propertyName"] == "email"
    assert "propertyValue" not in first.payload  # the new value may be personal data
    assert second.payload["changeFlag"] == "NEW"


async def test_a_replayed_event_is_acknowledged_and_changes_nothing(
    hook_client: httpx.AsyncClient, web: WebState
) -> None:
    body = batch(event(1), event(2))
    assert (await post(hook_client, body, v3_headers(body, URI))).json()["stored"] == 2
    before = await stored(web.session_factory)
    redelivered = batch(event(2, attemptNumber=1), event(3), event(3))
    response = await post(hook_client, redelivered, v3_headers(redelivered, URI))
    assert response.status_code == 200
    assert response.json() == {"received": 3, "stored": 1}
    after = await stored(web.session_factory)
    assert [(e.id, e.payload) for e in after[:2]] == [(e.id, e.payload) for e in before]
    assert [e.event_id for e in after] == ["1", "2", "3"]


async def test_the_same_event_id_of_another_portal_is_another_event(
    hook_client: httpx.AsyncClient, web: WebState
) -> None:
    body = batch(event(1), event(1, portal=PORTAL + 1))
    assert (await post(hook_client, body, v3_headers(body, URI))).json()["stored"] == 2


REFUSED = {
    "wrong secret": lambda body: v3_headers(body, URI, secret="not-the-secret"),
    "signed for another URI": lambda body: v3_headers(body, "https://evil.example" + PATH),
    "stale timestamp": lambda body: v3_headers(
        body, URI, timestamp_ms=int(time.time() * 1000) - FIVE_MINUTES_MS - 1_000
    ),
    "future timestamp": lambda body: v3_headers(
        body, URI, timestamp_ms=int(time.time() * 1000) + FIVE_MINUTES_MS + 1_000
    ),
    "no timestamp": lambda body: {
        k: v for k, v in v3_headers(body, URI).items() if k != "X-HubSpot-Request-Timestamp"
    },
    "no signature": lambda body: {"Content-Type": "application/json"},
    "legacy wrong secret": lambda body: legacy_headers(body, URI, "v1", secret="nope"),
    "unknown legacy version": lambda body: {
        **legacy_headers(body, URI, "v1"),
        "X-HubSpot-Signature-Version": "v9",
    },
    # a bad v3 is not rescued by a good v1: that would undo the timestamp window
    "bad v3, good v1": lambda body: {
        **legacy_headers(body, URI, "v1"),
        **v3_headers(body, URI, secret="nope"),
    },
}


@pytest.mark.parametrize("case", list(REFUSED))
async def test_a_request_not_signed_by_hubspot_is_refused_and_stores_nothing(
    hook_client: httpx.AsyncClient, web: WebState, case: str
) -> None:
    body = batch(event(1))
    response = await post(hook_client, body, REFUSED[case](body))
    assert response.status_code == 401, response.text
    assert await count_events(web.session_factory) == 0


async def test_a_body_changed_after_signing_is_refused(
    hook_client: httpx.AsyncClient, web: WebState
) -> None:
    headers = v3_headers(batch(event(1)), URI)
    response = await post(hook_client, batch(event(2)), headers)
    assert response.status_code == 401
    assert await count_events(web.session_factory) == 0


@pytest.mark.parametrize("version", ["v1", "v2"])
async def test_legacy_signatures_are_accepted_without_a_v3_one(
    hook_client: httpx.AsyncClient, web: WebState, version: str
) -> None:
    body = batch(event(1))
    response = await post(hook_client, body, legacy_headers(body, URI, version))
    assert response.status_code == 200, response.text
    assert await count_events(web.session_factory) == 1


@pytest.mark.parametrize(
    "body",
    [
        b"[{",
        b"{}",
        b"null",
        b'[{"eventId": 1}]',
        b'[{"eventId":1,"portalId":"x"}]',
        batch(event(1, kind="no dot here")),
    ],
)
async def test_a_signed_body_that_is_not_an_event_batch_is_a_400(
    hook_client: httpx.AsyncClient, web: WebState, body: bytes
) -> None:
    response = await post(hook_client, body, v3_headers(body, URI))
    assert response.status_code == 400, response.text
    assert await count_events(web.session_factory) == 0


async def test_an_oversized_body_is_refused_before_it_is_read(
    hook_client: httpx.AsyncClient, web: WebState
) -> None:
    huge = "x" * web.settings.max_body_bytes
    body = batch(event(1, propertyValue=huge))
    response = await post(hook_client, body, v3_headers(body, URI))
    assert response.status_code == 413
    assert await count_events(web.session_factory) == 0


async def test_a_full_hubspot_batch_fits_the_body_limit(
    hook_client: httpx.AsyncClient, web: WebState
) -> None:
    long_value = "Lorem ipsum " * 400  # 4.8 kB of text in every event of a 100-event batch
    body = batch(*(event(n, n, propertyName="notes", propertyValue=long_value)
                   for n in range(100)))  # fmt: skip
    response = await post(hook_client, body, v3_headers(body, URI))
    assert response.status_code == 200, response.text
    assert await count_events(web.session_factory) == 100


async def test_behind_a_proxy_the_uri_comes_from_the_public_url(
    settings: Settings, web: WebState
) -> None:
    public = "https://hooks.example.ch"
    app = create_app(make_settings(settings.database_url, settings.var_dir, public_url=public,
                                   hubspot_client_secret=SECRET))  # fmt: skip
    body = batch(event(1))
    query = "?tenant=a&x=%3A"
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                     base_url=BASE_URL) as client:  # fmt: skip
            internal = await post(client, body, v3_headers(body, URI + query), PATH + query)
            assert internal.status_code == 401  # signed over the URL the proxy called
            assert await count_events(web.session_factory) == 0
            outside = v3_headers(body, public + PATH + query)
            assert (await post(client, body, outside, PATH + query)).status_code == 200
    finally:
        await app.state.web.engine.dispose()
    assert await count_events(web.session_factory) == 1


async def test_without_a_client_secret_webhooks_are_unavailable(
    client: httpx.AsyncClient, web_app: FastAPI, web: WebState
) -> None:
    body = batch(event(1))
    response = await post(client, body, v3_headers(body, URI))
    assert response.status_code == 503
    assert await count_events(web.session_factory) == 0


async def test_the_logs_hold_no_event_data(
    hook_client: httpx.AsyncClient, captured_logs: io.StringIO
) -> None:
    body = batch(event(1, 424242, propertyName="email", propertyValue=CANARY))
    assert (await post(hook_client, body, v3_headers(body, URI))).status_code == 200
    forged = batch(event(2, 434343, propertyValue=CANARY))
    refused = await post(hook_client, forged, v3_headers(forged, URI, secret="nope"))
    assert refused.status_code == 401
    logged = captured_logs.getvalue()
    assert "webhook events stored" in logged
    assert "webhook refused" in logged
    for secret_or_personal in (CANARY, "424242", "434343", SECRET):
        assert secret_or_personal not in logged
