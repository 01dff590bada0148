"""Error mapping: typed errors, scopes, malformed bodies, and no tokens in error text."""

from __future__ import annotations

import httpx
import pytest
import respx

from app.connectors.hubspot.client import HubSpotClient
from app.connectors.hubspot.errors import (
    Action,
    AuthError,
    Conflict,
    FailureType,
    HubSpotError,
    MalformedResponse,
    NotFound,
    ScopeError,
    ValidationError,
)
from tests.connectors.hubspot.fakes import TOKEN, error_body

CONTACT = "/crm/v3/objects/contacts/1"


class TestErrorMapping:
    async def test_scope_error_names_missing_scopes(
        self, client: HubSpotClient, router: respx.MockRouter
    ) -> None:
        body = error_body(
            "MISSING_SCOPES",
            "This app lacks scopes",
            context={"missingScopes": ["crm.objects.contacts.read"]},
        )
        router.get(CONTACT).respond(403, json=body)
        with pytest.raises(ScopeError) as caught:
            await client.objects.get("contacts", "1")
        assert caught.value.missing_scopes == ["crm.objects.contacts.read"]
        assert "crm.objects.contacts.read" in str(caught.value)
        assert caught.value.action is Action.FATAL
        assert caught.value.failure_type is FailureType.CONFIG

    async def test_html_body_is_malformed_and_quoted(
        self, client: HubSpotClient, router: respx.MockRouter
    ) -> None:
        html = "<html><head><title>Gateway</title></head><body>" + "x" * 500 + "</body></html>"
        router.get(CONTACT).respond(200, text=html, headers={"Content-Type": "text/html"})
        with pytest.raises(MalformedResponse) as caught:
            await client.objects.get("contacts", "1")
        assert "<html><head><title>Gateway" in str(caught.value)
        assert "x" * 300 not in str(caught.value)

    @pytest.mark.parametrize(
        ("status", "error_type", "action"),
        [
            (400, ValidationError, Action.SKIPPABLE),
            (404, NotFound, Action.SKIPPABLE),
            (409, Conflict, Action.SKIPPABLE),
        ],
    )
    async def test_status_maps_to_class(
        self,
        client: HubSpotClient,
        router: respx.MockRouter,
        status: int,
        error_type: type[HubSpotError],
        action: Action,
    ) -> None:
        router.get(CONTACT).respond(status, json=error_body("X", "nope"))
        with pytest.raises(error_type) as caught:
            await client.objects.get("contacts", "1")
        assert caught.value.action is action
        assert caught.value.correlation_id == "c0ffee00-0000-4000-8000-000000000000"
        assert router.calls.call_count == 1

    async def test_conflict_exposes_existing_id(
        self, client: HubSpotClient, router: respx.MockRouter
    ) -> None:
        body = error_body("CONFLICT", "Contact already exists. Existing ID: 37765128953")
        router.get(CONTACT).respond(409, json=body)
        with pytest.raises(Conflict) as caught:
            await client.objects.get("contacts", "1")
        assert caught.value.existing_id == "37765128953"


class TestSecrets:
    async def test_token_never_in_error_text(
        self, client: HubSpotClient, router: respx.MockRouter
    ) -> None:
        echo = error_body("INVALID_AUTHENTICATION", f"Bearer {TOKEN} is not valid; token {TOKEN}")
        router.get(CONTACT).respond(401, json=echo)
        with pytest.raises(AuthError) as caught:
            await client.objects.get("contacts", "1")
        assert TOKEN not in str(caught.value)
        assert TOKEN not in repr(caught.value.args)
        assert "[redacted]" in caught.value.message

    async def test_token_not_in_transport_error(
        self, client: HubSpotClient, router: respx.MockRouter
    ) -> None:
        router.get(CONTACT).mock(side_effect=httpx.ConnectError(f"refused {TOKEN}"))
        with pytest.raises(HubSpotError) as caught:
            await client.objects.get("contacts", "1")
        assert TOKEN not in str(caught.value)
        assert caught.value.__cause__ is None
