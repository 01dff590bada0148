"""Operator and admin pages: tenants, users, API tokens, connections, audit log.

Every action is a POST form that works without JS (303) and with htmx (204 +
HX-Location, or the re-rendered panel); roles and tenants are enforced by the
services, so viewers get 403 and another tenant's ids 404.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.actor import Actor
from app.models import ApiToken, AuditEntry, Connection, Tenant, User, UserSession
from app.models.enums import ConnectionKind, Role
from app.sync import connections
from app.web import WebState
from tests.factories import World, add_token, bearer
from tests.routes import PATH_PARAM, ui_operations
from tests.ui.test_pages import CANARY
from tests.ui_session import csrf_from, post_login, sign_in

HTMX = {"HX-Request": "true", "HX-Request-Type": "partial"}
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"


def assert_escaped(text: str) -> None:
    assert "<script>alert(1)</script>" not in text
    assert "onerror=alert(1)><b" not in text
    assert ESCAPED in text


async def count(db: AsyncSession, model: type[object], *where: object) -> int:
    db.expire_all()
    statement = select(func.count()).select_from(model)
    for condition in where:
        statement = statement.where(condition)  # type: ignore[arg-type]
    return int((await db.execute(statement)).scalar_one())


async def reloaded(db: AsyncSession, connection_id: uuid.UUID) -> Connection:
    """The connection as the database holds it now."""
    connection = await db.get(Connection, connection_id, populate_existing=True)
    assert connection is not None
    return connection


@pytest.fixture
async def other_client(
    web_app: FastAPI, client: httpx.AsyncClient
) -> AsyncIterator[httpx.AsyncClient]:
    """A second browser, e.g. for the user just created."""
    transport = httpx.ASGITransport(app=web_app)
    async with httpx.AsyncClient(transport=transport, base_url=client.base_url) as other:
        yield other


# --- navigation ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "visible", "hidden"),
    [
        (
            "operator",
            ["/ui/tenants", "/ui/users", "/ui/connections", "/ui/tokens", "/ui/audit"],
            [],
        ),
        ("admin", ["/ui/users", "/ui/connections", "/ui/tokens", "/ui/audit"], ["/ui/tenants"]),
        ("viewer", ["/ui/users", "/ui/connections", "/ui/tokens"], ["/ui/tenants", "/ui/audit"]),
    ],
)
async def test_navigation_offers_the_pages_of_the_role(
    client: httpx.AsyncClient, world: World, who: str, visible: list[str], hidden: list[str]
) -> None:
    email = {"operator": world.operator.email, "admin": world.a.admin.email}.get(
        who, world.a.viewer.email
    )
    await sign_in(client, email)
    text = (await client.get("/ui/tokens")).text
    assert "<summary" in text
    assert "Verwaltung" in text
    for url in visible:
        assert f'href="{url}"' in text, url
    for url in hidden:
        assert f'href="{url}"' not in text, url
    assert '<a href="/ui/tokens" aria-current="page">API-Tokens</a>' in text


@pytest.mark.parametrize(
    ("path", "heading", "block_id"),
    [
        ("/ui/tenants", "Mandanten", "tenants-panel"),
        ("/ui/users", "Benutzer", "users-panel"),
        ("/ui/tokens", "API-Tokens", "tokens-panel"),
        ("/ui/audit", "Änderungsprotokoll", "audit-results"),
    ],
)
async def test_page_renders_whole_and_as_partial(
    client: httpx.AsyncClient, world: World, path: str, heading: str, block_id: str
) -> None:
    await sign_in(client, world.operator.email)
    page = await client.get(path)
    assert page.status_code == 200
    assert f"<h1>{heading}</h1>" in page.text
    assert '<html lang="de-CH"' in page.text
    partial = await client.get(path, headers=HTMX)
    assert partial.status_code == 200
    assert "<html" not in partial.text
    assert f'id="{block_id}"' in partial.text
    assert "HX-Request-Type" in partial.headers["vary"]


# --- tenant isolation --------------------------------------------------------------------

ADMIN_PREFIXES = ("/ui/tenants/", "/ui/users/", "/ui/tokens/", "/ui/connections/", "/ui/audit/")


async def test_every_admin_route_with_an_id_hides_other_tenants(
    client: httpx.AsyncClient, other_client: httpx.AsyncClient, world: World, db: AsyncSession
) -> None:
    """Walked from the router: B's admin and viewer get 404 for A's ids, and nothing changes."""
    routes = [(m, p) for m, p in ui_operations() if p.startswith(ADMIN_PREFIXES) and "{" in p]
    assert len(routes) >= 5, routes
    a_token = (
        await db.execute(select(ApiToken).where(ApiToken.user_id == world.a.admin.id))
    ).scalar_one()
    a_ids = {
        "user_id": world.a.viewer.id,
        "token_id": a_token.id,
        "connection_id": world.a.source.id,
        "tenant_id": world.a.tenant.id,
    }
    csrf = {
        id(client): await sign_in(client, world.b.admin.email),
        id(other_client): await sign_in(other_client, world.b.viewer.email),
    }
    before = await audit_count(db)
    for method, path in routes:
        url = PATH_PARAM.sub(lambda m: str(a_ids[m.group(1)]), path)
        for browser in (client, other_client):
            data = {"csrf_token": csrf[id(browser)], "config": "{}"} if method == "POST" else None
            response = await browser.request(method, url, data=data)
            assert response.status_code == 404, (method, path, response.status_code)
    assert await audit_count(db) == before
    assert await count(db, User, User.is_active.is_(False)) == 0
    assert await count(db, ApiToken, ApiToken.revoked_at.is_not(None)) == 0


async def audit_count(db: AsyncSession) -> int:
    """Audit rows other than sign-ins (each sign-in writes one)."""
    return await count(db, AuditEntry, AuditEntry.action != "login.succeeded")


# --- tenants ------------------------------------------------------------------------------


async def test_operator_lists_and_creates_tenants_without_js(
    client: httpx.AsyncClient, world: World, db: AsyncSession
) -> None:
    token = await sign_in(client, world.operator.email)
    page = (await client.get("/ui/tenants")).text
    assert "Tenant TENANT-A" in page
    assert "Tenant TENANT-B" in page
    assert 'action="/ui/tenants"' in page
    assert 'hx-disable="find button"' in page
    response = await client.post(
        "/ui/tenants", data={"csrf_token": token, "name": "Müller AG", "slug": "mueller"}
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/ui/tenants"
    assert "Müller AG" in (await client.get("/ui/tenants")).text
    assert await count(db, AuditEntry, AuditEntry.action == "tenant.create") == 1


async def test_tenant_created_with_htmx_navigates_by_hx_location(
    client: httpx.AsyncClient, world: World, db: AsyncSession
) -> None:
    token = await sign_in(client, world.operator.email)
    response = await client.post(
        "/ui/tenants",
        data={"name": "Huber GmbH", "slug": "huber"},
        headers={**HTMX, "X-CSRF-Token": token},
    )
    assert response.status_code == 204
    assert response.headers["HX-Location"] == "/ui/tenants"
    assert await count(db, Tenant) == 3


async def test_bad_tenant_form_comes_back_marked(
    client: httpx.AsyncClient, world: World, db: AsyncSession
) -> None:
    token = await sign_in(client, world.operator.email)
    response = await client.post(
        "/ui/tenants", data={"csrf_token": token, "name": "X", "slug": "Not A Slug!"}, headers=HTMX
    )
    assert response.status_code == 422
    assert "<html" not in response.text
    assert "Bitte die markierten Felder korrigieren." in response.text
    assert 'name="slug" type="text" value="Not A Slug!"' in response.text
    assert 'aria-invalid="true" autofocus' in response.text
    assert await count(db, Tenant) == 2


async def test_duplicate_tenant_slug_is_explained(
    client: httpx.AsyncClient, world: World, db: AsyncSession
) -> None:
    token = await sign_in(client, world.operator.email)
    response = await client.post(
        "/ui/tenants", data={"csrf_token": token, "name": "Again", "slug": "tenant-a"}
    )
    assert response.status_code == 409
    assert "Ein Mandant mit diesem Kurznamen existiert bereits." in response.text
    assert await count(db, Tenant) == 2


async def test_admin_sees_only_own_tenant_and_cannot_create(
    client: httpx.AsyncClient, world: World, db: AsyncSession
) -> None:
    token = await sign_in(client, world.b.admin.email)
    page = (await client.get("/ui/tenants")).text
    assert "Tenant TENANT-B" in page
    assert "Tenant TENANT-A" not in page
    assert 'action="/ui/tenants"' not in page
    response = await client.post(
        "/ui/tenants", data={"csrf_token": token, "name": "Mine", "slug": "mine"}
    )
    assert response.status_code == 403
    assert await count(db, Tenant) == 2


# --- users --------------------------------------------------------------------------------


async def test_admin_lists_own_tenants_users_only(client: httpx.AsyncClient, world: World) -> None:
    await sign_in(client, world.b.admin.email)
    text = (await client.get("/ui/users")).text
    assert "viewer@tenant-b.example.com" in text
    assert "tenant-a.example.com" not in text
    assert "operator@example.com" not in text
    assert '<option value="operator"' not in text  # admins cannot create operators
    assert 'name="tenant_id"' not in text  # the tenant is the admin's own
    assert f'action="/ui/users/{world.b.viewer.id}/deactivate"' in text
    assert f'action="/ui/users/{world.b.admin.id}/deactivate"' not in text  # not oneself


async def test_generated_initial_password_is_shown_once_and_works(
    client: httpx.AsyncClient, other_client: httpx.AsyncClient, world: World, db: AsyncSession
) -> None:
    token = await sign_in(client, world.b.admin.email)
    response = await client.post(
        "/ui/users",
        data={"csrf_token": token, "email": "New.Person@Tenant-B.example.com", "role": "viewer"},
        headers=HTMX,
    )
    assert response.status_code == 200
    assert "Benutzer new.person@tenant-b.example.com angelegt." in response.text
    start = response.text.index('id="initial-password"')
    password = response.text[start:].split('value="', 1)[1].split('"', 1)[0]
    assert len(password) >= 16
    assert "readonly" in response.text[start : start + 200]
    user = (
        await db.execute(select(User).where(User.email == "new.person@tenant-b.example.com"))
    ).scalar_one()
    assert (user.role, user.tenant_id) == (Role.viewer, world.b.tenant.id)
    assert password not in user.password_hash
    assert password not in (await client.get("/ui/users")).text
    login = await post_login(other_client, "new.person@tenant-b.example.com", password)
    assert login.status_code == 303


async def test_typed_initial_password_is_never_shown(
    client: httpx.AsyncClient, world: World, db: AsyncSession
) -> None:
    token = await sign_in(client, world.a.admin.email)
    password = "a long and private passphrase"
    response = await client.post(
        "/ui/users",
        data={
            "csrf_token": token,
            "email": "typed@tenant-a.example.com",
            "role": "admin",
            "password": password,
        },
    )
    assert response.status_code == 200
    assert password not in response.text
    assert 'id="initial-password"' not in response.text
    assert await count(db, User, User.email == "typed@tenant-a.example.com") == 1


async def test_weak_password_and_duplicate_email_come_back_in_the_form(
    client: httpx.AsyncClient, world: World, db: AsyncSession
) -> None:
    token = await sign_in(client, world.a.admin.email)
    weak = await client.post(
        "/ui/users",
        data={
            "csrf_token": token,
            "email": "weak@tenant-a.example.com",
            "role": "viewer",
            "password": "short",
        },
        headers=HTMX,
    )
    assert weak.status_code == 422
    assert "Der Benutzer konnte nicht angelegt werden." in weak.text
    assert 'value="weak@tenant-a.example.com"' in weak.text
    assert "short" not in weak.text.replace("shortcut", "")  # the password is never echoed
    duplicate = await client.post(
        "/ui/users",
        data={"csrf_token": token, "email": world.a.viewer.email, "role": "viewer"},
    )
    assert duplicate.status_code == 409
    assert "Ein Benutzer mit dieser E-Mail-Adresse existiert bereits." in duplicate.text
    assert await count(db, User) == 5


async def test_admin_cannot_create_an_operator(
    client: httpx.AsyncClient, world: World, db: AsyncSession
) -> None:
    token = await sign_in(client, world.a.admin.email)
    response = await client.post(
        "/ui/users", data={"csrf_token": token, "email": "boss@example.com", "role": "operator"}
    )
    assert response.status_code == 403
    assert await count(db, User) == 5


async def test_tenant_id_in_the_form_cannot_place_a_user_in_another_tenant(
    client: httpx.AsyncClient, world: World, db: AsyncSession
) -> None:
    token = await sign_in(client, world.b.admin.email)
    response = await client.post(
        "/ui/users",
        data={
            "csrf_token": token,
            "email": "intruder@example.com",
            "role": "admin",
            "tenant_id": str(world.a.tenant.id),
        },
    )
    assert response.status_code == 200
    user = (await db.execute(select(User).where(User.email == "intruder@example.com"))).scalar_one()
    assert user.tenant_id == world.b.tenant.id


async def test_operator_creates_users_in_any_tenant_and_filters(
    client: httpx.AsyncClient, world: World, db: AsyncSession
) -> None:
    token = await sign_in(client, world.operator.email)
    page = (await client.get("/ui/users")).text
    assert "viewer@tenant-a.example.com" in page
    assert "viewer@tenant-b.example.com" in page
    assert '<option value="operator"' in page
    response = await client.post(
        "/ui/users",
        data={
            "csrf_token": token,
            "email": "ops2@example.com",
            "role": "operator",
            "tenant_id": "",
        },
    )
    assert response.status_code == 200
    user = (await db.execute(select(User).where(User.email == "ops2@example.com"))).scalar_one()
    assert (user.role, user.tenant_id) == (Role.operator, None)
    filtered = (await client.get(f"/ui/users?tenant={world.a.tenant.id}")).text
    assert "viewer@tenant-a.example.com" in filtered
    assert "viewer@tenant-b.example.com" not in filtered


async def test_deactivating_ends_sessions_and_tokens_at_once(
    client: httpx.AsyncClient, other_client: httpx.AsyncClient, world: World, db: AsyncSession
) -> None:
    await sign_in(other_client, world.a.viewer.email)
    token = await sign_in(client, world.a.admin.email)
    url = f"/ui/users/{world.a.viewer.id}/deactivate"
    response = await client.post(url, data={"csrf_token": token})
    assert response.status_code == 303
    assert response.headers["location"] == "/ui/users"
    assert await count(db, UserSession, UserSession.user_id == world.a.viewer.id) == 0
    api = await client.get("/api/v1/me", headers=bearer(world.a.viewer_token))
    assert api.status_code == 401
    assert (await other_client.get("/ui/")).status_code == 303  # sent to the login
    assert "deaktiviert" in (await client.get("/ui/users")).text


async def test_deactivate_with_htmx_answers_with_hx_location(
    client: httpx.AsyncClient, world: World
) -> None:
    token = await sign_in(client, world.a.admin.email)
    response = await client.post(
        f"/ui/users/{world.a.viewer.id}/deactivate", headers={**HTMX, "X-CSRF-Token": token}
    )
    assert response.status_code == 204
    assert response.headers["HX-Location"] == "/ui/users"


async def test_another_tenants_user_is_not_found(
    client: httpx.AsyncClient, world: World, db: AsyncSession
) -> None:
    token = await sign_in(client, world.b.admin.email)
    response = await client.post(
        f"/ui/users/{world.a.viewer.id}/deactivate", data={"csrf_token": token}
    )
    assert response.status_code == 404
    assert await count(db, User, User.is_active.is_(False)) == 0


async def test_viewer_reads_users_but_changes_nothing(
    client: httpx.AsyncClient, world: World, db: AsyncSession
) -> None:
    token = await sign_in(client, world.a.viewer.email)
    page = (await client.get("/ui/users")).text
    assert "admin@tenant-a.example.com" in page
    assert 'method="post" action="/ui/users' not in page
    created = await client.post(
        "/ui/users", data={"csrf_token": token, "email": "x@tenant-a.example.com", "role": "viewer"}
    )
    deactivated = await client.post(
        f"/ui/users/{world.a.admin.id}/deactivate", data={"csrf_token": token}, headers=HTMX
    )
    assert created.status_code == 403
    assert deactivated.status_code == 403
    assert deactivated.headers["HX-Retarget"] == "#toasts"
    assert await count(db, User) == 5
    assert await count(db, User, User.is_active.is_(False)) == 0


# --- API tokens ---------------------------------------------------------------------------


async def test_new_token_is_shown_once_then_only_name_and_prefix(
    client: httpx.AsyncClient, world: World, db: AsyncSession
) -> None:
    token = await sign_in(client, world.a.viewer.email)
    response = await client.post(
        "/ui/tokens", data={"csrf_token": token, "name": "ERP export", "expires_in_days": "30"}
    )
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    start = response.text.index('id="issued-token"')
    value = response.text[start:].split('value="', 1)[1].split('"', 1)[0]
    assert value.startswith("hsy_") or len(value) > 30
    assert "readonly" in response.text[start : start + 200]
    me = await client.get("/api/v1/me", headers=bearer(value))
    assert me.json()["email"] == world.a.viewer.email
    later = (await client.get("/ui/tokens")).text
    assert value not in later
    assert "ERP export" in later
    assert f"<code>{value[:10]}…</code>" in later
    row = (await db.execute(select(ApiToken).where(ApiToken.name == "ERP export"))).scalar_one()
    assert row.expires_at is not None
    assert timedelta(days=29) < row.expires_at - datetime.now(UTC) <= timedelta(days=30)


async def test_token_created_with_htmx_returns_only_the_panel(
    client: httpx.AsyncClient, world: World
) -> None:
    token = await sign_in(client, world.a.admin.email)
    response = await client.post(
        "/ui/tokens",
        data={"name": "script", "expires_in_days": ""},
        headers={**HTMX, "X-CSRF-Token": token},
    )
    assert response.status_code == 200
    assert "<html" not in response.text
    assert 'id="tokens-panel"' in response.text
    assert 'id="issued-token"' in response.text


async def test_blank_token_name_is_refused(
    client: httpx.AsyncClient, world: World, db: AsyncSession
) -> None:
    token = await sign_in(client, world.a.admin.email)
    before = await count(db, ApiToken)
    response = await client.post(
        "/ui/tokens", data={"csrf_token": token, "name": "  ", "expires_in_days": "7"}
    )
    assert response.status_code == 422
    assert 'id="issued-token"' not in response.text
    assert await count(db, ApiToken) == before


async def test_revoked_token_stops_working(
    client: httpx.AsyncClient, world: World, db: AsyncSession
) -> None:
    token = await sign_in(client, world.a.admin.email)
    row = (
        await db.execute(select(ApiToken).where(ApiToken.user_id == world.a.admin.id))
    ).scalar_one()
    response = await client.post(f"/ui/tokens/{row.id}/revoke", data={"csrf_token": token})
    assert response.status_code == 303
    assert response.headers["location"] == "/ui/tokens"
    api = await client.get("/api/v1/me", headers=bearer(world.a.admin_token))
    assert api.status_code == 401
    page = (await client.get("/ui/tokens")).text
    assert "widerrufen" in page
    assert f'action="/ui/tokens/{row.id}/revoke"' not in page


async def test_someone_elses_token_cannot_be_revoked(
    client: httpx.AsyncClient, world: World, db: AsyncSession
) -> None:
    token = await sign_in(client, world.b.admin.email)
    owners = (world.a.admin.id, world.b.viewer.id)  # another tenant's, and a colleague's
    rows = (await db.execute(select(ApiToken).where(ApiToken.user_id.in_(owners)))).scalars()
    for row in rows.all():
        response = await client.post(f"/ui/tokens/{row.id}/revoke", data={"csrf_token": token})
        assert response.status_code == 404
    assert await count(db, ApiToken, ApiToken.revoked_at.is_not(None)) == 0


# --- connections --------------------------------------------------------------------------

SECRET_CANARY = "pat-na1-canary-0123456789abcdef"


async def store_secret(db: AsyncSession, web: WebState, connection_id: uuid.UUID) -> None:
    """Give a connection a stored (encrypted) access token."""
    connection = await db.get(Connection, connection_id)
    assert connection is not None
    connection.config = {"base_url": "https://api.hubapi.com"}
    connection.secrets_encrypted = web.secret_box.encrypt(
        str(connection.id), {"access_token": SECRET_CANARY}
    )
    connection.secrets_set_at = datetime.now(UTC)
    await db.commit()


async def add_csv_connection(db: AsyncSession, world: World, folder: Path) -> Connection:
    """A working csv source connection of tenant A reading ``folder``."""
    connection = Connection(
        tenant_id=world.a.tenant.id,
        name="csv-files",
        kind=ConnectionKind.source,
        connector="csv",
        config={"folder": str(folder)},
    )
    db.add(connection)
    await db.commit()
    return connection


async def test_connections_list_names_settings_and_secret_status_only(
    client: httpx.AsyncClient, world: World, db: AsyncSession, web: WebState
) -> None:
    await store_secret(db, web, world.a.hubspot.id)
    await sign_in(client, world.a.admin.email)
    text = (await client.get("/ui/connections")).text
    assert SECRET_CANARY not in text
    assert "erp.example.com" in text  # a setting
    assert "<code>access_token</code>" in text
    assert "gesetzt" in text
    assert "<code>url</code>" in text
    assert "nicht gesetzt" in text
    assert "HubSpot-Portal" in text
    assert "Quellsystem" in text
    assert f'href="/ui/connections/{world.a.source.id}"' in text
    assert str(world.b.source.id) not in text
    detail = (await client.get(f"/ui/connections/{world.a.hubspot.id}")).text
    assert SECRET_CANARY not in detail
    assert "Zugangsdaten gespeichert am" in detail
    assert 'name="config"' not in detail  # admins only read the settings
    assert f'action="/ui/connections/{world.a.hubspot.id}/check"' in detail
    assert "Nur Betreiber ändern Verbindungseinstellungen." in detail


async def test_another_tenants_connection_is_not_found(
    client: httpx.AsyncClient, world: World
) -> None:
    token = await sign_in(client, world.b.admin.email)
    url = f"/ui/connections/{world.a.source.id}"
    assert (await client.get(url)).status_code == 404
    for action in (url, f"{url}/check"):
        response = await client.post(action, data={"csrf_token": token, "config": "{}"})
        assert response.status_code == 404, action


async def test_operator_saves_settings_and_blank_secret_keeps_the_stored_one(
    client: httpx.AsyncClient, world: World, db: AsyncSession, web: WebState
) -> None:
    await store_secret(db, web, world.a.hubspot.id)
    token = await sign_in(client, world.operator.email)
    url = f"/ui/connections/{world.a.hubspot.id}"
    form = (await client.get(url)).text
    assert 'name="secret__access_token" type="password"' in form
    assert SECRET_CANARY not in form
    config = '{"base_url": "https://eu1.api.hubapi.com"}'
    data = {"csrf_token": token, "config": config, "secret__access_token": ""}
    response = await client.post(url, data=data)
    assert response.status_code == 303
    assert response.headers["location"] == f"{url}?saved=true"
    assert "Einstellungen gespeichert." in (await client.get(response.headers["location"])).text
    connection = await reloaded(db, world.a.hubspot.id)
    assert connection.config == {"base_url": "https://eu1.api.hubapi.com"}
    assert connections.open_connection_secrets(connection, web.secret_box) == {
        "access_token": SECRET_CANARY
    }
    replaced = {**data, "secret__access_token": "pat-na1-new-value-0123456789"}
    assert (await client.post(url, data=replaced, headers=HTMX)).status_code == 204
    connection = await reloaded(db, world.a.hubspot.id)
    assert connections.open_connection_secrets(connection, web.secret_box) == {
        "access_token": "pat-na1-new-value-0123456789"
    }
    audit = (
        (await db.execute(select(AuditEntry).where(AuditEntry.action == "connection.update")))
        .scalars()
        .all()
    )
    assert [a.details for a in audit] == [
        {"settings": ["base_url"], "secret_fields": []},
        {"settings": [], "secret_fields": ["access_token"]},
    ]
    assert all(SECRET_CANARY not in str(a.details) for a in audit)


@pytest.mark.parametrize(
    ("config", "detail"),
    [
        ("not json", "the settings must be a JSON object"),
        ('["a list"]', "the settings must be a JSON object"),
        ('{"delimiter": ";;"}', "delimiter"),
        ('{"folder": "/tmp", "password": "x"}', "password"),
    ],
)
async def test_invalid_settings_come_back_and_change_nothing(
    client: httpx.AsyncClient,
    world: World,
    db: AsyncSession,
    tmp_path: Path,
    config: str,
    detail: str,
) -> None:
    csv = await add_csv_connection(db, world, tmp_path)
    token = await sign_in(client, world.operator.email)
    response = await client.post(
        f"/ui/connections/{csv.id}", data={"csrf_token": token, "config": config}, headers=HTMX
    )
    assert response.status_code == 422
    assert "<html" not in response.text
    assert "Die Einstellungen wurden nicht gespeichert." in response.text
    assert detail in response.text
    assert (await reloaded(db, csv.id)).config == {"folder": str(tmp_path)}


async def test_admin_and_viewer_cannot_change_settings(
    client: httpx.AsyncClient, other_client: httpx.AsyncClient, world: World, db: AsyncSession
) -> None:
    for browser, who in ((client, world.a.admin), (other_client, world.a.viewer)):
        token = await sign_in(browser, who.email)
        response = await browser.post(
            f"/ui/connections/{world.a.hubspot.id}",
            data={"csrf_token": token, "config": '{"base_url": "https://evil.example.com"}'},
        )
        assert response.status_code == 403
    assert (await reloaded(db, world.a.hubspot.id)).config == {}


async def test_check_reports_a_working_connection(
    client: httpx.AsyncClient, world: World, db: AsyncSession, tmp_path: Path
) -> None:
    (tmp_path / "customers.csv").write_text("id;name\n1;ACME\n", encoding="utf-8")
    csv = await add_csv_connection(db, world, tmp_path)
    token = await sign_in(client, world.a.admin.email)
    url = f"/ui/connections/{csv.id}/check"
    partial = await client.post(url, headers={**HTMX, "X-CSRF-Token": token})
    assert partial.status_code == 200
    assert "<html" not in partial.text
    assert 'id="check-result"' in partial.text
    assert "Die Verbindung funktioniert." in partial.text
    assert "1 csv files" in partial.text
    assert '<hx-partial hx-target="#toasts"' in partial.text
    whole = await client.post(url, data={"csrf_token": token})
    assert whole.status_code == 200
    assert "<h1>csv-files</h1>" in whole.text
    assert "Die Verbindung funktioniert." in whole.text
    assert "<hx-partial" not in whole.text


async def test_check_explains_a_broken_connection(client: httpx.AsyncClient, world: World) -> None:
    token = await sign_in(client, world.a.admin.email)
    source = await client.post(
        f"/ui/connections/{world.a.source.id}/check", data={"csrf_token": token}
    )
    assert "Die Verbindungsprüfung ist fehlgeschlagen." in source.text
    assert "url" in source.text  # the sql connector names the missing setting
    hubspot = await client.post(
        f"/ui/connections/{world.a.hubspot.id}/check", data={"csrf_token": token}
    )
    assert "no access token is stored" in hubspot.text


async def test_viewer_cannot_run_the_check(client: httpx.AsyncClient, world: World) -> None:
    token = await sign_in(client, world.a.viewer.email)
    detail = (await client.get(f"/ui/connections/{world.a.source.id}")).text
    assert "/check" not in detail
    response = await client.post(
        f"/ui/connections/{world.a.source.id}/check", data={"csrf_token": token}
    )
    assert response.status_code == 403


@pytest.mark.parametrize(
    ("status", "ok", "words"),
    [(200, True, "HubSpot accepted"), (401, False, "HTTP 401")],
)
async def test_hubspot_check_asks_hubspot_with_the_stored_token(
    world: World, db: AsyncSession, web: WebState, status: int, ok: bool, words: str
) -> None:
    await store_secret(db, web, world.a.hubspot.id)
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        body: dict[str, object] = {"results": []}
        if status != 200:
            body = {"status": "error", "message": "bad token", "category": "INVALID_AUTHENTICATION"}
        return httpx.Response(status, json=body)

    actor = Actor(role=Role.admin, tenant_id=world.a.tenant.id, user_id=world.a.admin.id)
    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
        result = await connections.check_connection(
            db, actor=actor, box=web.secret_box, connection_id=world.a.hubspot.id, http=http
        )
    assert (result.ok, words in result.message) == (ok, True)
    assert SECRET_CANARY not in result.message
    assert len(seen) == 1
    assert seen[0].headers["Authorization"] == f"Bearer {SECRET_CANARY}"
    assert seen[0].url.path.endswith("/properties/companies")


# --- audit log ----------------------------------------------------------------------------


def entry(tenant: Tenant | None, action: str, at: datetime, **details: object) -> AuditEntry:
    return AuditEntry(
        tenant_id=tenant.id if tenant else None,
        actor_label="cli",
        action=action,
        target_type="interface",
        target_id=str(uuid.uuid4()),
        details=details,
        created_at=at,
    )


async def test_audit_log_is_tenant_scoped(
    client: httpx.AsyncClient, other_client: httpx.AsyncClient, world: World, db: AsyncSession
) -> None:
    now = datetime.now(UTC)
    db.add_all(
        [
            entry(world.a.tenant, "interface.pause", now, interface="a-only"),
            entry(world.b.tenant, "interface.resume", now, interface="b-only"),
            entry(None, "secrets.rotate", now, connections=3),
        ]
    )
    await db.commit()
    await sign_in(client, world.b.admin.email)
    own = (await client.get("/ui/audit")).text
    assert "b-only" in own
    assert "a-only" not in own
    assert "secrets.rotate" not in own
    assert (await client.get(f"/ui/audit?tenant={world.a.tenant.id}")).status_code == 404
    await sign_in(other_client, world.operator.email)
    everything = (await other_client.get("/ui/audit")).text
    assert all(word in everything for word in ("a-only", "b-only", "secrets.rotate"))
    only_a = (await other_client.get(f"/ui/audit?tenant={world.a.tenant.id}")).text
    assert "a-only" in only_a
    assert "b-only" not in only_a


async def test_viewer_has_no_audit_log(client: httpx.AsyncClient, world: World) -> None:
    await sign_in(client, world.a.viewer.email)
    assert (await client.get("/ui/audit")).status_code == 403


async def test_audit_log_filters_by_action_and_whole_zurich_days(
    client: httpx.AsyncClient, world: World, db: AsyncSession
) -> None:
    pause, resume = "interface.pause", "interface.resume"
    db.add_all(
        [
            entry(world.a.tenant, pause, datetime(2025, 3, 6, 23, 30, tzinfo=UTC), n=1),
            entry(world.a.tenant, pause, datetime(2025, 3, 7, 13, 5, tzinfo=UTC), n=2),
            entry(world.a.tenant, resume, datetime(2025, 3, 7, 14, 0, tzinfo=UTC), n=3),
            entry(world.a.tenant, pause, datetime(2025, 3, 7, 23, 30, tzinfo=UTC), n=4),
            entry(world.a.tenant, pause, datetime(2025, 3, 6, 22, 59, tzinfo=UTC), n=5),
        ]
    )
    await db.commit()
    await sign_in(client, world.a.admin.email)
    url = f"/ui/audit?action={pause}&since=2025-03-07&until=2025-03-07"
    text = (await client.get(url)).text
    # Zurich is UTC+1 in March: 06.03. 23:30 UTC is already the 7th, 07.03. 23:30 UTC the 8th
    assert "07.03.2025 00:30:00" in text
    assert "07.03.2025 14:05:00" in text
    for excluded in (3, 4, 5):
        assert f"<dd>{excluded}</dd>" not in text
    assert f'<option value="{pause}" selected>' in text
    assert 'value="2025-03-07"' in text


async def test_audit_log_pages_by_keyset(
    client: httpx.AsyncClient, world: World, db: AsyncSession
) -> None:
    start = datetime(2025, 3, 7, 8, 0, tzinfo=UTC)
    db.add_all(
        [
            entry(world.a.tenant, "interface.pause", start + timedelta(minutes=i), n=i)
            for i in range(60)
        ]
    )
    await db.commit()
    await sign_in(client, world.a.admin.email)
    first = (await client.get("/ui/audit?action=interface.pause")).text
    assert first.count("<dt>n</dt>") == 50
    assert "<dd>59</dd>" in first
    assert "<dd>10</dd>" in first
    assert "<dd>9</dd>" not in first
    older_url = next(
        part.split('"', 1)[0].replace("&amp;", "&")
        for part in first.split('href="')[1:]
        if part.startswith("/ui/audit?") and "before=" in part.split('"', 1)[0]
    )
    assert "action=interface.pause" in older_url
    second_page = await client.get(older_url, headers=HTMX)
    assert "<html" not in second_page.text
    assert second_page.text.count("<dt>n</dt>") == 10
    assert "<dd>9</dd>" in second_page.text
    assert "<dd>0</dd>" in second_page.text
    newer_url = next(
        part.split('"', 1)[0].replace("&amp;", "&")
        for part in second_page.text.split('href="')[1:]
        if "after=" in part.split('"', 1)[0]
    )
    assert "before=" not in second_page.text
    back = (await client.get(newer_url)).text
    assert back.count("<dt>n</dt>") == 50
    assert "<dd>59</dd>" in back


async def test_bad_audit_filter_shows_the_whole_log(
    client: httpx.AsyncClient, world: World
) -> None:
    await sign_in(client, world.a.admin.email)
    for query in ("since=yesterday", "before=nonsense", "tenant=42"):
        response = await client.get(f"/ui/audit?{query}")
        assert response.status_code == 422, query
        assert "Dieser Filter ist ungültig" in response.text


async def test_actions_of_these_pages_are_audited_without_values(
    client: httpx.AsyncClient, world: World, db: AsyncSession
) -> None:
    token = await sign_in(client, world.a.admin.email)
    await client.post("/ui/tokens", data={"csrf_token": token, "name": "n", "expires_in_days": ""})
    await client.post(
        "/ui/users",
        data={"csrf_token": token, "email": "p@tenant-a.example.com", "role": "viewer"},
    )
    text = (await client.get("/ui/audit")).text
    for action in ("token.create", "user.create", "login.succeeded"):
        assert f"<code>{action}</code>" in text, action
    assert "p@tenant-a.example.com" not in text  # the log keeps ids, not emails


# --- hostile names ------------------------------------------------------------------------


async def test_hostile_names_are_escaped_everywhere(
    client: httpx.AsyncClient, world: World, db: AsyncSession, web: WebState
) -> None:
    tenant = await db.get(Tenant, world.a.tenant.id)
    connection = await db.get(Connection, world.a.source.id)
    assert tenant is not None
    assert connection is not None
    tenant.name = CANARY
    connection.name = CANARY
    connection.config = {"url_host": CANARY, CANARY: 1}
    db.add(entry(world.a.tenant, "interface.pause", datetime.now(UTC), note=CANARY))
    await add_token(db, world.operator)
    token_row = (
        (await db.execute(select(ApiToken).where(ApiToken.user_id == world.operator.id)))
        .scalars()
        .first()
    )
    assert token_row is not None
    token_row.name = CANARY
    await db.commit()
    await sign_in(client, world.operator.email)
    pages = [
        "/ui/tenants",
        "/ui/users",
        "/ui/tokens",
        "/ui/connections",
        f"/ui/connections/{world.a.source.id}",
        "/ui/audit",
    ]
    for path in pages:
        response = await client.get(path)
        assert response.status_code == 200, path
        assert_escaped(response.text)
    operator_token = csrf_from((await client.get("/ui/tokens")).text)
    created = await client.post(
        "/ui/tokens", data={"csrf_token": operator_token, "name": CANARY, "expires_in_days": ""}
    )
    assert_escaped(created.text)
