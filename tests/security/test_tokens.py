"""API tokens: shown once, stored hashed, last use recorded, revocable, expiring."""

from __future__ import annotations

from datetime import timedelta

import httpx
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.credentials import sha256_hex
from app.models import ApiToken
from app.models.base import utcnow
from tests.factories import World, bearer
from tests.ui_session import sign_in


async def issue(client: httpx.AsyncClient, token: str, name: str = "script") -> dict[str, str]:
    response = await client.post("/api/v1/tokens", headers=bearer(token), json={"name": name})
    assert response.status_code == 201, response.text
    body: dict[str, str] = response.json()
    return body


async def test_token_value_is_shown_once_and_stored_hashed(
    client: httpx.AsyncClient, world: World, db: AsyncSession
) -> None:
    issued = await issue(client, world.a.admin_token)
    value = issued["token"]
    assert value.startswith("hsy_")
    assert len(value) > 40
    listed = (await client.get("/api/v1/tokens", headers=bearer(world.a.admin_token))).json()
    assert all("token" not in row for row in listed)
    assert value not in str(listed)
    row = (await db.execute(select(ApiToken).where(ApiToken.name == "script"))).scalar_one()
    assert row.token_hash == sha256_hex(value)
    assert value not in (row.prefix, row.token_hash)


async def test_new_token_works_and_records_last_use(
    client: httpx.AsyncClient, world: World, db: AsyncSession
) -> None:
    value = (await issue(client, world.a.admin_token))["token"]
    response = await client.get("/api/v1/me", headers=bearer(value))
    assert response.status_code == 200
    assert response.json()["email"] == world.a.admin.email
    row = (await db.execute(select(ApiToken).where(ApiToken.name == "script"))).scalar_one()
    assert row.last_used_at is not None


async def test_revoked_token_is_refused(client: httpx.AsyncClient, world: World) -> None:
    issued = await issue(client, world.a.admin_token)
    revoke = await client.delete(f"/api/v1/tokens/{issued['id']}", headers=bearer(issued["token"]))
    assert revoke.status_code == 200
    response = await client.get("/api/v1/me", headers=bearer(issued["token"]))
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


async def test_expired_token_is_refused(
    client: httpx.AsyncClient, world: World, db: AsyncSession
) -> None:
    issued = await issue(client, world.a.admin_token)
    await db.execute(
        update(ApiToken)
        .where(ApiToken.name == "script")
        .values(expires_at=utcnow() - timedelta(seconds=1))
    )
    await db.commit()
    assert (await client.get("/api/v1/me", headers=bearer(issued["token"]))).status_code == 401


async def test_expiry_in_the_past_is_refused_at_creation(
    client: httpx.AsyncClient, world: World
) -> None:
    response = await client.post(
        "/api/v1/tokens",
        headers=bearer(world.a.admin_token),
        json={"name": "old", "expires_at": (utcnow() - timedelta(days=1)).isoformat()},
    )
    assert response.status_code == 422


async def test_someone_elses_token_cannot_be_revoked(
    client: httpx.AsyncClient, world: World
) -> None:
    issued = await issue(client, world.a.admin_token)
    response = await client.delete(
        f"/api/v1/tokens/{issued['id']}", headers=bearer(world.a.viewer_token)
    )
    assert response.status_code == 404
    assert (await client.get("/api/v1/me", headers=bearer(issued["token"]))).status_code == 200


async def test_unknown_and_malformed_tokens_are_refused(client: httpx.AsyncClient) -> None:
    for headers in (
        {},
        {"Authorization": "Bearer hsy_unknown"},
        {"Authorization": "Basic x"},
        {"Authorization": "Bearer "},
    ):
        assert (await client.get("/api/v1/me", headers=headers)).status_code == 401


async def test_api_refuses_a_session_cookie(client: httpx.AsyncClient, world: World) -> None:
    await sign_in(client, world.a.admin.email)
    assert (await client.get("/ui/")).status_code == 200
    assert (await client.get("/api/v1/me")).status_code == 401


async def test_viewer_cannot_create_users(client: httpx.AsyncClient, world: World) -> None:
    response = await client.post(
        "/api/v1/users",
        headers=bearer(world.a.viewer_token),
        json={"email": "x@example.com", "password": "a long enough password", "role": "viewer"},
    )
    assert response.status_code == 403
