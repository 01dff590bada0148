"""OAuth at run time, against the sandbox over loopback: refresh, storage, revocation."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.api.deps import actor_for
from app.core.tenancy import bind_scope
from app.models import Connection, Interface
from app.models.enums import Health, RunStatus
from app.sync.connections import open_connection_secrets
from app.sync.health import FAILURE_REASONS
from app.sync.hubspot_oauth import complete_authorization, start_authorization
from app.sync.running import hubspot_access, run_now
from app.web import WebState
from tests.factories import World
from tests.oauth.conftest import Sandbox, consent, reloaded
from tests.security.test_secrets_at_rest import dump_database

REVOKED_REASON = next(r.reason for r in FAILURE_REASONS if "widerrufen" in r.reason)


async def connect(db: AsyncSession, web: WebState, sandbox: Sandbox, world: World) -> None:
    """Tenant A's admin connects its HubSpot connection to the live sandbox."""
    actor = actor_for(world.a.admin)
    bind_scope(db, actor.scope)
    config = sandbox.config()
    url = await start_authorization(
        db, actor=actor, box=web.secret_box, config=config, connection_id=world.a.hubspot.id,
        session_key="cookie",
    )  # fmt: skip
    callback = await consent(sandbox.http, url)
    await complete_authorization(
        db, actor=actor, box=web.secret_box, config=config, state=callback.state,
        code=callback.code, error=callback.error, session_key="cookie",
    )  # fmt: skip
    await db.commit()


async def current(
    db: AsyncSession, web: WebState, world: World
) -> tuple[Connection, dict[str, object]]:
    """Tenant A's HubSpot connection as stored now, and its decrypted secrets."""
    row = await reloaded(db, world.a.hubspot.id)
    return row, open_connection_secrets(row, web.secret_box)


@pytest.fixture
async def csv_source(db: AsyncSession, world: World, tmp_path: Path) -> None:
    """Tenant A's source becomes a folder with one customer, so its interface can run."""
    (tmp_path / "customers.csv").write_text("customer_no;name\n10001;Muster AG\n", encoding="utf-8")
    source = await db.get(Connection, world.a.source.id)
    assert source is not None
    source.connector = "csv"
    source.config = {"folder": str(tmp_path), "keys": {"customers": "customer_no"}}
    await db.commit()


async def test_a_refresh_after_a_401_stores_the_new_tokens_encrypted(
    db: AsyncSession,
    web: WebState,
    live_sandbox: Sandbox,
    world: World,
    captured_logs: io.StringIO,
) -> None:
    await connect(db, web, live_sandbox, world)
    _row, before = await current(db, web, world)
    live_sandbox.registry.expire_access_tokens()  # HubSpot now answers 401 to the stored token
    interface = await db.get(Interface, world.a.interface.id)
    assert interface is not None
    access = await hubspot_access(
        db, actor=actor_for(world.a.admin), box=web.secret_box, interface=interface
    )
    assert access.oauth is not None
    async with access.client() as client:
        await client.properties.list("companies")
    row, after = await current(db, web, world)
    assert after["access_token"] != before["access_token"]
    assert live_sandbox.registry.authenticate(str(after["access_token"])) is not None
    assert after["refresh_token"] == before["refresh_token"]
    assert float(str(after["expires_at"])) >= float(str(before["expires_at"]))
    assert "revoked_at" not in row.config
    raw = "\n".join(str(r) for r in (await db.execute(text("SELECT * FROM connections"))).all())
    dump = await dump_database(db, web.settings.database_url)
    logs = captured_logs.getvalue()
    for token in (before["access_token"], after["access_token"], after["refresh_token"]):
        assert str(token) not in raw
        assert str(token) not in dump
        assert str(token) not in logs


async def test_a_token_about_to_expire_is_refreshed_before_the_call(
    db: AsyncSession, web: WebState, live_sandbox: Sandbox, world: World
) -> None:
    await connect(db, web, live_sandbox, world)
    row, values = await current(db, web, world)
    row.secrets_encrypted = web.secret_box.encrypt(str(row.id), {**values, "expires_at": 0.0})
    await db.commit()
    interface = await db.get(Interface, world.a.interface.id)
    assert interface is not None
    access = await hubspot_access(
        db, actor=actor_for(world.a.admin), box=web.secret_box, interface=interface
    )
    async with access.client() as client:
        await client.properties.list("companies")
    _row, after = await current(db, web, world)
    assert after["access_token"] != values["access_token"]
    assert float(str(after["expires_at"])) > 0.0


@pytest.mark.usefixtures("csv_source")
async def test_a_revoked_refresh_fails_the_run_with_the_reconnect_reason(
    db: AsyncSession, web: WebState, live_sandbox: Sandbox, world: World
) -> None:
    await connect(db, web, live_sandbox, world)
    _row, values = await current(db, web, world)
    await live_sandbox.revoke(str(values["refresh_token"]))  # the app was uninstalled
    live_sandbox.registry.expire_access_tokens()
    actor = actor_for(world.a.admin)

    async def run() -> tuple[str, str | None, str | None]:
        result = await run_now(
            web.session_factory, actor=actor, box=web.secret_box,
            interface_id=world.a.interface.id, public_url=web.settings.public_url,
        )  # fmt: skip
        interface = (
            await db.execute(
                select(Interface)
                .where(Interface.id == world.a.interface.id)
                .execution_options(populate_existing=True)
            )
        ).scalar_one()
        assert interface.health == Health.error
        return result.status, result.error_summary, interface.health_reason

    status, summary, reason = await run()
    assert status == RunStatus.failed
    assert summary is not None
    assert summary.startswith("RefreshFailed")
    assert reason == REVOKED_REASON
    assert "HubSpot neu verbinden" in reason
    row, _values = await current(db, web, world)
    assert row.config["revoked_at"]

    calls = live_sandbox.api_requests
    status, summary, reason = await run()  # no more calls until someone reconnects
    assert (status, reason) == (RunStatus.failed, REVOKED_REASON)
    assert summary is not None
    assert "reconnect HubSpot" in summary
    assert live_sandbox.api_requests == calls
