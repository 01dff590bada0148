"""The sandbox's OAuth server: consent page, code exchange, PKCE, refresh, lookup, introspection."""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi import FastAPI

from app.connectors.hubspot.sandbox.oauth import oauth_router
from app.connectors.hubspot.sandbox.tokens import TokenRegistry

HUB_ID = 62515
CLIENT_ID = "client-1"
CLIENT_SECRET = "secret-1"
REDIRECT = "https://app.example.test/oauth/callback"
SCOPES = "oauth crm.objects.contacts.read"
VERIFIER = "v" * 43 + "-._~" + "x" * 10


class Clock:
    """A settable clock for the registry."""

    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    """A fixed, settable time for the registry."""
    return Clock()


@pytest.fixture
def registry(clock: Clock) -> TokenRegistry:
    """The portal's token registry with one OAuth client."""
    return TokenRegistry(
        hub_id=HUB_ID, client_id=CLIENT_ID, client_secret=CLIENT_SECRET, clock=clock
    )


@pytest.fixture
async def client(registry: TokenRegistry) -> AsyncIterator[httpx.AsyncClient]:
    """A client for a bare app carrying only the OAuth routes."""
    app = FastAPI()
    app.include_router(oauth_router(registry, portal_name="Acme <Test> portal"))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="https://api.hubapi.test") as c:
        yield c


def challenge_for(verifier: str) -> str:
    """The PKCE S256 challenge of ``verifier``."""
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def authorize_params(**overrides: str) -> dict[str, str]:
    """A valid authorize query, with ``overrides``."""
    params = {"client_id": CLIENT_ID, "redirect_uri": REDIRECT, "scope": SCOPES, "state": "st-1"}
    params.update(overrides)
    return params


def ticket_of(page: str) -> str:
    """The consent ticket in a consent page's form."""
    match = re.search(r'name="ticket" value="([^"]+)"', page)
    assert match is not None, page
    return match.group(1)


async def consent(client: httpx.AsyncClient, decision: str = "approve", **params: str) -> str:
    """Open the consent page, decide, and return the redirect's Location."""
    page = await client.get("/oauth/authorize", params=authorize_params(**params))
    assert page.status_code == 200, page.text
    answer = await client.post(
        "/oauth/authorize", data={"ticket": ticket_of(page.text), "decision": decision}
    )
    assert answer.status_code == 302
    return answer.headers["location"]


def query_of(location: str) -> dict[str, str]:
    """A redirect's query parameters."""
    return {key: values[0] for key, values in parse_qs(urlsplit(location).query).items()}


async def code_for(client: httpx.AsyncClient, **params: str) -> str:
    """An authorization code from an approved consent."""
    return query_of(await consent(client, **params))["code"]


async def exchange(client: httpx.AsyncClient, code: str, **overrides: str) -> httpx.Response:
    """Trade ``code`` at the token endpoint (form fields overridable)."""
    form = {
        "grant_type": "authorization_code",
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "redirect_uri": REDIRECT,
        "code": code,
    }
    form.update(overrides)
    return await client.post("/oauth/v1/token", data=form)


