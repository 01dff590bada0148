"""Bearer tokens (401, 403 with missingScopes) and HubSpot's rate limits (429 bodies, headers)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from app.connectors.hubspot.sandbox.config import RateProfile, SandboxConfig
from tests.connectors.hubspot.sandbox.conftest import TOKEN, Sandbox, client, open_sandbox

TINY = RateProfile("tiny", burst=3, window_ms=10_000, daily=8, search_per_second=2)


@pytest.fixture
async def limited() -> AsyncIterator[Sandbox]:
    """A sandbox with rate limits on a tiny profile."""
    _, sandbox = await open_sandbox(SandboxConfig(private_tokens=[TOKEN]), TINY)
    async with sandbox.http:
        yield sandbox


async def test_missing_or_unknown_token_is_401(sbx: Sandbox) -> None:
    app = sbx.http._transport.app  # type: ignore[attr-defined]
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic x"}):
        async with client(app, "") as anonymous:
            response = await anonymous.get("/crm/v3/objects/contacts", headers=headers)
        assert response.status_code == 401
        assert response.json()["category"] == "INVALID_AUTHENTICATION"
        assert response.json()["correlationId"]


async def test_missing_scope_is_403_with_missing_scopes(sbx: Sandbox) -> None:
    sbx.state.tokens.add_private_token("read-only", ("crm.objects.contacts.read",))
    app = sbx.http._transport.app  # type: ignore[attr-defined]
    async with client(app, "read-only") as reader:
        assert (await reader.get("/crm/v3/objects/contacts")).status_code == 200
        denied = await reader.post("/crm/v3/objects/contacts", json={"properties": {}})
        companies = await reader.get("/crm/v3/objects/companies")
    assert denied.status_code == 403
    assert denied.json()["category"] == "MISSING_SCOPES"
    assert denied.json()["context"] == {"missingScopes": ["crm.objects.contacts.write"]}
    assert companies.json()["context"] == {"missingScopes": ["crm.objects.companies.read"]}


async def test_burst_limit_headers_and_429_body(limited: Sandbox) -> None:
    first = await limited.http.get("/crm/v3/objects/contacts")
    assert first.headers["X-HubSpot-RateLimit-Interval-Milliseconds"] == "10000"
    assert first.headers["X-HubSpot-RateLimit-Max"] == "3"
    assert first.headers["X-HubSpot-RateLimit-Remaining"] == "2"
    assert first.headers["X-HubSpot-RateLimit-Daily"] == "8"
    assert first.headers["X-HubSpot-RateLimit-Daily-Remaining"] == "7"
    await limited.http.get("/crm/v3/objects/contacts")
    await limited.http.get("/crm/v3/objects/contacts")
    refused = await limited.http.get("/crm/v3/objects/contacts")
    assert refused.status_code == 429
    body = refused.json()
    assert body["message"] == "You have reached your ten_secondly_rolling limit."
    assert body["errorType"] == "RATE_LIMIT"
    assert body["policyName"] == "TEN_SECONDLY_ROLLING"
    assert body["status"] == "error"
    assert refused.headers["X-HubSpot-RateLimit-Remaining"] == "0"
    limited.clock.advance(10)
    assert (await limited.http.get("/crm/v3/objects/contacts")).status_code == 200
    assert limited.state.stats.rate_limited == 1


async def test_window_is_rolling(limited: Sandbox) -> None:
    await limited.http.get("/crm/v3/objects/contacts")
    limited.clock.advance(6)
    await limited.http.get("/crm/v3/objects/contacts")
    await limited.http.get("/crm/v3/objects/contacts")
    limited.clock.advance(4.5)
    assert (await limited.http.get("/crm/v3/objects/contacts")).status_code == 200
    assert (await limited.http.get("/crm/v3/objects/contacts")).status_code == 429


async def test_daily_limit(limited: Sandbox) -> None:
    for _ in range(TINY.daily):
        limited.clock.advance(10)
        assert (await limited.http.get("/crm/v3/objects/contacts")).status_code == 200
    limited.clock.advance(10)
    refused = await limited.http.get("/crm/v3/objects/contacts")
    assert refused.json()["policyName"] == "DAILY"
    limited.clock.advance(86_400)
    assert (await limited.http.get("/crm/v3/objects/contacts")).status_code == 200


async def test_search_has_its_own_secondly_limit_without_headers(limited: Sandbox) -> None:
    for _ in range(3):
        await limited.http.get("/crm/v3/objects/contacts")
    searched = await limited.http.post("/crm/v3/objects/contacts/search", json={})
    assert searched.status_code == 200
    assert "X-HubSpot-RateLimit-Max" not in searched.headers
    await limited.http.post("/crm/v3/objects/contacts/search", json={})
    refused = await limited.http.post("/crm/v3/objects/contacts/search", json={})
    assert refused.status_code == 429
    assert refused.json()["policyName"] == "SECONDLY"
    assert refused.json()["message"] == "You have reached your secondly limit."
    limited.clock.advance(1)
    assert (await limited.http.post("/crm/v3/objects/contacts/search", json={})).status_code == 200


async def test_oauth_tokens_get_no_daily_headers(limited: Sandbox) -> None:
    tokens = limited.state.tokens
    code = tokens.issue_code(tokens.client_id, "https://x/cb", ("crm.objects.contacts.read",))
    grant = tokens.exchange_code(code, tokens.client_id, tokens.client_secret, "https://x/cb")
    assert grant is not None
    app = limited.http._transport.app  # type: ignore[attr-defined]
    async with client(app, str(grant["access_token"])) as oauth:
        response = await oauth.get("/crm/v3/objects/contacts")
    assert response.status_code == 200
    assert "X-HubSpot-RateLimit-Max" in response.headers
    assert "X-HubSpot-RateLimit-Daily" not in response.headers
