"""Connecting a portal against the sandbox's OAuth server (in-process), on both databases."""

from __future__ import annotations

import io
import uuid
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.api.deps import actor_for
from app.auth.actor import Actor
from app.connectors.clock import SYSTEM_CLOCK, Clock
from app.core.errors import Forbidden, InvalidInput, NotFound
from app.core.tenancy import bind_scope
from app.models import AuditEntry, Connection, User
from app.sync.connections import open_connection_secrets
from app.sync.hubspot_oauth import (
    CallbackProblem,
    OAuthCallbackError,
    OAuthNotConfigured,
    complete_authorization,
    disconnect,
    start_authorization,
)
from app.sync.hubspot_oauth.stored import PENDING
from app.web import WebState
from tests.factories import World
from tests.oauth.conftest import (
    CLIENT_ID,
    CLIENT_SECRET,
    PORTAL_ID,
    Callback,
    FakeClock,
    Sandbox,
    consent,
    reloaded,
)
from tests.security.test_secrets_at_rest import dump_database

SESSION = "session-cookie-of-the-admin"


async def start(
    db: AsyncSession,
    web: WebState,
    sandbox: Sandbox,
    user: User,
    connection_id: uuid.UUID,
    *,
    session_key: str | None = SESSION,
    clock: Clock = SYSTEM_CLOCK,
) -> str:
    bind_scope(db, actor_for(user).scope)  # as a request does
    url = await start_authorization(
        db, actor=actor_for(user), box=web.secret_box, config=sandbox.config(),
        connection_id=connection_id, session_key=session_key, clock=clock,
    )  # fmt: skip
    await db.commit()
    return url


async def finish(
    db: AsyncSession,
    web: WebState,
    sandbox: Sandbox,
    actor: Actor,
    callback: Callback,
    *,
    session_key: str | None = SESSION,
    clock: Clock = SYSTEM_CLOCK,
) -> Connection:
    """The callback as the UI route runs it: in the actor's scope, a refusal committed too."""
    bind_scope(db, actor.scope)
    try:
        connection = await complete_authorization(
            db, actor=actor, box=web.secret_box, config=sandbox.config(), state=callback.state,
            code=callback.code, error=callback.error, session_key=session_key,
            http=sandbox.http, clock=clock,
        )  # fmt: skip
    finally:
        await db.commit()
    return connection


async def stored(db: AsyncSession, web: WebState, connection_id: uuid.UUID) -> dict[str, object]:
    return open_connection_secrets(await reloaded(db, connection_id), web.secret_box)


async def connected(
    db: AsyncSession, web: WebState, sandbox: Sandbox, world: World
) -> tuple[Connection, dict[str, object]]:
    """Tenant A's HubSpot connection, connected by its admin."""
    url = await start(db, web, sandbox, world.a.admin, world.a.hubspot.id)
    callback = await consent(sandbox.http, url)
    connection = await finish(db, web, sandbox, actor_for(world.a.admin), callback)
    return connection, await stored(db, web, connection.id)


async def refused(
    db: AsyncSession,
    web: WebState,
    sandbox: Sandbox,
    actor: Actor,
    callback: Callback,
    problem: CallbackProblem,
    **kwargs: object,
) -> None:
    with pytest.raises(OAuthCallbackError) as caught:
        await finish(db, web, sandbox, actor, callback, **kwargs)  # type: ignore[arg-type]
    assert caught.value.problem is problem


class TestStart:
    async def test_authorize_url_asks_for_the_mappings_scopes_with_state_and_pkce(
        self, db: AsyncSession, web: WebState, sandbox: Sandbox, world: World
    ) -> None:
        url = await start(db, web, sandbox, world.a.admin, world.a.hubspot.id)
        parts = urlsplit(url)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        assert f"{parts.scheme}://{parts.netloc}{parts.path}" == sandbox.url + "/oauth/authorize"
        assert query["client_id"] == CLIENT_ID
        assert query["redirect_uri"] == "http://127.0.0.1:8000/ui/hubspot/oauth/callback"
        assert query["scope"].split() == [
            "crm.objects.companies.read", "crm.objects.companies.write",
            "crm.schemas.companies.read", "crm.schemas.companies.write", "oauth",
        ]  # fmt: skip
        assert query["state"].startswith(f"{world.a.hubspot.id}.")
        assert query["code_challenge_method"] == "S256"
        secrets = await stored(db, web, world.a.hubspot.id)
        assert query["state"] not in str(secrets)  # only its hash is kept

    async def test_another_tenants_connection_is_not_found(
        self, db: AsyncSession, web: WebState, sandbox: Sandbox, world: World
    ) -> None:
        with pytest.raises(NotFound):
            await start(db, web, sandbox, world.b.admin, world.a.hubspot.id)

    async def test_viewers_may_not_connect(
        self, db: AsyncSession, web: WebState, sandbox: Sandbox, world: World
    ) -> None:
        with pytest.raises(Forbidden):
            await start(db, web, sandbox, world.a.viewer, world.a.hubspot.id)

    async def test_only_hubspot_connections(
        self, db: AsyncSession, web: WebState, sandbox: Sandbox, world: World
    ) -> None:
        with pytest.raises(InvalidInput):
            await start(db, web, sandbox, world.a.admin, world.a.source.id)

    async def test_needs_a_configured_app(
        self, db: AsyncSession, web: WebState, world: World
    ) -> None:
        with pytest.raises(OAuthNotConfigured):
            await start_authorization(
                db, actor=actor_for(world.a.admin), box=web.secret_box, config=None,
                connection_id=world.a.hubspot.id, session_key=SESSION,
            )  # fmt: skip


