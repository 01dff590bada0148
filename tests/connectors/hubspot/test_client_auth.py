"""OAuth: authorize URL, code exchange, proactive and 401 refresh (once under concurrency)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import respx

from app.connectors.hubspot.auth import OAuthApp, OAuthTokenProvider, Pkce, TokenSet
from app.connectors.hubspot.errors import RefreshFailed
from tests.connectors.hubspot.fakes import FakeClock, make_client, record

TOKEN_URL = "/oauth/v1/token"
CONTACT = "/crm/v3/objects/contacts/1"
OLD, NEW, REFRESH = "CJold-access-token-aaaaaaaaaaaaaaaaaaaa", "CJnew-access-token", "na1-refresh-1"


def token_response(access: str = NEW) -> httpx.Response:
    """HubSpot's token endpoint answer."""
    body = {
        "token_type": "bearer",
        "access_token": access,
        "refresh_token": "na1-refresh-2",
        "expires_in": 1800,
        "hub_id": 62515,
        "scopes": ["oauth", "crm.objects.contacts.read"],
    }
    return httpx.Response(200, json=body)


@pytest.fixture
async def app(clock: FakeClock) -> AsyncIterator[OAuthApp]:
    """An OAuth app on fake time."""
    async with httpx.AsyncClient() as http:
        yield OAuthApp(
            client_id="cid",
            client_secret="csecret",
            redirect_uri="https://hub.example/cb",
            http=http,
            scopes=["oauth", "crm.objects.contacts.read"],
            optional_scopes=["crm.objects.deals.read"],
            clock=clock,
        )


def tokens(clock: FakeClock, expires_in: float) -> TokenSet:
    """A stored token set expiring ``expires_in`` seconds from now."""
    return TokenSet(OLD, REFRESH, clock.time() + expires_in, hub_id=62515)


class Stored:
    """The ``on_tokens`` callback: what the caller would encrypt and store."""

    def __init__(self) -> None:
        self.sets: list[TokenSet] = []

    async def __call__(self, tokens: TokenSet) -> None:
        self.sets.append(tokens)


class TestAuthorize:
    def test_url_carries_scopes_state_and_pkce(self, app: OAuthApp) -> None:
        pkce = Pkce.new()
        query = parse_qs(urlsplit(app.authorization_url("st4te", pkce)).query)
        assert query["client_id"] == ["cid"]
        assert query["redirect_uri"] == ["https://hub.example/cb"]
        assert query["scope"] == ["oauth crm.objects.contacts.read"]
        assert query["optional_scope"] == ["crm.objects.deals.read"]
        assert query["state"] == ["st4te"]
        assert query["code_challenge"] == [pkce.challenge]
        assert query["code_challenge_method"] == ["S256"]

    async def test_code_exchange_is_form_encoded(
        self, app: OAuthApp, router: respx.MockRouter
    ) -> None:
        route = router.post(TOKEN_URL).mock(return_value=token_response())
        pkce = Pkce.new()
        fresh = await app.exchange_code("the-code", pkce)
        sent = route.calls.last.request
        assert sent.headers["content-type"] == "application/x-www-form-urlencoded"
        form = parse_qs(sent.content.decode())
        assert form["grant_type"] == ["authorization_code"]
        assert form["code"] == ["the-code"]
        assert form["code_verifier"] == [pkce.verifier]
        assert (fresh.hub_id, fresh.scopes[1]) == (62515, "crm.objects.contacts.read")
        assert NEW not in repr(fresh)

    async def test_token_info(self, app: OAuthApp, router: respx.MockRouter) -> None:
        info = {"token": OLD, "hub_id": 62515, "scopes": ["oauth"], "app_id": 9, "expires_in": 99}
        router.get(f"/oauth/v1/access-tokens/{OLD}").respond(200, json=info)
        found = await app.token_info(OLD)
        assert (found.hub_id, found.scopes, found.app_id) == (62515, ("oauth",), 9)


class TestRefresh:
    async def test_refreshes_before_expiry(
        self, app: OAuthApp, clock: FakeClock, router: respx.MockRouter
    ) -> None:
        stored = Stored()
        provider = OAuthTokenProvider(app, tokens(clock, expires_in=200), stored)
        refresh = router.post(TOKEN_URL).mock(return_value=token_response())
        api = router.get(CONTACT).respond(200, json=record("1"))
        async with make_client(clock, auth=provider) as client:
            await client.objects.get("contacts", "1")
        assert refresh.call_count == 1
        assert api.calls.last.request.headers["authorization"] == f"Bearer {NEW}"
        assert [s.access_token for s in stored.sets] == [NEW]
        assert parse_qs(refresh.calls.last.request.content.decode())["refresh_token"] == [REFRESH]

    async def test_fresh_token_is_not_refreshed(
        self, app: OAuthApp, clock: FakeClock, router: respx.MockRouter
    ) -> None:
        provider = OAuthTokenProvider(app, tokens(clock, expires_in=1800), Stored())
        assert await provider.token() == OLD

    async def test_concurrent_401s_refresh_exactly_once(
        self, app: OAuthApp, clock: FakeClock, router: respx.MockRouter
    ) -> None:
        stored = Stored()
        provider = OAuthTokenProvider(app, tokens(clock, expires_in=1800), stored)
        refresh = router.post(TOKEN_URL).mock(return_value=token_response())

        def answer(request: httpx.Request) -> httpx.Response:
            if request.headers["authorization"] == f"Bearer {OLD}":
                return httpx.Response(
                    401, json={"category": "EXPIRED_AUTHENTICATION", "message": "x"}
                )
            return httpx.Response(200, json=record("1"))

        router.get(CONTACT).mock(side_effect=answer)
        async with make_client(clock, auth=provider) as client:
            found = await asyncio.gather(*(client.objects.get("contacts", "1") for _ in range(10)))
        assert len(found) == 10
        assert refresh.call_count == 1
        assert len(stored.sets) == 1

    async def test_refused_refresh_kills_the_token(
        self, app: OAuthApp, clock: FakeClock, router: respx.MockRouter
    ) -> None:
        provider = OAuthTokenProvider(app, tokens(clock, expires_in=10), Stored())
        refused = {"status": "BAD_REFRESH_TOKEN", "message": "missing or invalid refresh token"}
        refresh = router.post(TOKEN_URL).respond(400, json=refused)
        api = router.get(CONTACT).respond(200, json=record("1"))
        async with make_client(clock, auth=provider) as client:
            for _ in range(2):
                with pytest.raises(RefreshFailed) as caught:
                    await client.objects.get("contacts", "1")
                assert OLD not in str(caught.value)
                assert REFRESH not in str(caught.value)
        assert refresh.call_count == 1
        assert api.call_count == 0

    async def test_static_token_401_is_an_auth_error(
        self, clock: FakeClock, router: respx.MockRouter
    ) -> None:
        from app.connectors.hubspot.errors import AuthError

        router.get(CONTACT).respond(
            401, json={"category": "INVALID_AUTHENTICATION", "message": "no"}
        )
        async with make_client(clock) as client:
            with pytest.raises(AuthError):
                await client.objects.get("contacts", "1")
        assert router.calls.call_count == 1
