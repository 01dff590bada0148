"""The API routes and UI pages for connecting HubSpot, with the sandbox served over loopback."""

from __future__ import annotations

from urllib.parse import urlsplit

import httpx
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from app.web import WebState
from tests.factories import World, bearer
from tests.oauth.conftest import PORTAL_ID, Callback, Sandbox, consent, reloaded
from tests.ui_session import csrf_from, sign_in

CALLBACK = "/ui/hubspot/oauth/callback"


def page_of(connection_id: object) -> str:
    return f"/ui/connections/{connection_id}/hubspot"


def callback_url(callback: Callback) -> str:
    return f"{CALLBACK}?{httpx.QueryParams(callback.params())}"


async def press_connect(client: httpx.AsyncClient, world: World) -> str:
    """Sign in as tenant A's admin and press "Connect HubSpot"; returns HubSpot's URL."""
    token = await sign_in(client, world.a.admin.email)
    response = await client.post(
        f"{page_of(world.a.hubspot.id)}/connect", data={"csrf_token": token}
    )
    assert response.status_code == 303, response.text
    return response.headers["location"]


class TestApi:
    async def test_authorize_returns_hubspots_consent_url(
        self, oauth_client: httpx.AsyncClient, world: World, live_sandbox: Sandbox
    ) -> None:
        response = await oauth_client.post(
            f"/api/v1/connections/{world.a.hubspot.id}/hubspot/authorize",
            headers=bearer(world.a.admin_token),
        )
        assert response.status_code == 200, response.text
        assert response.json()["authorize_url"].startswith(live_sandbox.url + "/oauth/authorize?")

    async def test_a_flow_started_through_the_api_completes_for_the_same_user(
        self, oauth_client: httpx.AsyncClient, world: World, live_sandbox: Sandbox
    ) -> None:
        started = await oauth_client.post(
            f"/api/v1/connections/{world.a.hubspot.id}/hubspot/authorize",
            headers=bearer(world.a.admin_token),
        )
        callback = await consent(live_sandbox.http, started.json()["authorize_url"])
        await sign_in(oauth_client, world.a.admin.email)
        response = await oauth_client.get(callback_url(callback))
        assert response.status_code == 303, response.text

    async def test_who_may_start_and_disconnect(
        self, oauth_client: httpx.AsyncClient, world: World
    ) -> None:
        base = f"/api/v1/connections/{world.a.hubspot.id}/hubspot"
        for token, expected in (
            (world.b.admin_token, 404),
            (world.a.viewer_token, 403),
            (world.a.admin_token, 204),
        ):
            response = await oauth_client.delete(f"{base}/tokens", headers=bearer(token))
            assert response.status_code == expected, response.text
        for token, expected in ((world.b.admin_token, 404), (world.a.viewer_token, 403)):
            response = await oauth_client.post(f"{base}/authorize", headers=bearer(token))
            assert response.status_code == expected, response.text

    async def test_without_a_hubspot_app_authorize_says_so(
        self, client: httpx.AsyncClient, world: World
    ) -> None:
        response = await client.post(
            f"/api/v1/connections/{world.a.hubspot.id}/hubspot/authorize",
            headers=bearer(world.a.admin_token),
        )
        assert response.status_code == 503
        assert "HUBSYNC_HUBSPOT_CLIENT_ID" in response.text