class TestCallback:
    async def test_stores_tokens_encrypted_and_the_portal_in_config(
        self,
        db: AsyncSession,
        web: WebState,
        sandbox: Sandbox,
        world: World,
        captured_logs: io.StringIO,
    ) -> None:
        connection, secrets = await connected(db, web, sandbox, world)
        assert connection.hub_id == PORTAL_ID
        assert connection.config["portal_id"] == PORTAL_ID
        assert connection.config["auth"] == "oauth"
        assert connection.config["base_url"] == sandbox.url
        assert "crm.objects.companies.write" in connection.config["scopes"]
        access, refresh = str(secrets["access_token"]), str(secrets["refresh_token"])
        assert sandbox.registry.authenticate(access) is not None
        assert PENDING not in secrets  # the state is used up
        assert float(str(secrets["expires_at"])) > 0
        dump = await dump_database(db, web.settings.database_url)
        assert access not in dump
        assert refresh not in dump
        assert access not in captured_logs.getvalue()
        assert refresh not in captured_logs.getvalue()
        audit = (
            await db.execute(select(AuditEntry).where(AuditEntry.action == "hubspot.connected"))
        ).scalar_one()
        assert audit.details["portal_id"] == PORTAL_ID
        assert access not in str(audit.details)

    async def test_a_used_state_is_refused(
        self, db: AsyncSession, web: WebState, sandbox: Sandbox, world: World
    ) -> None:
        url = await start(db, web, sandbox, world.a.admin, world.a.hubspot.id)
        callback = await consent(sandbox.http, url)
        await finish(db, web, sandbox, actor_for(world.a.admin), callback)
        before = await stored(db, web, world.a.hubspot.id)
        await refused(
            db, web, sandbox, actor_for(world.a.admin), callback, CallbackProblem.unknown_state
        )
        assert await stored(db, web, world.a.hubspot.id) == before

    async def test_an_expired_state_is_refused_and_used_up(
        self, db: AsyncSession, web: WebState, sandbox: Sandbox, world: World
    ) -> None:
        clock = FakeClock()
        url = await start(db, web, sandbox, world.a.admin, world.a.hubspot.id, clock=clock)
        callback = await consent(sandbox.http, url)
        clock.now += 601
        admin = actor_for(world.a.admin)
        await refused(db, web, sandbox, admin, callback, CallbackProblem.expired, clock=clock)
        assert await stored(db, web, world.a.hubspot.id) == {}
        clock.now -= 601  # even in time again, the state was used
        await refused(db, web, sandbox, admin, callback, CallbackProblem.unknown_state)

    @pytest.mark.parametrize("who", ["other user", "other session"])
    async def test_the_callback_must_come_from_who_started(
        self, db: AsyncSession, web: WebState, sandbox: Sandbox, world: World, who: str
    ) -> None:
        url = await start(db, web, sandbox, world.a.admin, world.a.hubspot.id)
        callback = await consent(sandbox.http, url)
        actor = actor_for(world.operator if who == "other user" else world.a.admin)
        session_key = "another-session" if who == "other session" else SESSION
        await refused(
            db, web, sandbox, actor, callback, CallbackProblem.wrong_user, session_key=session_key
        )
        assert await stored(db, web, world.a.hubspot.id) == {}

    async def test_another_tenant_cannot_use_or_spoil_the_state(
        self, db: AsyncSession, web: WebState, sandbox: Sandbox, world: World
    ) -> None:
        url = await start(db, web, sandbox, world.a.admin, world.a.hubspot.id)
        callback = await consent(sandbox.http, url)
        await refused(
            db, web, sandbox, actor_for(world.b.admin), callback, CallbackProblem.unknown_state
        )
        connection = await finish(db, web, sandbox, actor_for(world.a.admin), callback)
        assert connection.hub_id == PORTAL_ID

    async def test_denied_consent_stores_nothing(
        self, db: AsyncSession, web: WebState, sandbox: Sandbox, world: World
    ) -> None:
        url = await start(db, web, sandbox, world.a.admin, world.a.hubspot.id)
        callback = await consent(sandbox.http, url, approve=False)
        assert callback.error == "access_denied"
        await refused(db, web, sandbox, actor_for(world.a.admin), callback, CallbackProblem.denied)
        assert await stored(db, web, world.a.hubspot.id) == {}
        audit = await db.scalar(
            select(AuditEntry).where(AuditEntry.action == "hubspot.connect_refused")
        )
        assert audit is not None
        assert audit.details == {"reason": "denied"}

    async def test_a_code_hubspot_refuses_stores_nothing(
        self, db: AsyncSession, web: WebState, sandbox: Sandbox, world: World
    ) -> None:
        url = await start(db, web, sandbox, world.a.admin, world.a.hubspot.id)
        callback = await consent(sandbox.http, url)
        forged = Callback(code="forged-code", state=callback.state, error=None)
        await refused(db, web, sandbox, actor_for(world.a.admin), forged, CallbackProblem.refused)
        assert await stored(db, web, world.a.hubspot.id) == {}

    async def test_a_portal_of_another_tenant_is_refused_and_its_new_grant_revoked(
        self, db: AsyncSession, web: WebState, sandbox: Sandbox, world: World
    ) -> None:
        await connected(db, web, sandbox, world)
        url = await start(db, web, sandbox, world.b.admin, world.b.hubspot.id)
        callback = await consent(sandbox.http, url)
        await refused(
            db, web, sandbox, actor_for(world.b.admin), callback, CallbackProblem.portal_taken
        )
        assert await stored(db, web, world.b.hubspot.id) == {}
        assert len(sandbox.registry._refresh) == 1  # only tenant A's grant is left

    async def test_an_operator_may_connect_a_portal_to_a_second_tenant(
        self, db: AsyncSession, web: WebState, sandbox: Sandbox, world: World
    ) -> None:
        await connected(db, web, sandbox, world)
        url = await start(db, web, sandbox, world.operator, world.b.hubspot.id)
        callback = await consent(sandbox.http, url)
        connection = await finish(db, web, sandbox, actor_for(world.operator), callback)
        assert connection.hub_id == PORTAL_ID