async def introspect(
    client: httpx.AsyncClient, token: str, hint: str = "", path: str = "/oauth/v3/token/introspect"
) -> dict[str, Any]:
    """The introspection answer for ``token`` (the client authenticates correctly)."""
    form = {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "token": token}
    if hint:
        form["token_type_hint"] = hint
    response = await client.post(path, data=form)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_full_authorization_code_flow(
    client: httpx.AsyncClient, registry: TokenRegistry
) -> None:
    page = await client.get(
        "/oauth/authorize",
        params=authorize_params(optional_scope="crm.objects.deals.read not.a.scope"),
    )
    assert page.status_code == 200
    csp = page.headers["content-security-policy"]
    assert "default-src 'none'" in csp
    assert "style-src 'self'" in csp
    assert "form-action 'self' https://app.example.test" in csp
    assert "<script" not in page.text
    assert "style=" not in page.text
    assert "Acme &lt;Test&gt; portal" in page.text
    assert "crm.objects.deals.read" in page.text
    assert "not.a.scope" not in page.text

    approved = await client.post(
        "/oauth/authorize", data={"ticket": ticket_of(page.text), "decision": "approve"}
    )
    assert approved.status_code == 302
    location = approved.headers["location"]
    assert location.startswith(REDIRECT + "?")
    params = query_of(location)
    assert params["state"] == "st-1"

    tokens = await exchange(client, params["code"])
    assert tokens.status_code == 200
    body = tokens.json()
    assert body["token_type"] == "bearer"
    assert body["token_use"] == "access_token"
    assert body["hub_id"] == HUB_ID
    assert body["expires_in"] == 1800
    assert body["scopes"] == ["oauth", "crm.objects.contacts.read", "crm.objects.deals.read"]
    assert body["refresh_token"].startswith("na1-")
    assert tokens.headers["cache-control"] == "no-store"
    info = registry.authenticate(body["access_token"])
    assert info is not None
    assert info.hub_id == HUB_ID
    assert info.kind == "access_token"

    refreshed = await client.post(
        "/oauth/v1/token",
        data={
            "grant_type": "refresh_token",
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "refresh_token": body["refresh_token"],
        },
    )
    assert refreshed.status_code == 200
    new_access = refreshed.json()["access_token"]
    assert new_access != body["access_token"]
    assert registry.authenticate(new_access) is not None

    introspected = await introspect(client, new_access)
    assert introspected["active"] is True
    assert introspected["token_use"] == "access_token"
    assert introspected["hub_id"] == HUB_ID
    assert introspected["client_id"] == CLIENT_ID
    assert introspected["expires_in"] == 1800
    assert "crm.objects.deals.read" in introspected["scopes"]

    as_refresh = await introspect(client, body["refresh_token"], hint="refresh_token")
    assert as_refresh["active"] is True
    assert as_refresh["token_use"] == "refresh_token"


async def test_deny_redirects_with_access_denied_and_state(client: httpx.AsyncClient) -> None:
    location = await consent(client, decision="deny", state="keep me")
    assert location.startswith(REDIRECT + "?")
    assert query_of(location) == {"error": "access_denied", "state": "keep me"}


async def test_redirect_keeps_the_redirect_uris_own_query(client: httpx.AsyncClient) -> None:
    redirect = REDIRECT + "?tenant=a"
    location = await consent(client, redirect_uri=redirect)
    assert location.startswith(redirect + "&code=")
    response = await exchange(client, query_of(location)["code"], redirect_uri=redirect)
    assert response.status_code == 200


async def test_portal_pinned_authorize_path(client: httpx.AsyncClient) -> None:
    page = await client.get(f"/oauth/{HUB_ID}/authorize", params=authorize_params())
    assert page.status_code == 200
    assert f'action="/oauth/{HUB_ID}/authorize"' in page.text
    other = await client.get("/oauth/999/authorize", params=authorize_params())
    assert other.status_code == 400
    assert "location" not in other.headers


async def test_pkce_with_the_right_verifier(client: httpx.AsyncClient) -> None:
    code = await code_for(
        client, code_challenge=challenge_for(VERIFIER), code_challenge_method="S256"
    )
    response = await exchange(client, code, code_verifier=VERIFIER)
    assert response.status_code == 200
    assert response.json()["access_token"]


@pytest.mark.parametrize("verifier", ["w" * 43, ""])
async def test_pkce_wrong_or_missing_verifier_spends_the_code(
    client: httpx.AsyncClient, verifier: str
) -> None:
    code = await code_for(
        client, code_challenge=challenge_for(VERIFIER), code_challenge_method="S256"
    )
    wrong = await exchange(client, code, code_verifier=verifier)
    assert wrong.status_code == 400
    assert wrong.json()["status"] == "BAD_AUTH_CODE"
    retry = await exchange(client, code, code_verifier=VERIFIER)
    assert retry.status_code == 400
    assert retry.json()["status"] == "BAD_AUTH_CODE"