class TestPages:
    async def test_connect_approve_and_come_back_connected(
        self,
        oauth_client: httpx.AsyncClient,
        world: World,
        live_sandbox: Sandbox,
        db: AsyncSession,
    ) -> None:
        authorize_url = await press_connect(oauth_client, world)
        assert authorize_url.startswith(live_sandbox.url + "/oauth/authorize?")
        callback = await consent(live_sandbox.http, authorize_url)
        response = await oauth_client.get(callback_url(callback))
        assert response.status_code == 303, response.text
        assert response.headers["location"] == f"{page_of(world.a.hubspot.id)}?notice=connected"
        page = await oauth_client.get(response.headers["location"])
        assert page.status_code == 200
        assert f'<dd id="portal-id">{PORTAL_ID}</dd>' in page.text
        assert "Über OAuth verbunden" in page.text
        assert "HubSpot ist verbunden." in page.text
        assert "HubSpot neu verbinden" in page.text  # the button now reconnects
        assert "crm.objects.companies.write" in page.text
        connection = await reloaded(db, world.a.hubspot.id)
        assert connection.config["portal_id"] == PORTAL_ID

        replay = await oauth_client.get(callback_url(callback))
        assert replay.status_code == 400
        assert "schon verwendet" in replay.text

    async def test_the_callback_from_another_session_is_refused(
        self,
        oauth_client: httpx.AsyncClient,
        oauth_web_app: FastAPI,
        world: World,
        live_sandbox: Sandbox,
        db: AsyncSession,
    ) -> None:
        callback = await consent(live_sandbox.http, await press_connect(oauth_client, world))
        transport = httpx.ASGITransport(app=oauth_web_app)
        async with httpx.AsyncClient(transport=transport, base_url=oauth_client.base_url) as other:
            await sign_in(other, world.a.admin.email)  # same user, another browser
            response = await other.get(callback_url(callback))
        assert response.status_code == 400
        assert "anderen Browser-Sitzung" in response.text
        connection = await reloaded(db, world.a.hubspot.id)
        assert connection.secrets_encrypted is None  # no token, and the state is used up
        assert "portal_id" not in connection.config

    async def test_a_callback_without_a_state_is_refused(
        self, oauth_client: httpx.AsyncClient, world: World
    ) -> None:
        await sign_in(oauth_client, world.a.admin.email)
        response = await oauth_client.get(f"{CALLBACK}?code=abc")
        assert response.status_code == 400
        assert "HubSpot wurde nicht verbunden" in response.text

    async def test_denied_consent_shows_why(
        self, oauth_client: httpx.AsyncClient, world: World, live_sandbox: Sandbox
    ) -> None:
        authorize_url = await press_connect(oauth_client, world)
        callback = await consent(live_sandbox.http, authorize_url, approve=False)
        response = await oauth_client.get(callback_url(callback))
        assert response.status_code == 400
        assert "kein Zugriff erteilt" in response.text
        assert page_of(world.a.hubspot.id) in response.text  # the way back

    async def test_htmx_gets_a_full_redirect_to_hubspot(
        self, oauth_client: httpx.AsyncClient, world: World, live_sandbox: Sandbox
    ) -> None:
        token = await sign_in(oauth_client, world.a.admin.email)
        response = await oauth_client.post(
            f"{page_of(world.a.hubspot.id)}/connect",
            headers={"X-CSRF-Token": token, "HX-Request": "true"},
        )
        assert response.status_code == 204
        assert response.headers["HX-Redirect"].startswith(live_sandbox.url + "/oauth/authorize?")

    async def test_the_page_lets_its_form_lead_to_hubspot(
        self, oauth_client: httpx.AsyncClient, world: World, live_sandbox: Sandbox
    ) -> None:
        await sign_in(oauth_client, world.a.admin.email)
        page = await oauth_client.get(page_of(world.a.hubspot.id))
        assert page.status_code == 200
        sandbox_origin = "{0.scheme}://{0.netloc}".format(urlsplit(live_sandbox.url))
        assert f"form-action 'self' {sandbox_origin};" in page.headers["content-security-policy"]
        assert "Nicht mit HubSpot verbunden" in page.text
        assert "HubSpot verbinden" in page.text

    async def test_viewers_read_but_cannot_connect(
        self, oauth_client: httpx.AsyncClient, world: World
    ) -> None:
        await sign_in(oauth_client, world.a.viewer.email)
        page = await oauth_client.get(page_of(world.a.hubspot.id))
        assert page.status_code == 200
        assert "/hubspot/connect" not in page.text
        response = await oauth_client.post(
            f"{page_of(world.a.hubspot.id)}/connect", data={"csrf_token": csrf_from(page.text)}
        )
        assert response.status_code == 403

    async def test_another_tenants_connection_is_not_found(
        self, oauth_client: httpx.AsyncClient, world: World
    ) -> None:
        token = await sign_in(oauth_client, world.b.admin.email)
        assert (await oauth_client.get(page_of(world.a.hubspot.id))).status_code == 404
        response = await oauth_client.post(
            f"{page_of(world.a.hubspot.id)}/connect", data={"csrf_token": token}
        )
        assert response.status_code == 404

    async def test_disconnect_deletes_the_tokens(
        self,
        oauth_client: httpx.AsyncClient,
        world: World,
        live_sandbox: Sandbox,
        db: AsyncSession,
        web: WebState,
    ) -> None:
        callback = await consent(live_sandbox.http, await press_connect(oauth_client, world))
        await oauth_client.get(callback_url(callback))
        page = await oauth_client.get(page_of(world.a.hubspot.id))
        response = await oauth_client.post(
            f"{page_of(world.a.hubspot.id)}/disconnect", data={"csrf_token": csrf_from(page.text)}
        )
        assert response.status_code == 303
        assert response.headers["location"].endswith("?notice=disconnected")
        connection = await reloaded(db, world.a.hubspot.id)
        assert connection.secrets_encrypted is None
        assert connection.hub_id is None
        shown = await oauth_client.get(response.headers["location"])
        assert "HubSpot ist getrennt" in shown.text

    async def test_visiting_the_callback_address_explains_it(
        self, oauth_client: httpx.AsyncClient, world: World
    ) -> None:
        await sign_in(oauth_client, world.a.admin.email)
        response = await oauth_client.get(CALLBACK)
        assert response.status_code == 200
        assert "HubSpot-Seite der Verbindung" in response.text