class TestDisconnect:
    async def test_revokes_at_hubspot_and_deletes_the_tokens(
        self, db: AsyncSession, web: WebState, sandbox: Sandbox, world: World
    ) -> None:
        connection, secrets = await connected(db, web, sandbox, world)
        revoked = await disconnect(
            db, actor=actor_for(world.a.admin), box=web.secret_box, connection_id=connection.id,
            http=sandbox.http,
        )  # fmt: skip
        await db.commit()
        assert revoked is True
        refresh = str(secrets["refresh_token"])
        assert sandbox.registry.refresh(refresh, CLIENT_ID, CLIENT_SECRET) is None
        assert await stored(db, web, connection.id) == {}
        row = await reloaded(db, connection.id)
        assert row.secrets_encrypted is None
        assert row.hub_id is None
        assert "portal_id" not in row.config
        assert "scopes" not in row.config

    async def test_deletes_the_tokens_even_when_hubspot_cannot_be_reached(
        self, db: AsyncSession, web: WebState, sandbox: Sandbox, world: World
    ) -> None:
        connection, _secrets = await connected(db, web, sandbox, world)

        def unreachable(request: httpx.Request) -> httpx.Response:
            raise httpx.ConnectError("HubSpot is gone", request=request)

        async with httpx.AsyncClient(transport=httpx.MockTransport(unreachable)) as http:
            revoked = await disconnect(
                db, actor=actor_for(world.a.admin), box=web.secret_box,
                connection_id=connection.id, http=http,
            )  # fmt: skip
        await db.commit()
        assert revoked is False
        assert await stored(db, web, connection.id) == {}

    async def test_viewers_may_not_disconnect(
        self, db: AsyncSession, web: WebState, sandbox: Sandbox, world: World
    ) -> None:
        await connected(db, web, sandbox, world)
        with pytest.raises(Forbidden):
            await disconnect(
                db, actor=actor_for(world.a.viewer), box=web.secret_box,
                connection_id=world.a.hubspot.id, http=sandbox.http,
            )  # fmt: skip
        assert "access_token" in await stored(db, web, world.a.hubspot.id)