async def test_code_reuse_is_refused(client: httpx.AsyncClient) -> None:
    code = await code_for(client)
    assert (await exchange(client, code)).status_code == 200
    again = await exchange(client, code)
    assert again.status_code == 400
    body = again.json()
    assert body["status"] == "BAD_AUTH_CODE"
    assert body["category"] == "VALIDATION_ERROR"
    assert body["correlationId"]
    assert body["message"]


async def test_expired_code_and_wrong_redirect_are_refused(
    client: httpx.AsyncClient, clock: Clock
) -> None:
    code = await code_for(client)
    assert (await exchange(client, code, redirect_uri=REDIRECT + "/other")).status_code == 400
    late = await code_for(client)
    clock.now += 601
    assert (await exchange(client, late)).json()["status"] == "BAD_AUTH_CODE"


@pytest.mark.parametrize(
    ("field", "value"),
    [("client_secret", "wrong"), ("client_id", "other-client"), ("client_secret", "sécret")],
)
async def test_wrong_client_credentials_are_refused(
    client: httpx.AsyncClient, field: str, value: str
) -> None:
    code = await code_for(client)
    refused = await exchange(client, code, **{field: value})
    assert refused.status_code == 400
    assert refused.json()["status"] == "BAD_CLIENT_ID"
    assert (await exchange(client, code)).status_code == 200


async def test_unknown_grant_type_and_bad_refresh_token(client: httpx.AsyncClient) -> None:
    odd = await client.post("/oauth/v1/token", data={"grant_type": "password"})
    assert odd.status_code == 400
    assert odd.json()["status"] == "BAD_GRANT_TYPE"
    bad = await client.post(
        "/oauth/2026-03/token",
        data={
            "grant_type": "refresh_token",
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "refresh_token": "na1-unknown",
        },
    )
    assert bad.status_code == 400
    assert bad.json()["status"] == "BAD_REFRESH_TOKEN"


async def test_token_lookup_revocation_and_expiry(
    client: httpx.AsyncClient, registry: TokenRegistry, clock: Clock
) -> None:
    tokens = (await exchange(client, await code_for(client))).json()
    access, refresh = tokens["access_token"], tokens["refresh_token"]

    clock.now += 100
    info = (await client.get(f"/oauth/v1/access-tokens/{access}")).json()
    assert info["hub_id"] == HUB_ID
    assert info["token"] == access
    assert info["expires_in"] == 1700
    assert info["scopes"] == SCOPES.split()
    assert {"app_id", "user_id", "token_type"} <= info.keys()
    refresh_info = (await client.get(f"/oauth/v1/refresh-tokens/{refresh}")).json()
    assert refresh_info["client_id"] == CLIENT_ID
    assert refresh_info["hub_id"] == HUB_ID

    assert (await client.delete(f"/oauth/v1/refresh-tokens/{refresh}")).status_code == 204
    assert (await client.delete(f"/oauth/v1/refresh-tokens/{refresh}")).status_code == 404
    assert (await client.get(f"/oauth/v1/refresh-tokens/{refresh}")).status_code == 404
    assert (await introspect(client, refresh)) == {"active": False}

    registry.expire_access_tokens()
    assert (await client.get(f"/oauth/v1/access-tokens/{access}")).status_code == 404
    dated = "/oauth/2026-03/token/introspect"
    assert (await introspect(client, access, path=dated)) == {"active": False}


async def test_private_app_tokens_are_not_oauth_tokens(
    client: httpx.AsyncClient, registry: TokenRegistry
) -> None:
    registry.add_private_token("pat-na1-private")
    assert (await client.get("/oauth/v1/access-tokens/pat-na1-private")).status_code == 404
    assert (await introspect(client, "pat-na1-private")) == {"active": False}


async def test_introspection_needs_the_client_secret(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/oauth/v3/token/introspect",
        data={"client_id": CLIENT_ID, "client_secret": "nope", "token": "x"},
    )
    assert response.status_code == 400
    assert response.json()["status"] == "BAD_CLIENT_ID"


@pytest.mark.parametrize(
    "overrides",
    [
        {"client_id": "someone-else"},
        {"client_id": ""},
        {"client_id": "clïent"},
        {"redirect_uri": ""},
        {"redirect_uri": "javascript:alert(1)"},
        {"redirect_uri": "/relative/path"},
        {"redirect_uri": REDIRECT + "#fragment"},
        {"redirect_uri": "https://user:pw@app.example.test/cb"},
        {"redirect_uri": "https://app.example.test/cb\r\nSet-Cookie: x=1"},
        {"scope": ""},
        {"scope": "oauth crm.objects.everything"},
        {"code_challenge": challenge_for(VERIFIER), "code_challenge_method": "plain"},
        {"code_challenge": "short", "code_challenge_method": "S256"},
    ],
)
async def test_bad_authorize_requests_get_a_400_page_never_a_redirect(
    client: httpx.AsyncClient, overrides: dict[str, str]
) -> None:
    response = await client.get("/oauth/authorize", params=authorize_params(**overrides))
    assert response.status_code == 400
    assert "location" not in response.headers
    assert response.headers["content-type"].startswith("text/html")
    assert "default-src 'none'" in response.headers["content-security-policy"]


async def test_repeated_parameters_are_refused(client: httpx.AsyncClient) -> None:
    query = (
        f"client_id={CLIENT_ID}&redirect_uri={REDIRECT}&redirect_uri=https://evil.test/&scope=oauth"
    )
    response = await client.get("/oauth/authorize?" + query)
    assert response.status_code == 400


async def test_unregistered_redirect_uri_is_refused(registry: TokenRegistry) -> None:
    app = FastAPI()
    app.include_router(oauth_router(registry, redirect_uris=[REDIRECT]))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="https://api.hubapi.test") as c:
        ok = await c.get("/oauth/authorize", params=authorize_params())
        other = await c.get(
            "/oauth/authorize", params=authorize_params(redirect_uri="https://evil.test/cb")
        )
    assert ok.status_code == 200
    assert other.status_code == 400


async def test_hostile_values_are_escaped(client: httpx.AsyncClient) -> None:
    hostile = '"><script>alert(1)</script><a x="'
    redirect = 'https://app.example.test/cb?next="><script>alert(1)</script>'
    page = await client.get(
        "/oauth/authorize", params=authorize_params(redirect_uri=redirect, state=hostile)
    )
    assert page.status_code == 200
    assert "<script>" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert hostile not in page.text

    answer = await client.post(
        "/oauth/authorize", data={"ticket": ticket_of(page.text), "decision": "approve"}
    )
    location = answer.headers["location"]
    assert "<" not in location
    assert '"' not in location
    assert query_of(location)["state"] == hostile

    error_page = await client.get("/oauth/authorize", params=authorize_params(client_id=hostile))
    assert error_page.status_code == 400
    assert "<script>" not in error_page.text
    assert "&lt;script&gt;" in error_page.text


async def test_consent_tickets_are_single_use_and_expire(
    client: httpx.AsyncClient, clock: Clock
) -> None:
    page = await client.get("/oauth/authorize", params=authorize_params())
    ticket = ticket_of(page.text)
    first = await client.post("/oauth/authorize", data={"ticket": ticket, "decision": "approve"})
    assert first.status_code == 302
    again = await client.post("/oauth/authorize", data={"ticket": ticket, "decision": "approve"})
    assert again.status_code == 400

    stale = ticket_of((await client.get("/oauth/authorize", params=authorize_params())).text)
    clock.now += 601
    late = await client.post("/oauth/authorize", data={"ticket": stale, "decision": "approve"})
    assert late.status_code == 400
    assert "location" not in late.headers
